// SPDX-License-Identifier: MIT
// SharedCondition: a process-shared condition variable on CLOCK_MONOTONIC, used with RobustMutex
// (pthread_condattr_setpshared(3), pthread_condattr_setclock(3)).
#pragma once

#include <pthread.h>

#include <chrono>
#include <cstddef>
#include <span>

#include "ipckit/core/deadline.hpp"
#include "ipckit/core/result.hpp"
#include "ipckit/sync/robust_mutex.hpp"

namespace ipckit {

/// How a wait on a SharedCondition ended. In every case the caller holds the mutex again.
enum class ConditionWait {
    Notified,   ///< woken (or spuriously: re-check the predicate)
    TimedOut,   ///< the deadline passed
    OwnerDied,  ///< re-acquiring the mutex found its previous owner dead: repair, consistent()
};

/// A condition variable in shared memory, paired with a RobustMutex.
///
/// Deadlines are CLOCK_MONOTONIC (pthread_condattr_setclock), so wall-clock jumps do not move them.
/// Robustness limits (B34, docs/design/sync.md): only the *mutex* is robust. A process killed while
/// blocked in wait() is normally harmless -- the remaining waiters are still woken by
/// notify_all() (tested) -- but glibc's condvar keeps internal state in the shared memory, and a
/// process killed at certain instructions inside wait/notify can leave it inconsistent so that
/// later waiters are not woken (glibc BZ 21422). Waiters should therefore always pass a deadline
/// and re-check their predicate; a system that must tolerate arbitrary kills should use
/// Futex on a generation counter instead.
/// Ownership and fork: as RobustMutex (a copyable pointer into memory someone else owns).
///
/// @code
///   auto guard = m.lock().value();            // handle OwnerDied as RobustMutex shows
///   while (!ready) {
///       if (cv.wait(m, deadline).value() == ConditionWait::TimedOut) break;
///   }
///   m.unlock().value();
/// @endcode
class SharedCondition {
public:
    static constexpr std::size_t kSize = sizeof(pthread_cond_t);
    static constexpr std::size_t kAlignment = alignof(pthread_cond_t);

    static Result<SharedCondition> init(std::span<std::byte> where);
    static Result<SharedCondition> attach(std::span<std::byte> where);

    /// Atomically unlocks `mutex` (which the caller holds) and waits for a notification or
    /// `deadline`; re-locks before returning.
    [[nodiscard]] Result<ConditionWait> wait(RobustMutex& mutex, Deadline deadline = Deadline::never());
    template <class Rep, class Period>
    [[nodiscard]] Result<ConditionWait> wait_for(RobustMutex& mutex, std::chrono::duration<Rep, Period> timeout) {
        return wait(mutex, Deadline::after(timeout));
    }
    Result<void> notify_one();
    Result<void> notify_all();
    Result<void> destroy();

private:
    explicit SharedCondition(pthread_cond_t* cond) noexcept : cond_(cond) {}
    pthread_cond_t* cond_;
};

}  // namespace ipckit
