// SPDX-License-Identifier: MIT
#include "ipckit/sync/record_lock.hpp"

#include "sync/lock_ops.hpp"

#include <fcntl.h>

namespace ipckit {

namespace {
constexpr detail::RangeCommands kCommands{F_SETLK, F_SETLKW, F_GETLK};
}  // namespace

Result<RecordLock> RecordLock::open(const std::string& path,
                                    OpenMode mode,
                                    Permissions permissions) {
    auto fd = detail::open_lock_file(path, mode, permissions);
    if (!fd) {
        return std::move(fd).error();
    }
    return RecordLock(std::move(*fd), path);
}

RecordLock RecordLock::adopt(UniqueFd fd, std::string path) noexcept {
    return {std::move(fd), std::move(path)};
}

Result<bool> RecordLock::acquire(LockKind kind, ByteRange range, Deadline deadline) {
    return detail::range_acquire(fd_.get(), kCommands, kind, range, deadline, path_);
}
Result<bool> RecordLock::try_acquire(LockKind kind, ByteRange range) {
    return detail::range_try(fd_.get(), kCommands, kind, range, path_);
}
Result<void> RecordLock::release(ByteRange range) {
    return detail::range_release(fd_.get(), kCommands, range, path_);
}
Result<std::optional<LockHolder>> RecordLock::holder(LockKind kind, ByteRange range) const {
    return detail::range_holder(fd_.get(), kCommands, kind, range, path_);
}

void RecordLock::lock() {
    (void)detail::value_or_throw(acquire(LockKind::Exclusive));
}
bool RecordLock::try_lock() {
    return detail::value_or_throw(try_acquire(LockKind::Exclusive));
}
void RecordLock::unlock() {
    detail::throw_if_error(release());
}
void RecordLock::lock_shared() {
    (void)detail::value_or_throw(acquire(LockKind::Shared));
}
bool RecordLock::try_lock_shared() {
    return detail::value_or_throw(try_acquire(LockKind::Shared));
}
void RecordLock::unlock_shared() {
    detail::throw_if_error(release());
}

}  // namespace ipckit
