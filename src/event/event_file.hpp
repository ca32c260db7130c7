// SPDX-License-Identifier: MIT
// The bytes of an event file and EventImpl, the one open file description + mapping behind an
// EventNotifier or EventListener (docs/design/patterns.md, "Events"). Everything in the file may
// be written by another same-uid process: read each field once into a local and check it.
#pragma once

#include "event/doorbell.hpp"
#include "ipckit/core/mapping.hpp"
#include "ipckit/core/result.hpp"
#include "ipckit/core/unique_fd.hpp"
#include "ipckit/event/event.hpp"
#include "shm/sigbus_guard.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ipckit::detail {

inline constexpr std::uint64_t kEventMagic = 0x544e5645'544b5049ULL;  // "IPKTEVNT" little-endian
inline constexpr std::uint32_t kEventLayoutVersion = 1;               // bump on any change below
// The header's first 128 bytes, then the doorbell table (event/doorbell.hpp), then the counters.
inline constexpr std::size_t kEventDoorbellOffset = 128;
inline constexpr std::size_t kEventHeaderBytes = 1280;
inline constexpr std::size_t kCounterBytes = 64;  // one cache line per counter
inline constexpr std::string_view kEventSuffix = ".event";

using EventA32 = std::atomic<std::uint32_t>;
using EventA64 = std::atomic<std::uint64_t>;
static_assert(EventA32::is_always_lock_free && EventA64::is_always_lock_free);

// The padding is the point: the futex word and the sleeper count get their own cache line.
struct EventHeader {  // NOLINT(clang-analyzer-optin.performance.Padding)
    EventA64 magic;   // written last, with release, when the file is initialised
    EventA32 layout_version;
    EventA32 layout_hash;
    EventA64 file_size;
    EventA32 max_ids;
    EventA32 creator_pid;
    alignas(64) EventA32 seq;  // futex: bumped by a notifier that sees sleepers
    EventA32 sleepers;         // listeners about to sleep or asleep on `seq`
};
static_assert(sizeof(EventHeader) <= kEventDoorbellOffset);
static_assert(kEventDoorbellOffset + kDoorbellTableBytes <= kEventHeaderBytes);

constexpr std::uint32_t event_layout_hash() noexcept {
    std::uint32_t h = 2166136261U;
    for (std::uint64_t v : {sizeof(EventHeader),
                            alignof(EventHeader),
                            kEventHeaderBytes,
                            kCounterBytes,
                            sizeof(void*)}) {
        h = (h ^ static_cast<std::uint32_t>(v)) * 16777619U;
    }
    return h;
}

/// The file size for `max_ids` counters (whole pages).
std::uint64_t event_file_size(std::uint32_t max_ids) noexcept;

struct EventImpl {
    UniqueFd fd;
    Mapping map;
    // After the mapping: the guard stops watching before the mapping is unmapped.
    detail::SigbusGuard guard;
    std::string name;
    // Fixed at open from the validated header, never re-read.
    std::uint32_t max_ids = 0;
    std::uint64_t file_size = 0;
    // Listener: the value last seen per id (local memory only) and the counters seen going back.
    std::vector<std::uint64_t> seen;
    std::uint64_t corrupt = 0;

    static Result<std::unique_ptr<EventImpl>> create(std::string_view name,
                                                     const EventConfig& config);
    static Result<std::unique_ptr<EventImpl>> open(std::string_view name,
                                                   const EventOptions& options);

    [[nodiscard]] EventHeader& header() const noexcept {
        return *reinterpret_cast<EventHeader*>(base());  // NOLINT
    }
    [[nodiscard]] DoorbellTable& doorbells() const noexcept {
        return doorbell_table_at(base(), kEventDoorbellOffset);
    }
    [[nodiscard]] EventA64& counter(std::uint32_t id) const noexcept {
        return *reinterpret_cast<EventA64*>(base() + kEventHeaderBytes +  // NOLINT
                                            std::uint64_t{id} * kCounterBytes);
    }
    /// Error if a SIGBUS hit the mapping or the magic/version were overwritten (hot path: no
    /// system call).
    [[nodiscard]] Result<void> check_usable(const char* op) const;
    /// check_usable plus fstat: the file was removed or truncated under us.
    [[nodiscard]] Result<void> check_intact(const char* op) const;
    [[nodiscard]] std::string object() const { return "event:" + name; }

private:
    [[nodiscard]] std::byte* base() const noexcept {
        return const_cast<std::byte*>(map.data());  // NOLINT
    }
};

/// "NAME" from "NAME" or "event:NAME", validated as a channel name.
Result<std::string> validate_event_name(std::string_view name);

}  // namespace ipckit::detail
