// SPDX-License-Identifier: MIT
// LockGuard: releases a FileLock, RecordLock or OfdLock acquisition when it goes out of scope.
#pragma once

#include "ipckit/core/deadline.hpp"
#include "ipckit/core/result.hpp"
#include "ipckit/sync/lock_kind.hpp"

#include <optional>
#include <utility>

namespace ipckit {

/// Move-only RAII owner of one acquisition of `Lock` (FileLock, RecordLock or OfdLock): the
/// destructor releases it (errors on release are ignored there; call release() to see them).
/// The lock object must outlive the guard. std::scoped_lock / std::unique_lock also work on those
/// types (they are Lockable), but throw on failure; LockGuard is the no-exception path.
///
/// @code
///   auto g = LockGuard<OfdLock>::acquire(lock, LockKind::Exclusive, {0, 16}, Deadline::after(1s));
///   if (!g) return g.error();       // failed
///   if (!*g) return timed_out();    // another holder kept it past the deadline
///   /* bytes 0..15 are ours until g goes out of scope */
/// @endcode
template <class Lock>
class [[nodiscard]] LockGuard {
public:
    /// Acquires `kind` on `range` (ignored by FileLock, which locks the whole file) before
    /// `deadline`; an empty optional means timed out.
    static Result<std::optional<LockGuard>> acquire(Lock& lock,
                                                    LockKind kind,
                                                    ByteRange range = {},
                                                    Deadline deadline = Deadline::never()) {
        Result<bool> r = [&] {
            if constexpr (requires { lock.acquire(kind, range, deadline); }) {
                return lock.acquire(kind, range, deadline);
            } else {
                return lock.acquire(kind, deadline);
            }
        }();
        if (!r) {
            return std::move(r).error();
        }
        if (!*r) {
            return std::optional<LockGuard>();
        }
        return std::optional<LockGuard>(LockGuard(&lock, range));
    }

    LockGuard(LockGuard&& other) noexcept
        : lock_(std::exchange(other.lock_, nullptr)), range_(other.range_) {}
    LockGuard& operator=(LockGuard&&) = delete;
    LockGuard(const LockGuard&) = delete;
    LockGuard& operator=(const LockGuard&) = delete;
    ~LockGuard() { (void)release(); }

    /// Releases now (idempotent).
    Result<void> release() {
        if (lock_ == nullptr) {
            return {};
        }
        Lock* lock = std::exchange(lock_, nullptr);
        if constexpr (requires { lock->release(range_); }) {
            return lock->release(range_);
        } else {
            return lock->release();
        }
    }

private:
    LockGuard(Lock* lock, ByteRange range) noexcept : lock_(lock), range_(range) {}
    Lock* lock_;
    ByteRange range_;
};

}  // namespace ipckit
