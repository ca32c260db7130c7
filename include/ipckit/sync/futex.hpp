// SPDX-License-Identifier: MIT
// Futex wait/wake on a 32-bit word in memory shared between processes (futex(2)).
#pragma once

#include <atomic>
#include <cstdint>

#include "ipckit/core/deadline.hpp"
#include "ipckit/core/result.hpp"
#include "ipckit/export.hpp"

namespace ipckit {

static_assert(std::atomic<std::uint32_t>::is_always_lock_free);
static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t));

/// The kernel's wait queue keyed by a 32-bit word. Always the *shared* operations: the
/// FUTEX_PRIVATE_FLAG variants key on the virtual address and silently never wake a waiter in
/// another process (F12), so ipckit never uses them. The word may live in any mapping, shared or
/// not. Stateless: all functions are static.
///
/// @code
///   // waiter                                   // waker
///   while (word.load() == 0)                    word.store(1);
///       if (!*Futex::wait(word, 0, deadline))   Futex::wake(word, 1);
///           break;  // timed out
/// @endcode
class IPCKIT_API Futex {
public:
    /// Sleeps while `word` still holds `expected`, until woken or `deadline` (absolute
    /// CLOCK_MONOTONIC). Returns true when woken or when the value had already changed (callers
    /// re-check their condition either way; spurious wake-ups are possible), false when the
    /// deadline passed. EINTR is retried against the same absolute deadline.
    static Result<bool> wait(const std::atomic<std::uint32_t>& word,
                             std::uint32_t expected,
                             Deadline deadline = Deadline::never());

    /// Wakes up to `count` waiters; returns how many were woken.
    static Result<int> wake(const std::atomic<std::uint32_t>& word, int count = 1);
    /// Wakes every waiter.
    static Result<int> wake_all(const std::atomic<std::uint32_t>& word);
};

}  // namespace ipckit
