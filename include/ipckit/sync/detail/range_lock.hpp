// SPDX-License-Identifier: MIT
// RangeLock: the one fcntl byte-range lock implementation behind RecordLock and OfdLock.
#pragma once

#include "ipckit/core/deadline.hpp"
#include "ipckit/core/open_mode.hpp"
#include "ipckit/core/result.hpp"
#include "ipckit/core/unique_fd.hpp"
#include "ipckit/export.hpp"
#include "ipckit/sync/lock_kind.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <utility>

namespace ipckit::detail {

/// Who owns the locks, which picks the fcntl command family.
enum class RangeLockOwner : unsigned char {
    Process,              ///< F_SETLK / F_SETLKW / F_GETLK (RecordLock)
    OpenFileDescription,  ///< F_OFD_SETLK / F_OFD_SETLKW / F_OFD_GETLK (OfdLock)
};

/// The body of RecordLock and OfdLock (`Self`), which differ only in `Owner`: the handle owns one
/// descriptor of the lock file. Their ownership semantics are documented on the public types.
/// Members are defined in src/sync/range_lock.cpp, instantiated for those two types only.
/// Deadlines: Deadline::never() uses the blocking SETLKW command (fair kernel queue; for
/// RecordLock also deadlock detection, EDEADLK); any other deadline polls the non-blocking
/// command with exponential backoff (50 us doubling to 10 ms) until the deadline: no signal or
/// timer thread is involved (docs/design/sync.md says why).
/// Lockable and SharedLockable over the whole file: lock/try_lock/unlock and *_shared work with
/// std::scoped_lock and std::shared_lock; they are the only members that throw
/// (ipckit::ResultError).
template <class Self, RangeLockOwner Owner>
class IPCKIT_API RangeLock {
public:
    /// Opens (or creates, per `mode`) `path` read-write for locking.
    static Result<Self> open(const std::string& path,
                             OpenMode mode = OpenMode::OpenOrCreate,
                             Permissions permissions = {});
    /// Locks through a descriptor the caller already owns (it needs read access for shared and
    /// write access for exclusive locks).
    static Self adopt(UniqueFd fd, std::string path) noexcept;

    /// Locks `range` before `deadline` (replacing/merging with our own locks on it); false =
    /// timed out. RecordLock only: errc::resource_deadlock_would_occur (EDEADLK) when waiting
    /// would deadlock with another process (blocking mode only).
    Result<bool> acquire(LockKind kind,
                         ByteRange range = {},
                         Deadline deadline = Deadline::never());
    template <class Rep, class Period>
    Result<bool> acquire_for(LockKind kind,
                             ByteRange range,
                             std::chrono::duration<Rep, Period> timeout) {
        return acquire(kind, range, Deadline::after(timeout));
    }
    /// Non-blocking; false = a conflicting lock is held.
    Result<bool> try_acquire(LockKind kind, ByteRange range = {});
    /// Unlocks `range` (splitting a larger lock if needed).
    Result<void> release(ByteRange range = {});
    /// Who holds a lock that conflicts with `kind` on `range` (GETLK); empty = nobody.
    [[nodiscard]] Result<std::optional<LockHolder>> holder(LockKind kind,
                                                           ByteRange range = {}) const;

    // Lockable / SharedLockable over the whole file (throw ResultError on failure).
    void lock();
    bool try_lock();
    void unlock();
    void lock_shared();
    bool try_lock_shared();
    void unlock_shared();

    [[nodiscard]] int native_handle() const noexcept { return fd_.get(); }
    [[nodiscard]] const std::string& path() const noexcept { return path_; }

protected:
    RangeLock(UniqueFd fd, std::string path) noexcept
        : fd_(std::move(fd)), path_(std::move(path)) {}

private:
    UniqueFd fd_;
    std::string path_;
};

}  // namespace ipckit::detail
