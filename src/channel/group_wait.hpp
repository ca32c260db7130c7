// SPDX-License-Identifier: MIT
// Private: what a WaitSet needs from a GroupConsumer (docs/design/patterns.md, "The WaitSet and
// the doorbell"): its channel file, readiness by plain loads, and the look before sleeping.
#pragma once

#include "ipckit/core/result.hpp"

namespace ipckit::detail {

struct GroupConsumerImpl;
class ChannelFile;

[[nodiscard]] ChannelFile& group_file(GroupConsumerImpl& g) noexcept;
/// True when an adopted message is pending or some lane's tail differs from the group's claim
/// (a message may be claimed). Loads only; may be spurious (another member claims first, or a
/// claim briefly ahead of a tail not yet stored), never misses a committed message.
[[nodiscard]] bool group_ready(const GroupConsumerImpl& g) noexcept;
/// Before a WaitSet sleeps, as the consumer's own sleep: adopts (or drops) what dead members
/// of the group held, and lets our acknowledgements reach a publisher waiting for space.
Result<void> group_before_sleep(GroupConsumerImpl& g);

}  // namespace ipckit::detail
