// SPDX-License-Identifier: MIT
// OfdLock: open file description locks (fcntl(2) "Open file description locks").
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

/// An open-file-description lock (fcntl F_OFD_SETLK/F_OFD_SETLKW/F_OFD_GETLK) on byte ranges.
///
/// Ownership: the lock belongs to the open file description this handle owns (one O_CLOEXEC
/// descriptor), so -- unlike RecordLock -- closing other descriptors of the file does not drop it,
/// two handles conflict even inside one process (so threads can lock against each other with one
/// handle each), and it is released when the handle is destroyed or the process dies. Fork: the
/// child shares the open file description, hence the lock. The kernel does no deadlock
/// detection for OFD locks. Holders are reported with pid -1 (the lock has no owning process).
///
/// @code
///   auto lock = OfdLock::open("/var/db/records").value();
///   auto got = lock.acquire(LockKind::Exclusive, {0, 100}, Deadline::after(1s)).value();
/// @endcode
/// Deadlines: Deadline::never() uses the blocking SETLKW command (fair kernel queue; for
/// RecordLock also deadlock detection, EDEADLK); any other deadline polls the non-blocking
/// command with exponential backoff (50 us doubling to 10 ms) until the deadline: no signal or
/// timer thread is involved (docs/design/sync.md says why).
/// Lockable and SharedLockable over the whole file: lock/try_lock/unlock and *_shared work with
/// std::scoped_lock and std::shared_lock; they are the only members that throw
/// (ipckit::ResultError).
class OfdLock {
public:
    /// Opens (or creates, per `mode`) `path` read-write for locking.
    static Result<OfdLock> open(const std::string& path,
                                OpenMode mode = OpenMode::OpenOrCreate,
                                Permissions permissions = {});
    /// Locks through a descriptor the caller already owns (it needs read access for shared and
    /// write access for exclusive locks).
    static OfdLock adopt(UniqueFd fd, std::string path) noexcept;

    /// Locks `range` before `deadline` (replacing/merging with our own locks on it); false =
    /// timed out.
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
    OfdLock(UniqueFd fd, std::string path) noexcept : fd_(std::move(fd)), path_(std::move(path)) {}
    UniqueFd fd_;
    std::string path_;
};

}  // namespace ipckit
