// SPDX-License-Identifier: MIT
// Parameters of a channel (chosen at creation) and of joining one (per participant).
#pragma once

#include "ipckit/core/open_mode.hpp"
#include "ipckit/core/ownership.hpp"
#include "ipckit/export.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace ipckit {

/// What a publisher does when the slowest live subscriber has not consumed enough.
enum class ChannelPolicy : std::uint32_t {
    Block = 0,      ///< lossless: the publisher waits (with a deadline) for space
    Overwrite = 1,  ///< lossy: the publisher never waits; a lapped subscriber is told how many it lost
};

/// How to find a channel file and how a participant joins. Shared by create and open.
struct IPCKIT_API ChannelOptions {
    /// Directory of the channel files. Empty: $IPCKIT_SHM_DIR, else /dev/shm. Must be absolute,
    /// owned by the caller or root, and not writable by others unless sticky.
    std::string dir;
    /// How long open() waits for a channel that another process is still initialising.
    std::chrono::milliseconds init_wait{2000};
    /// Accept a channel file that is group- or world-writable (refused by default: D15).
    bool allow_shared_write = false;
    /// Whose channel files open() accepts: by default only the caller's own (is_untrusted_owner
    /// otherwise: a squatter's channel, D14/D17).
    Ownership ownership;
    /// Polls of the adaptive spin before a waiter sleeps on the futex (0: sleep at once).
    std::uint32_t spin_polls = 256;
};

/// Creation parameters. Every participant must agree with them; open_or_create reports the first
/// field that differs.
struct IPCKIT_API ChannelConfig {
    ChannelPolicy policy = ChannelPolicy::Block;
    /// Bytes of each publisher's ring (its "lane"); a power of two, a multiple of the page size and
    /// at least 2 x (max_message_size + 16). Memory used: max_publishers x lane_bytes + tables.
    std::size_t lane_bytes = std::size_t{256} * 1024;
    /// Largest message, in bytes. Messages take only their own size (rounded up to 16) in the ring.
    std::size_t max_message_size = std::size_t{64} * 1024;
    std::uint32_t max_publishers = 4;
    std::uint32_t max_subscribers = 16;
    /// Zero-copy samples one subscriber may hold at once (D12).
    std::uint32_t max_loans = 4;
    /// Work-queue groups the channel can hold (GroupConsumer), 0..256, and consumers per group.
    std::uint32_t max_groups = 4;
    std::uint32_t max_group_members = 8;
    Permissions permissions{};  ///< default 0600
    ChannelOptions options{};
};

}  // namespace ipckit
