// SPDX-License-Identifier: MIT
// EventFd: a 64-bit kernel counter behind a file descriptor (eventfd(2)).
#pragma once

#include "ipckit/core/deadline.hpp"
#include "ipckit/core/result.hpp"
#include "ipckit/core/unique_fd.hpp"
#include "ipckit/export.hpp"

#include <chrono>
#include <cstdint>
#include <optional>

namespace ipckit {

/// How read() consumes the counter.
enum class EventFdMode {
    Counter,    ///< read returns the whole count and resets it to 0
    Semaphore,  ///< EFD_SEMAPHORE: read returns 1 and decrements by 1
};

/// An eventfd: write adds to a counter, read takes from it; poll/epoll-able, so it also serves as
/// a wake-up for event loops.
///
/// The descriptor is always O_NONBLOCK and O_CLOEXEC: try_* never block, and the blocking calls
/// wait in poll(2) with a Deadline (eventfd itself has no timed read). Ownership: the handle owns
/// the descriptor. Fork: a child inherits it (the same counter), exec closes it.
/// Thread-safety: all operations are safe concurrently.
/// Limits (F21, B32): the counter holds at most kMaxValue (2^64-2); a write that would pass it
/// blocks (try_write returns false); writing 2^64-1 is errc::invalid_argument.
///
/// @code
///   auto ev = EventFd::create().value();
///   ev.write(3).value();
///   std::uint64_t n = ev.read().value();   // 3 in Counter mode
/// @endcode
class IPCKIT_API EventFd {
public:
    static constexpr std::uint64_t kMaxValue = 0xfffffffffffffffeULL;

    static Result<EventFd> create(unsigned int initial = 0,
                                  EventFdMode mode = EventFdMode::Counter);
    /// Adopts an eventfd descriptor received from elsewhere (e.g. SCM_RIGHTS); it is switched to
    /// non-blocking.
    static Result<EventFd> adopt(UniqueFd fd, EventFdMode mode);

    /// Adds `value`, waiting while it would overflow. errc::invalid_argument for 2^64-1.
    Result<void> write(std::uint64_t value);
    /// Adds `value` unless that would overflow; false = would block.
    Result<bool> try_write(std::uint64_t value);
    /// Adds `value`, waiting at most until `deadline`; false = timed out.
    Result<bool> write_until(std::uint64_t value, Deadline deadline);

    /// Waits for a non-zero counter and takes it (Counter) or 1 (Semaphore).
    Result<std::uint64_t> read();
    /// Empty = the counter is 0.
    Result<std::optional<std::uint64_t>> try_read();
    /// Empty = timed out.
    Result<std::optional<std::uint64_t>> read_until(Deadline deadline);
    template <class Rep, class Period>
    Result<std::optional<std::uint64_t>> read_for(std::chrono::duration<Rep, Period> timeout) {
        return read_until(Deadline::after(timeout));
    }

    [[nodiscard]] EventFdMode mode() const noexcept { return mode_; }
    [[nodiscard]] int native_handle() const noexcept { return fd_.get(); }

private:
    EventFd(UniqueFd fd, EventFdMode mode) noexcept : fd_(std::move(fd)), mode_(mode) {}
    UniqueFd fd_;
    EventFdMode mode_;
};

}  // namespace ipckit
