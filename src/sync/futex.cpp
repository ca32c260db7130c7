// SPDX-License-Identifier: MIT
#include "ipckit/sync/futex.hpp"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>

#include "sys/syscall.hpp"

namespace ipckit {

namespace {
long futex(const std::atomic<std::uint32_t>& word, int op, std::uint32_t val, const timespec* ts,
           std::uint32_t val3) {
    // The kernel reads the word; it never writes it for WAIT/WAKE, so casting away const is safe.
    auto* addr = const_cast<std::atomic<std::uint32_t>*>(&word);  // NOLINT: see above
    return ::syscall(SYS_futex, addr, op, val, ts, nullptr, val3);
}
}  // namespace

Result<bool> Futex::wait(const std::atomic<std::uint32_t>& word,
                         std::uint32_t expected,
                         Deadline deadline) {
    // FUTEX_WAIT_BITSET takes an *absolute* CLOCK_MONOTONIC timeout, so retries after EINTR
    // wait only for the time left.
    const timespec abs = deadline.to_monotonic_timespec();
    const timespec* ts = deadline.is_never() ? nullptr : &abs;
    for (;;) {
        const long rc = futex(word, FUTEX_WAIT_BITSET, expected, ts, FUTEX_BITSET_MATCH_ANY);
        if (rc == 0) {
            return true;
        }
        switch (errno) {
            case EINTR:
                continue;
            case EAGAIN:  // the word no longer held `expected`
                return true;
            case ETIMEDOUT:
                return false;
            default:
                return sys::last_error("futex_wait", "futex word");
        }
    }
}

Result<int> Futex::wake(const std::atomic<std::uint32_t>& word, int count) {
    const long rc = futex(word, FUTEX_WAKE, static_cast<std::uint32_t>(count), nullptr, 0);
    if (rc < 0) {
        return sys::last_error("futex_wake", "futex word");
    }
    return static_cast<int>(rc);
}

Result<int> Futex::wake_all(const std::atomic<std::uint32_t>& word) { return wake(word, INT_MAX); }

}  // namespace ipckit
