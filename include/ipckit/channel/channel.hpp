// SPDX-License-Identifier: MIT
// Channel: the channel file as a whole: create, remove, inspect, list, clean up dead participants.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ipckit/channel/channel_config.hpp"
#include "ipckit/core/result.hpp"
#include "ipckit/export.hpp"

namespace ipckit {

/// One publisher or subscriber record as seen by an inspector.
struct IPCKIT_API ChannelParticipantInfo {
    std::uint32_t index = 0;   ///< record number (publisher lane / subscriber slot)
    pid_t pid = 0;             ///< pid recorded by the owner (informational only)
    bool alive = false;        ///< the owner's OFD lock is held (a stopped process is alive)
    std::uint64_t messages = 0;  ///< published (publisher) or received (subscriber)
    std::uint64_t lost = 0;      ///< subscriber: messages lost to overwrite or dead publishers
    std::uint64_t corrupt = 0;   ///< subscriber: corrupt records skipped
    std::uint64_t depth = 0;     ///< subscriber: unread/held bytes on its fullest lane
};

/// One work-queue group (GroupConsumer) as seen by an inspector.
struct IPCKIT_API ChannelGroupInfo {
    std::string name;
    bool at_most_once = false;
    std::uint32_t consumers = 0;       ///< live consumers
    std::uint32_t dead_consumers = 0;  ///< records of dead consumers not yet reclaimed
    std::uint64_t received = 0;        ///< taken by the consumers whose records are in use
    std::uint64_t in_flight = 0;       ///< messages held (or waiting to be redelivered)
    std::uint64_t redelivered = 0;
    std::uint64_t lost = 0;
    std::uint64_t corrupt = 0;
    std::vector<std::uint64_t> claims;   ///< per lane in use: the group's claim position
    std::vector<std::uint64_t> backlog;  ///< per lane in use: bytes published, not yet claimed
};

/// What `ipckit ls/stat` shows about a channel.
struct IPCKIT_API ChannelInfo {
    std::string name;
    std::string path;
    ChannelPolicy policy = ChannelPolicy::Block;
    std::uint64_t lane_bytes = 0;   ///< capacity of each publisher's ring
    std::uint64_t max_message_size = 0;
    std::uint32_t max_publishers = 0;
    std::uint32_t max_subscribers = 0;
    std::uint32_t max_loans = 0;
    std::uint64_t file_size = 0;
    std::vector<ChannelParticipantInfo> publishers;   ///< records in use (alive or dead)
    std::vector<ChannelParticipantInfo> subscribers;  ///< records in use (alive or dead)
    std::vector<ChannelGroupInfo> groups;             ///< work-queue groups
};

/// Static operations on channel files. Participants are Publisher and Subscriber.
///
/// Names are `NAME` or `chan:NAME` with NAME of [A-Za-z0-9._-], 1..200 characters, not starting
/// with '.'; the file is `<dir>/NAME.chan`. Thread-safe (no state).
///
/// @code
///   auto info = Channel::inspect("chan:prices").value();
///   for (auto& s : info.subscribers) std::printf("%d %s\n", s.pid, s.alive ? "alive" : "dead");
/// @endcode
class IPCKIT_API Channel {
public:
    /// Creates the channel file (exclusive, initialised before it becomes visible as ready).
    static Result<void> create(std::string_view name, const ChannelConfig& config);
    /// Unlinks the channel file. Participants keep working on their mapping until they notice.
    static Result<void> remove(std::string_view name, const ChannelOptions& options = {});
    /// Header and participants of one channel.
    static Result<ChannelInfo> inspect(std::string_view name, const ChannelOptions& options = {});
    /// Every channel in the directory (files named *.chan that open cleanly; others are skipped).
    static Result<std::vector<ChannelInfo>> list(const ChannelOptions& options = {});
    /// Frees the records of dead participants; returns how many were freed. Safe to run
    /// concurrently from many processes (each record is cleaned under its lock, exactly once).
    static Result<std::uint32_t> cleanup_dead(std::string_view name,
                                              const ChannelOptions& options = {});
    /// Validates a name (A22) without touching the file system.
    static Result<std::string> validate_name(std::string_view name);
};

}  // namespace ipckit
