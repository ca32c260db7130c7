// SPDX-License-Identifier: MIT
// SharedCondition: a process-shared condition variable on CLOCK_MONOTONIC, used with RobustMutex
// (futex(2) on a sequence number; see the class comment for why not pthread_cond_t).
#pragma once

#include "ipckit/core/deadline.hpp"
#include "ipckit/core/result.hpp"
#include "ipckit/export.hpp"
#include "ipckit/sync/robust_mutex.hpp"

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>

namespace ipckit {

/// How a wait on a SharedCondition ended. In every case the caller holds the mutex again.
enum class ConditionWait {
    Notified,   ///< woken (or spuriously: re-check the predicate)
    TimedOut,   ///< the deadline passed
    OwnerDied,  ///< re-acquiring the mutex found its previous owner dead: repair, consistent()
};

/// A condition variable in shared memory, paired with a RobustMutex.
///
/// It is futex-based, not a glibc pthread_cond_t: glibc's condvar keeps per-waiter reference
/// counts in the shared memory, and a waiter SIGKILLed inside pthread_cond_wait leaves them
/// behind, after which notify_all() blocks for ever (we saw exactly this in the B34 test; glibc
/// BZ 21422/25847). Here the shared state is one 32-bit sequence number: wait() reads it under
/// the mutex, unlocks, and sleeps in FUTEX_WAIT_BITSET while it is unchanged; notify bumps it and
/// wakes. A killed waiter leaves nothing behind, so the survivors always wake (tested over many
/// rounds). Costs: notify_all wakes every waiter at once (they then contend for the mutex; no
/// requeue), and a wait can return Notified spuriously -- callers re-check their predicate, as
/// with any condition variable. Deadlines are absolute CLOCK_MONOTONIC.
/// Robustness limit: the *mutex* re-acquired at the end of wait() may have lost its owner, which
/// wait() reports as ConditionWait::OwnerDied (the caller then holds it and must repair).
/// Ownership and fork: as RobustMutex (a copyable pointer into memory someone else owns).
///
/// @code
///   if (m.lock().value() == MutexState::OwnerDied) { repair(); m.consistent().value(); }
///   while (!ready) {
///       if (cv.wait(m, deadline).value() == ConditionWait::TimedOut) break;
///   }
///   m.unlock().value();
/// @endcode
class IPCKIT_API SharedCondition {
public:
    static constexpr std::size_t kSize = sizeof(std::atomic<std::uint32_t>);
    static constexpr std::size_t kAlignment = alignof(std::atomic<std::uint32_t>);

    /// Places a fresh condition in `where` (>= kSize bytes, kAlignment-aligned).
    static Result<SharedCondition> init(std::span<std::byte> where);
    static Result<SharedCondition> attach(std::span<std::byte> where);

    /// Atomically unlocks `mutex` (which the caller holds) and waits for a notification or
    /// `deadline`; re-locks before returning.
    [[nodiscard]] Result<ConditionWait> wait(RobustMutex& mutex,
                                             Deadline deadline = Deadline::never());
    template <class Rep, class Period>
    [[nodiscard]] Result<ConditionWait> wait_for(RobustMutex& mutex,
                                                 std::chrono::duration<Rep, Period> timeout) {
        return wait(mutex, Deadline::after(timeout));
    }
    Result<void> notify_one();
    Result<void> notify_all();
    /// Nothing to release (kept for symmetry with RobustMutex); waiters must be gone.
    Result<void> destroy();

private:
    explicit SharedCondition(std::atomic<std::uint32_t>* seq) noexcept : seq_(seq) {}
    std::atomic<std::uint32_t>* seq_;  // bumped by every notify
};

}  // namespace ipckit
