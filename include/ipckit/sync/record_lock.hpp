// SPDX-License-Identifier: MIT
// RecordLock: POSIX byte-range record locks (fcntl(2) "Advisory record locking").
#pragma once

#include "ipckit/export.hpp"
#include "ipckit/sync/detail/range_lock.hpp"

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
/// Members (acquire/try_acquire/release/holder, deadlines, Lockable): detail::RangeLock.
class IPCKIT_API RecordLock
    : public detail::RangeLock<RecordLock, detail::RangeLockOwner::Process> {
private:
    friend RangeLock;  // open() and adopt() construct the handle
    RecordLock(UniqueFd fd, std::string path) noexcept
        : RangeLock(std::move(fd), std::move(path)) {}
};

extern template class detail::RangeLock<RecordLock, detail::RangeLockOwner::Process>;

}  // namespace ipckit
