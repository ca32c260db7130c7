// SPDX-License-Identifier: MIT
// RecordLock: POSIX byte-range record locks (fcntl(2) "Advisory record locking").
#pragma once

#include "ipckit/core/deadline.hpp"
#include "ipckit/core/open_mode.hpp"
#include "ipckit/core/result.hpp"
#include "ipckit/core/unique_fd.hpp"
#include "ipckit/sync/lock_kind.hpp"

#include <chrono>
#include <optional>
#include <string>

namespace ipckit {

/// A POSIX record lock (fcntl F_SETLK/F_SETLKW/F_GETLK) on byte ranges of a file.
///
/// Ownership: the lock belongs to the *process*, not to this handle. Pitfall (F24, B27): closing
/// ANY descriptor of the same file in this process -- another RecordLock, a std::ifstream someone
/// opened to read the config -- silently drops every record lock the process holds on it. Locks
/// are not inherited by fork children and are released when the process exits. Two handles in
/// one process never conflict. Prefer OfdLock, which has none of these problems; RecordLock exists
/// for interoperating with programs that use classic fcntl locks and for EDEADLK detection.
/// Thread-safety: the locks are per process, so threads share them; use one handle per thread.
///
/// @code
///   auto lock = RecordLock::open("/var/db/records").value();
///   if (auto h = lock.holder(LockKind::Exclusive, {0, 100}).value()) { /* h->pid holds it */ }
///   lock.acquire(LockKind::Exclusive, {0, 100}).value();
/// @endcode
/// Deadlines: Deadline::never() uses the blocking SETLKW command (fair kernel queue; for
/// RecordLock also deadlock detection, EDEADLK); any other deadline polls the non-blocking
/// command with exponential backoff (50 us doubling to 10 ms) until the deadline: no signal or
/// timer thread is involved (docs/design/sync.md says why).
/// Lockable and SharedLockable over the whole file: lock/try_lock/unlock and *_shared work with
/// std::scoped_lock and std::shared_lock; they are the only members that throw
/// (ipckit::ResultError).
class RecordLock {
public:
    /// Opens (or creates, per `mode`) `path` read-write for locking.
    static Result<RecordLock> open(const std::string& path,
                                   OpenMode mode = OpenMode::OpenOrCreate,
                                   Permissions permissions = {});
    /// Locks through a descriptor the caller already owns (it needs read access for shared and
    /// write access for exclusive locks).
    static RecordLock adopt(UniqueFd fd, std::string path) noexcept;

    /// Locks `range` before `deadline` (replacing/merging with our own locks on it); false =
    /// timed out. errc::resource_deadlock_would_occur
    /// (EDEADLK) when waiting would deadlock with another process (blocking mode only).
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

private:
    RecordLock(UniqueFd fd, std::string path) noexcept
        : fd_(std::move(fd)), path_(std::move(path)) {}
    UniqueFd fd_;
    std::string path_;
};

}  // namespace ipckit
