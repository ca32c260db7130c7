// SPDX-License-Identifier: MIT
#include "ipckit/core/deadline.hpp"

#include <climits>
#include <string>

namespace ipckit {

namespace {

constexpr std::int64_t kNanosPerSecond = 1'000'000'000;

timespec to_timespec(std::chrono::nanoseconds ns) noexcept {
    const auto count = ns.count();
    return timespec{static_cast<time_t>(count / kNanosPerSecond),
                    static_cast<long>(count % kNanosPerSecond)};
}

// The largest time the kernel accepts without overflowing (KTIME_MAX is ~292 years).
constexpr timespec kFarFuture{static_cast<time_t>(INT64_MAX / kNanosPerSecond) - 1, 0};

timespec add_saturating(const timespec& base, std::chrono::nanoseconds delta) noexcept {
    const timespec d = to_timespec(delta);
    if (base.tv_sec > kFarFuture.tv_sec - d.tv_sec - 1) {
        return kFarFuture;
    }
    timespec out{base.tv_sec + d.tv_sec, base.tv_nsec + d.tv_nsec};
    if (out.tv_nsec >= kNanosPerSecond) {
        out.tv_sec += 1;
        out.tv_nsec -= kNanosPerSecond;
    }
    return out;
}

}  // namespace

Deadline Deadline::after_ns(std::chrono::nanoseconds timeout) noexcept {
    const auto now = Clock::now();
    if (timeout <= std::chrono::nanoseconds::zero()) {
        return Deadline(now);
    }
    // Saturate instead of overflowing: time_point::max() - now is the headroom left.
    if (timeout >= Clock::time_point::max() - now) {
        return never();
    }
    return Deadline(now + std::chrono::duration_cast<Clock::duration>(timeout));
}

std::chrono::nanoseconds Deadline::remaining() const noexcept {
    if (is_never()) {
        return std::chrono::nanoseconds::max();
    }
    const auto left = when_ - Clock::now();
    return left > Clock::duration::zero() ? std::chrono::duration_cast<std::chrono::nanoseconds>(left)
                                          : std::chrono::nanoseconds::zero();
}

timespec Deadline::to_monotonic_timespec() const noexcept {
    if (is_never()) {
        return kFarFuture;
    }
    return to_timespec(when_.time_since_epoch());
}

timespec Deadline::to_realtime_timespec() const noexcept {
    timespec now{};
    ::clock_gettime(CLOCK_REALTIME, &now);
    if (is_never()) {
        return kFarFuture;
    }
    return add_saturating(now, remaining());
}

timespec Deadline::to_relative_timespec() const noexcept {
    if (is_never()) {
        return kFarFuture;
    }
    return to_timespec(remaining());
}

int Deadline::to_poll_timeout_ms() const noexcept {
    if (is_never()) {
        return -1;
    }
    const auto ns = remaining().count();
    const auto ms = (ns + 999'999) / 1'000'000;  // round up: never wake before the deadline
    return ms > INT_MAX ? INT_MAX : static_cast<int>(ms);
}

Result<Deadline> deadline_from_realtime_timespec(const timespec& ts) {
    if (ts.tv_nsec < 0 || ts.tv_nsec >= kNanosPerSecond) {
        return Error(std::errc::invalid_argument,
                     "deadline",
                     {},
                     "tv_nsec " + std::to_string(ts.tv_nsec) + " is outside [0, 999999999]");
    }
    if (ts.tv_sec < 0) {
        return Error(std::errc::invalid_argument,
                     "deadline",
                     {},
                     "tv_sec " + std::to_string(ts.tv_sec) + " is negative");
    }
    timespec now{};
    ::clock_gettime(CLOCK_REALTIME, &now);
    const std::int64_t delta_s = static_cast<std::int64_t>(ts.tv_sec) - now.tv_sec;
    if (delta_s > INT64_MAX / kNanosPerSecond - 2) {
        return Deadline::never();
    }
    const auto delta = std::chrono::nanoseconds(delta_s * kNanosPerSecond + (ts.tv_nsec - now.tv_nsec));
    return Deadline::after(delta);
}

}  // namespace ipckit
