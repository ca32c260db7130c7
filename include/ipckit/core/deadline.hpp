// SPDX-License-Identifier: MIT
// Deadline: an absolute point on CLOCK_MONOTONIC that every blocking call in ipckit takes.
#pragma once

#include <time.h>

#include <chrono>
#include <cstdint>

#include "ipckit/core/result.hpp"
#include "ipckit/export.hpp"

namespace ipckit {

/// An absolute deadline on the monotonic clock (std::chrono::steady_clock is CLOCK_MONOTONIC on
/// Linux). Relative timeouts become deadlines once, at the start of a call, so EINTR retries and
/// spurious wake-ups wait only for the *remaining* time. Huge timeouts saturate to never().
///
/// Kernel APIs that only accept CLOCK_REALTIME (mq_timedreceive, sem_timedwait) get
/// to_realtime_timespec(), which re-derives a wall-clock deadline from the remaining time; callers
/// re-arm in slices so a wall-clock jump cannot stretch a wait (see kRealtimeSlice).
class IPCKIT_API Deadline {
public:
    using Clock = std::chrono::steady_clock;

    /// The wait never times out.
    static constexpr Deadline never() noexcept { return Deadline(Clock::time_point::max()); }
    /// Already expired: the call polls once and does not block.
    static Deadline now() noexcept { return Deadline(Clock::now()); }
    /// `timeout` from now; negative means now(); anything past the clock's range (hours(1e6),
    /// nanoseconds::max()) saturates to never() instead of overflowing in the conversion.
    template <class Rep, class Period>
    static Deadline after(std::chrono::duration<Rep, Period> timeout) noexcept {
        using Source = std::chrono::duration<Rep, Period>;
        if (timeout >= std::chrono::duration_cast<Source>(std::chrono::nanoseconds::max())) {
            return never();
        }
        return after_ns(std::chrono::duration_cast<std::chrono::nanoseconds>(timeout));
    }
    static constexpr Deadline at(Clock::time_point tp) noexcept { return Deadline(tp); }

    [[nodiscard]] constexpr bool is_never() const noexcept {
        return when_ == Clock::time_point::max();
    }
    [[nodiscard]] bool expired() const noexcept { return !is_never() && Clock::now() >= when_; }
    /// Time left, clamped at zero; nanoseconds::max() for never().
    [[nodiscard]] std::chrono::nanoseconds remaining() const noexcept;
    [[nodiscard]] constexpr Clock::time_point time_point() const noexcept { return when_; }

    /// Absolute CLOCK_MONOTONIC timespec (for sem_clockwait, pthread_cond_clockwait,
    /// FUTEX_WAIT_BITSET, ...). never() maps to the largest representable time.
    [[nodiscard]] timespec to_monotonic_timespec() const noexcept;
    /// Absolute CLOCK_REALTIME timespec for the same remaining time (mq_timedreceive, semtimedop
    /// is relative: use to_relative_timespec). The result is always normalised (0 <= nsec < 1e9).
    [[nodiscard]] timespec to_realtime_timespec() const noexcept;
    /// Remaining time as a relative timespec (semtimedop, FUTEX_WAIT, ppoll).
    [[nodiscard]] timespec to_relative_timespec() const noexcept;
    /// Remaining time in milliseconds for poll(2)/epoll_wait(2): rounded *up* so a poll never
    /// returns before the deadline; -1 for never(); clamped to INT_MAX.
    [[nodiscard]] int to_poll_timeout_ms() const noexcept;

    /// The longest slice a REALTIME-clock wait is armed for before re-checking this deadline.
    static constexpr std::chrono::milliseconds kRealtimeSlice{200};

    friend constexpr bool operator==(Deadline a, Deadline b) noexcept { return a.when_ == b.when_; }
    friend constexpr bool operator<(Deadline a, Deadline b) noexcept { return a.when_ < b.when_; }

private:
    static Deadline after_ns(std::chrono::nanoseconds timeout) noexcept;
    constexpr explicit Deadline(Clock::time_point when) noexcept : when_(when) {}
    Clock::time_point when_;
};

/// Converts a timespec the user handed in (a raw absolute CLOCK_REALTIME deadline) into a
/// Deadline, refusing malformed values (tv_nsec outside [0, 1e9), negative seconds) instead of
/// passing them to the kernel, which skips the check when the call would not block (F5).
/// Fails with errc::invalid_argument naming the bad field.
IPCKIT_API Result<Deadline> deadline_from_realtime_timespec(const timespec& ts);

}  // namespace ipckit
