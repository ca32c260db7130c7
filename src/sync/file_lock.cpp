// SPDX-License-Identifier: MIT
#include "ipckit/sync/file_lock.hpp"

#include "sync/lock_ops.hpp"
#include "sys/syscall.hpp"

#include <sys/file.h>

#include <string>

namespace ipckit {

Result<FileLock> FileLock::open(const std::string& path, OpenMode mode, Permissions permissions) {
    IPCKIT_TRY_ASSIGN(UniqueFd fd, detail::open_lock_file(path, mode, permissions));
    return FileLock(std::move(fd), path);
}

FileLock FileLock::adopt(UniqueFd fd, std::string path) noexcept {
    return {std::move(fd), std::move(path)};
}

namespace {
int flock_op(LockKind kind) {
    return kind == LockKind::Shared ? LOCK_SH : LOCK_EX;
}
}  // namespace

Result<bool> FileLock::try_acquire(LockKind kind) {
    IPCKIT_TRY_ASSIGN(auto taken, sys::call_maybe("flock", path_, {EWOULDBLOCK}, [&] {
                          return ::flock(fd_.get(), flock_op(kind) | LOCK_NB);
                      }));
    if (taken.has_value()) {
        held_ = kind;
        return true;
    }
    if (held_ && *held_ != kind) {
        return restore_after_failed_conversion(kind);
    }
    return false;
}

// flock(2) removed the lock this handle held before it found the new kind taken; take the old
// kind back, so a failed upgrade never lets a writer in behind our back.
Result<bool> FileLock::restore_after_failed_conversion(LockKind wanted) {
    const LockKind old = *held_;
    IPCKIT_TRY_ASSIGN(auto back, sys::call_maybe("flock", path_, {EWOULDBLOCK}, [&] {
                          return ::flock(fd_.get(), flock_op(old) | LOCK_NB);
                      }));
    if (back.has_value()) {
        return false;
    }
    held_.reset();
    return Error(std::errc::resource_unavailable_try_again,
                 "flock",
                 path_,
                 std::string("converting to ") + (wanted == LockKind::Shared ? "shared" : "exclusive") +
                     " failed and the " + (old == LockKind::Shared ? "shared" : "exclusive") +
                     " lock it replaced was taken by another process meanwhile: this handle "
                     "holds no lock now (flock(2) converts by unlocking first)");
}

Result<bool> FileLock::acquire(LockKind kind, Deadline deadline) {
    if (!deadline.is_never()) {
        return detail::poll_with_backoff(deadline, [&] { return try_acquire(kind); });
    }
    held_.reset();  // a blocking conversion drops the old lock before it waits
    IPCKIT_TRY(sys::call("flock", path_, [&] { return ::flock(fd_.get(), flock_op(kind)); }));
    held_ = kind;
    return true;
}

Result<void> FileLock::release() {
    IPCKIT_TRY(sys::call("flock(LOCK_UN)", path_, [&] { return ::flock(fd_.get(), LOCK_UN); }));
    held_.reset();
    return {};
}

void FileLock::lock() {
    (void)detail::value_or_throw(acquire(LockKind::Exclusive));
}
bool FileLock::try_lock() {
    return detail::value_or_throw(try_acquire(LockKind::Exclusive));
}
void FileLock::unlock() {
    detail::throw_if_error(release());
}
void FileLock::lock_shared() {
    (void)detail::value_or_throw(acquire(LockKind::Shared));
}
bool FileLock::try_lock_shared() {
    return detail::value_or_throw(try_acquire(LockKind::Shared));
}
void FileLock::unlock_shared() {
    detail::throw_if_error(release());
}

}  // namespace ipckit
