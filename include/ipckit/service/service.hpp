// SPDX-License-Identifier: MIT
// Service: the files of a request/reply service (srv:NAME) as a whole: name rules, removal.
#pragma once

#include "ipckit/channel/channel_config.hpp"
#include "ipckit/core/result.hpp"
#include "ipckit/export.hpp"

#include <string>
#include <string_view>

namespace ipckit {

/// Static operations on services. Names are `NAME` or `srv:NAME`, NAME as a channel name
/// (A22) of at most 180 characters; the files are `<dir>/NAME.srv`, channels `NAME.srv-req` and
/// `NAME.srv-rsp<L>`.
class IPCKIT_API Service {
public:
    /// Deletes the record and every channel of the service (missing files are fine).
    static Result<void> remove(std::string_view name, const ChannelOptions& options = {});
    /// "NAME" from "NAME" or "srv:NAME", validated.
    static Result<std::string> validate_name(std::string_view name);
};

}  // namespace ipckit
