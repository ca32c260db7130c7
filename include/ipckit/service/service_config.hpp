// SPDX-License-Identifier: MIT
// Parameters of a request/reply service (srv:NAME), chosen by the server at creation.
#pragma once

#include "ipckit/channel/channel_config.hpp"
#include "ipckit/export.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace ipckit {

/// Sizes of a service. The server writes them into its record; clients size their response
/// channel from the record, never from their own guess.
struct IPCKIT_API ServiceConfig {
    std::size_t max_request_size = 4096;   ///< largest request payload, bytes
    std::size_t max_response_size = 4096;  ///< largest response payload, bytes
    std::uint32_t max_clients = 8;         ///< clients connected at once (request lanes)
    /// How long respond() may wait for a live client that does not read its responses, at most
    /// (the request's own deadline is used when it is earlier).
    std::chrono::milliseconds response_wait{1000};
    ChannelOptions options{};  ///< directory, ownership, spin before sleeping
};

}  // namespace ipckit
