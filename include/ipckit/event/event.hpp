// SPDX-License-Identifier: MIT
// Event: a named set of counters in one shared file (`<dir>/NAME.event`), notified by Notifiers
// and watched by Listeners; an id and a count, no payload (docs/design/patterns.md, "Events").
#pragma once

#include "ipckit/export.hpp"
#include "ipckit/core/open_mode.hpp"
#include "ipckit/core/ownership.hpp"
#include "ipckit/core/result.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ipckit {

/// How to find an event file and whose files to accept. Shared by create and open.
struct IPCKIT_API EventOptions {
    /// Directory of the event files. Empty: $IPCKIT_SHM_DIR, else /dev/shm (the channel's rules:
    /// absolute, owned by the caller or root, not writable by others unless sticky).
    std::string dir;
    /// How long open() waits for an event file another process is still initialising.
    std::chrono::milliseconds init_wait{2000};
    /// Accept a group- or world-writable event file (refused by default, as for channels).
    bool allow_shared_write = false;
    /// Whose event files open() accepts: by default only the caller's own.
    Ownership ownership;
};

/// Creation parameters.
struct IPCKIT_API EventConfig {
    /// Number of ids (counters), 1..kMaxIds; each takes one cache line.
    std::uint32_t max_ids = 64;
    Permissions permissions{};  ///< default 0600
    EventOptions options{};
};

/// One id whose counter moved since the listener's last look, and by how much.
struct IPCKIT_API EventCount {
    std::uint32_t id = 0;
    std::uint64_t count = 0;
    friend bool operator==(const EventCount&, const EventCount&) = default;
};

/// What Event::inspect read from an event file (`ipckit stat event:NAME`).
struct IPCKIT_API EventInfo {
    std::string name;
    std::uint32_t max_ids = 0;
    std::uint32_t creator_pid = 0;
    /// Listeners asleep in wait() (one too high for each listener SIGKILLed asleep).
    std::uint32_t sleepers = 0;
    /// Doorbell slots held by WaitSets (a SIGKILLed WaitSet's slot until it is taken over).
    std::uint32_t doorbells = 0;
    /// The ids whose counter is not zero, in id order, with their value.
    std::vector<EventCount> counters;
};

/// Static operations on event files. Names are `NAME` or `event:NAME`, NAME as a channel name
/// ([A-Za-z0-9._-], 1..200, not starting with '.'). Thread-safe (no state).
class IPCKIT_API Event {
public:
    static constexpr std::uint32_t kMaxIds = 4096;
    /// Creates the event file (exclusive: errc::file_exists when the name is taken).
    static Result<void> create(std::string_view name, const EventConfig& config = {});
    /// Unlinks the event file. Open notifiers and listeners keep their mapping; a waiting
    /// listener notices within one slice (errc::identifier_removed).
    static Result<void> remove(std::string_view name, const EventOptions& options = {});
    /// Reads the header, the doorbell table and every counter (checked as open() checks them).
    static Result<EventInfo> inspect(std::string_view name, const EventOptions& options = {});
};

}  // namespace ipckit
