// SPDX-License-Identifier: MIT
// OfdLock: open file description locks (fcntl(2) "Open file description locks").
#pragma once

#include "ipckit/export.hpp"
#include "ipckit/sync/detail/range_lock.hpp"

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
/// Members (acquire/try_acquire/release/holder, deadlines, Lockable): detail::RangeLock.
class IPCKIT_API OfdLock
    : public detail::RangeLock<OfdLock, detail::RangeLockOwner::OpenFileDescription> {
private:
    friend RangeLock;  // open() and adopt() construct the handle
    OfdLock(UniqueFd fd, std::string path) noexcept : RangeLock(std::move(fd), std::move(path)) {}
};

extern template class detail::RangeLock<OfdLock, detail::RangeLockOwner::OpenFileDescription>;

}  // namespace ipckit
