// SPDX-License-Identifier: MIT
// The doorbell table: how a WaitSet asks the writers of a shared-memory object (channel
// publishers, event notifiers) to wake it through a socket instead of a futex
// (docs/design/patterns.md, "The WaitSet and the doorbell"). Everything here lives in shared
// memory that other processes may write: read each field once, trust nothing.
#pragma once

#include "ipckit/core/result.hpp"
#include "ipckit/core/unique_fd.hpp"

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace ipckit::detail {

inline constexpr std::uint32_t kDoorbellSlots = 32;  // one bit each in `armed`

struct DoorbellSlot {
    std::atomic<std::uint64_t> token;    // 0: free; else the owning WaitSet's random token
    std::atomic<std::uint64_t> addr[2];  // the owner's abstract socket name (16 random bytes)
    std::atomic<std::uint64_t> reserved;
};
static_assert(sizeof(DoorbellSlot) == 32);

// The padding is the point: `armed` (loaded after every commit) gets its own cache line.
struct DoorbellTable {  // NOLINT(clang-analyzer-optin.performance.Padding)
    alignas(64) std::atomic<std::uint32_t> armed;  // bit i: slot i wants one ring
    alignas(64) DoorbellSlot slots[kDoorbellSlots];

    /// Slot `i` (< kDoorbellSlots: every caller loops over the slots or holds a claimed index).
    DoorbellSlot& slot(std::uint32_t i) noexcept {
        // NOLINTNEXTLINE(cppcoreguidelines-pro-bounds-constant-array-index): i < kDoorbellSlots
        return slots[i % kDoorbellSlots];
    }
};
inline constexpr std::size_t kDoorbellTableBytes = 64 + kDoorbellSlots * sizeof(DoorbellSlot);
static_assert(sizeof(DoorbellTable) == kDoorbellTableBytes);

/// Where the table sits in a channel file: the unused second half of its 4 KiB header.
inline constexpr std::size_t kChannelDoorbellOffset = 2048;

/// The abstract socket address of 16 name bytes: "\0ipckit-bell-" + 32 hex digits.
inline constexpr std::size_t kDoorbellNameBytes = 16;

/// Called by a writer after its commit and a full fence (the Dekker pair with the WaitSet's arm,
/// fence, re-check). Nobody armed: one relaxed load. Else takes the armed mask and sends one byte
/// with MSG_DONTWAIT to each armed slot's address; every error is ignored (a forged address costs
/// one datagram to somewhere harmless, a full doorbell is already ringing).
inline void ring_doorbells(DoorbellTable& t) noexcept;
void ring_doorbells_slow(DoorbellTable& t) noexcept;

inline void ring_doorbells(DoorbellTable& t) noexcept {
    if (t.armed.load(std::memory_order_relaxed) != 0) [[unlikely]] {
        ring_doorbells_slow(t);
    }
}

/// The doorbell table of a mapping that starts at `base` and holds it at `offset`.
inline DoorbellTable& doorbell_table_at(void* base, std::size_t offset) noexcept {
    return *reinterpret_cast<DoorbellTable*>(static_cast<std::byte*>(base) + offset);  // NOLINT
}

/// A WaitSet's side: the bound datagram socket the writers ring, and its slots in tables.
class Doorbell {
public:
    /// A non-blocking, close-on-exec Unix datagram socket bound to a fresh random abstract name.
    static Result<Doorbell> create();
    [[nodiscard]] int fd() const noexcept { return fd_.get(); }
    /// Takes a free slot of `t` (or one whose owner's socket is gone) and writes our address in
    /// it. errc::device_or_resource_busy when all kDoorbellSlots are held by live WaitSets.
    Result<std::uint32_t> claim(DoorbellTable& t, const std::string& object) const;
    /// Gives back a slot taken by claim() (if it is still ours: a peer may have scribbled it).
    void release(DoorbellTable& t, std::uint32_t slot) const noexcept;
    /// Asks for one ring: false if the slot is no longer ours (forged or taken over), then the
    /// caller claims again. The caller fences and re-checks readiness after arming.
    [[nodiscard]] bool arm(DoorbellTable& t, std::uint32_t slot) const noexcept;
    /// Reads every pending byte (MSG_DONTWAIT); returns how many datagrams it read.
    [[nodiscard]] std::uint32_t drain() const noexcept;
    /// The abstract name (without the leading NUL), for messages and tests.
    [[nodiscard]] std::string name() const;

private:
    Doorbell() = default;
    UniqueFd fd_;
    std::array<std::uint64_t, 2> addr_{};
    std::uint64_t token_ = 0;
};

}  // namespace ipckit::detail
