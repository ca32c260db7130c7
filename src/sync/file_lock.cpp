// SPDX-License-Identifier: MIT
#include "ipckit/sync/file_lock.hpp"

#include "sync/lock_ops.hpp"
#include "sys/syscall.hpp"

#include <sys/file.h>

namespace ipckit {

Result<FileLock> FileLock::open(const std::string& path, OpenMode mode, Permissions permissions) {
    auto fd = detail::open_lock_file(path, mode, permissions);
    if (!fd) {
        return std::move(fd).error();
    }
    return FileLock(std::move(*fd), path);
}

FileLock FileLock::adopt(UniqueFd fd, std::string path) noexcept {
    return {std::move(fd), std::move(path)};
}

Result<bool> FileLock::try_acquire(LockKind kind) {
    const int op = (kind == LockKind::Shared ? LOCK_SH : LOCK_EX) | LOCK_NB;
    auto r = sys::call_maybe("flock", path_, {EWOULDBLOCK}, [&] { return ::flock(fd_.get(), op); });
    if (!r) {
        return std::move(r).error();
    }
    return r->has_value();
}

Result<bool> FileLock::acquire(LockKind kind, Deadline deadline) {
    if (!deadline.is_never()) {
        return detail::poll_with_backoff(deadline, [&] { return try_acquire(kind); });
    }
    const int op = kind == LockKind::Shared ? LOCK_SH : LOCK_EX;
    auto r = sys::call("flock", path_, [&] { return ::flock(fd_.get(), op); });
    if (!r) {
        return std::move(r).error();
    }
    return true;
}

Result<void> FileLock::release() {
    auto r = sys::call("flock(LOCK_UN)", path_, [&] { return ::flock(fd_.get(), LOCK_UN); });
    if (!r) {
        return std::move(r).error();
    }
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
