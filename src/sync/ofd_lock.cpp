// SPDX-License-Identifier: MIT
#include "ipckit/sync/ofd_lock.hpp"

#include "sync/lock_ops.hpp"

#include <fcntl.h>

namespace ipckit {

namespace {
constexpr detail::RangeCommands kCommands{F_OFD_SETLK, F_OFD_SETLKW, F_OFD_GETLK};
}  // namespace

Result<OfdLock> OfdLock::open(const std::string& path, OpenMode mode, Permissions permissions) {
    auto fd = detail::open_lock_file(path, mode, permissions);
    if (!fd) {
        return std::move(fd).error();
    }
    return OfdLock(std::move(*fd), path);
}

OfdLock OfdLock::adopt(UniqueFd fd, std::string path) noexcept {
    return {std::move(fd), std::move(path)};
}

Result<bool> OfdLock::acquire(LockKind kind, ByteRange range, Deadline deadline) {
    return detail::range_acquire(fd_.get(), kCommands, kind, range, deadline, path_);
}
Result<bool> OfdLock::try_acquire(LockKind kind, ByteRange range) {
    return detail::range_try(fd_.get(), kCommands, kind, range, path_);
}
Result<void> OfdLock::release(ByteRange range) {
    return detail::range_release(fd_.get(), kCommands, range, path_);
}
Result<std::optional<LockHolder>> OfdLock::holder(LockKind kind, ByteRange range) const {
    return detail::range_holder(fd_.get(), kCommands, kind, range, path_);
}

void OfdLock::lock() {
    (void)detail::value_or_throw(acquire(LockKind::Exclusive));
}
bool OfdLock::try_lock() {
    return detail::value_or_throw(try_acquire(LockKind::Exclusive));
}
void OfdLock::unlock() {
    detail::throw_if_error(release());
}
void OfdLock::lock_shared() {
    (void)detail::value_or_throw(acquire(LockKind::Shared));
}
bool OfdLock::try_lock_shared() {
    return detail::value_or_throw(try_acquire(LockKind::Shared));
}
void OfdLock::unlock_shared() {
    detail::throw_if_error(release());
}

}  // namespace ipckit
