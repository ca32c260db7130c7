// SPDX-License-Identifier: MIT
// FileLock: a whole-file advisory lock with flock(2).
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

namespace ipckit {

/// A flock(2) lock on a whole file, held by the open file description this handle owns.
///
/// Ownership: the handle owns one descriptor (O_CLOEXEC) of the lock file; the lock belongs to
/// that open file description, so closing *other* descriptors of the file does not drop it
/// (unlike RecordLock), and it is released when the handle is destroyed or the process dies.
/// Two FileLock handles on the same file conflict with each other even in one process.
/// Deadlines: flock has no timed form. Deadline::never() uses the blocking flock(LOCK_EX); any
/// other deadline polls LOCK_NB with exponential backoff (50 us doubling to 10 ms) until the
/// deadline — no signals or helper threads, at the cost of fairness (a poller can be overtaken
/// by a blocking waiter). See docs/design/sync.md.
/// Thread-safety: one handle should be used by one thread at a time. Fork: the child shares the
/// open file description, and with it the lock (an unlock in either releases it).
/// Lockable and SharedLockable: lock/try_lock/unlock and *_shared work with std::scoped_lock and
/// std::shared_lock; they are the only members that throw (ipckit::ResultError).
///
/// @code
///   auto lock = FileLock::open("/run/myapp.lock").value();
///   if (!lock.try_acquire(LockKind::Exclusive).value()) { /* another instance runs */ }
/// @endcode
class IPCKIT_API FileLock {
public:
    /// Opens (or creates, per `mode`) `path` read-write for locking.
    static Result<FileLock> open(const std::string& path,
                                 OpenMode mode = OpenMode::OpenOrCreate,
                                 Permissions permissions = {});
    /// Locks through a descriptor the caller already owns.
    static FileLock adopt(UniqueFd fd, std::string path) noexcept;

    /// Takes the lock (converting an existing one: shared <-> exclusive) before `deadline`;
    /// false = timed out, still holding what this handle held before. flock(2) converts by
    /// dropping the old lock first: a conversion that fails takes the old kind back at once, and
    /// if another process got in between (only possible when nobody else held the lock), the
    /// call fails with errc::resource_unavailable_try_again saying this handle holds no lock
    /// any more. A blocking conversion (Deadline::never()) holds nothing while it waits.
    Result<bool> acquire(LockKind kind, Deadline deadline = Deadline::never());
    template <class Rep, class Period>
    Result<bool> acquire_for(LockKind kind, std::chrono::duration<Rep, Period> timeout) {
        return acquire(kind, Deadline::after(timeout));
    }
    /// LOCK_NB; false = held elsewhere (a failed conversion keeps the old kind, as acquire()).
    Result<bool> try_acquire(LockKind kind);
    Result<void> release();

    // Lockable / SharedLockable (throw ResultError on failure).
    void lock();
    bool try_lock();
    void unlock();
    void lock_shared();
    bool try_lock_shared();
    void unlock_shared();

    [[nodiscard]] int native_handle() const noexcept { return fd_.get(); }
    [[nodiscard]] const std::string& path() const noexcept { return path_; }

private:
    FileLock(UniqueFd fd, std::string path) noexcept : fd_(std::move(fd)), path_(std::move(path)) {}
    Result<bool> restore_after_failed_conversion(LockKind wanted);

    UniqueFd fd_;
    std::string path_;
    std::optional<LockKind> held_;  // what this handle holds, as far as its own calls know
};

}  // namespace ipckit
