// SPDX-License-Identifier: MIT
// What FileLock and the range locks (RecordLock, OfdLock: detail::RangeLock) share: opening the
// lock file, the polling fallback for deadlines the kernel cannot express, and the Lockable
// helpers. Private to the library.
#pragma once

#include "ipckit/core/deadline.hpp"
#include "ipckit/core/open_mode.hpp"
#include "ipckit/core/result.hpp"
#include "ipckit/core/unique_fd.hpp"

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>

namespace ipckit::detail {

/// open(path, O_RDWR | O_CLOEXEC | creation flags).
Result<UniqueFd> open_lock_file(const std::string& path, OpenMode mode, Permissions permissions);

/// Polls `attempt` (Result<bool>, true = acquired) until it succeeds or `deadline` passes, backing
/// off from 50 us to 10 ms. Used where the kernel has no timed lock call (flock, F_SETLKW).
template <class F>
Result<bool> poll_with_backoff(Deadline deadline, F&& attempt) {
    auto pause = std::chrono::microseconds(50);
    for (;;) {
        Result<bool> r = attempt();
        if (!r || *r) {
            return r;
        }
        if (deadline.expired()) {
            return false;
        }
        std::this_thread::sleep_for(
            std::min<std::chrono::nanoseconds>(pause, deadline.remaining()));
        pause = std::min(pause * 2, std::chrono::microseconds(10'000));
    }
}

/// Throws ResultError if `r` failed (for the Lockable members only).
inline void throw_if_error(const Result<void>& r) {
    r.value();
}
inline bool value_or_throw(const Result<bool>& r) {
    return r.value();
}

}  // namespace ipckit::detail
