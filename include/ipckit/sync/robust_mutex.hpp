// SPDX-License-Identifier: MIT
// RobustMutex: a process-shared robust pthread mutex placed in shared memory
// (pthread_mutexattr_setpshared(3), pthread_mutexattr_setrobust(3), pthread_mutex_consistent(3)).
#pragma once

#include "ipckit/core/deadline.hpp"
#include "ipckit/core/result.hpp"
#include "ipckit/export.hpp"

#include <pthread.h>

#include <chrono>
#include <cstddef>
#include <optional>
#include <span>

namespace ipckit {

/// What a successful lock found. Both mean "you hold the mutex now".
enum class MutexState {
    Consistent,  ///< the previous owner unlocked normally
    OwnerDied,   ///< the previous owner died holding it (EOWNERDEAD): repair the protected data,
                 ///< then call consistent() before unlock(); unlocking without it makes the mutex
                 ///< permanently unusable (errc::state_not_recoverable for every later lock)
};

/// A mutex in memory shared between processes that survives its owner's death.
///
/// Owner death is an explicit outcome, not a silent success: lock() returns MutexState, and
/// Result is [[nodiscard]], so a caller cannot take the lock without seeing whether the data it
/// protects may be half-updated (B04). The mutex is error-checking: relocking from the owning
/// thread is errc::resource_deadlock_would_occur, unlocking a mutex one does not own is
/// errc::operation_not_permitted.
/// It is deliberately *not* Lockable: std::scoped_lock would swallow OwnerDied.
///
/// Ownership: the memory owns the mutex; this handle is a copyable pointer that must not outlive
/// the mapping. One process init()s fresh memory, the others attach(). Thread-safety: safe from
/// any thread of any process. Fork: a child does not inherit ownership; if the owning thread's
/// process dies the kernel's robust list marks the mutex so the next locker gets OwnerDied.
///
/// @code
///   auto m = RobustMutex::attach(shm.bytes().first(RobustMutex::kSize)).value();
///   auto state = m.lock().value();
///   if (state == MutexState::OwnerDied) { repair(data); m.consistent().value(); }
///   data.update();
///   m.unlock().value();
/// @endcode
class IPCKIT_API RobustMutex {
public:
    static constexpr std::size_t kSize = sizeof(pthread_mutex_t);
    static constexpr std::size_t kAlignment = alignof(pthread_mutex_t);

    /// Initialises a mutex in `where` (>= kSize bytes, kAlignment-aligned; errc::invalid_argument
    /// otherwise). Call once, before any other process attaches.
    static Result<RobustMutex> init(std::span<std::byte> where);
    /// A handle to a mutex another process init()ed.
    static Result<RobustMutex> attach(std::span<std::byte> where);

    /// Blocks until acquired. errc::state_not_recoverable if an earlier OwnerDied was never
    /// followed by consistent().
    [[nodiscard]] Result<MutexState> lock();
    /// Non-blocking; empty = held by another thread.
    [[nodiscard]] Result<std::optional<MutexState>> try_lock();
    /// Acquires before `deadline` (pthread_mutex_clocklock on CLOCK_MONOTONIC); empty = timed out.
    [[nodiscard]] Result<std::optional<MutexState>> lock_until(Deadline deadline);
    template <class Rep, class Period>
    [[nodiscard]] Result<std::optional<MutexState>> lock_for(
        std::chrono::duration<Rep, Period> timeout) {
        return lock_until(Deadline::after(timeout));
    }
    /// Marks the state repaired after OwnerDied (pthread_mutex_consistent). Call it while holding.
    Result<void> consistent();
    Result<void> unlock();
    /// pthread_mutex_destroy; only when unlocked and unused. After ENOTRECOVERABLE, destroy and
    /// init() again to reuse the memory.
    Result<void> destroy();

    [[nodiscard]] pthread_mutex_t* native_handle() const noexcept { return mutex_; }

private:
    explicit RobustMutex(pthread_mutex_t* mutex) noexcept : mutex_(mutex) {}
    pthread_mutex_t* mutex_;
};

}  // namespace ipckit
