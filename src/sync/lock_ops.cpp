// SPDX-License-Identifier: MIT
#include "sync/lock_ops.hpp"

#include "sys/syscall.hpp"

#include <fcntl.h>

namespace ipckit::detail {

namespace {

struct flock make_flock(short type, ByteRange range) {
    struct flock fl {};
    fl.l_type = type;
    fl.l_whence = SEEK_SET;
    fl.l_start = range.offset;
    fl.l_len = range.length;
    fl.l_pid = 0;  // must be 0 for the F_OFD_* commands
    return fl;
}

short type_of(LockKind kind) {
    return kind == LockKind::Shared ? F_RDLCK : F_WRLCK;
}

Error annotate(Error e) {
    if (e == std::errc::resource_deadlock_would_occur) {
        return e.with_detail(
            "waiting would deadlock: the holder is itself waiting for a lock we hold");
    }
    if (e == std::errc::bad_file_descriptor) {
        return e.with_detail("the descriptor lacks read (shared) or write (exclusive) access");
    }
    if (e == std::errc::no_lock_available) {
        return e.with_detail("the system lock table is full");
    }
    return e;
}

}  // namespace

Result<UniqueFd> open_lock_file(const std::string& path, OpenMode mode, Permissions permissions) {
    auto fd = sys::call("open", path, [&] {
        return ::open(path.c_str(), O_RDWR | O_CLOEXEC | open_flags(mode), permissions.bits());
    });
    if (!fd) {
        return std::move(fd).error();
    }
    return UniqueFd(*fd);
}

Result<bool> range_try(
    int fd, const RangeCommands& cmds, LockKind kind, ByteRange range, const std::string& object) {
    struct flock fl = make_flock(type_of(kind), range);
    // A held conflicting lock is EAGAIN or EACCES depending on the system (fcntl(2)).
    auto r = sys::call_maybe(
        "fcntl(SETLK)", object, {EAGAIN, EACCES}, [&] { return ::fcntl(fd, cmds.set, &fl); });
    if (!r) {
        return annotate(std::move(r).error());
    }
    return r->has_value();
}

Result<bool> range_acquire(int fd,
                           const RangeCommands& cmds,
                           LockKind kind,
                           ByteRange range,
                           Deadline deadline,
                           const std::string& object) {
    if (!deadline.is_never()) {
        return poll_with_backoff(deadline,
                                 [&] { return range_try(fd, cmds, kind, range, object); });
    }
    struct flock fl = make_flock(type_of(kind), range);
    auto r = sys::call("fcntl(SETLKW)", object, [&] { return ::fcntl(fd, cmds.set_wait, &fl); });
    if (!r) {
        return annotate(std::move(r).error());
    }
    return true;
}

Result<void> range_release(int fd,
                           const RangeCommands& cmds,
                           ByteRange range,
                           const std::string& object) {
    struct flock fl = make_flock(F_UNLCK, range);
    auto r = sys::call("fcntl(UNLCK)", object, [&] { return ::fcntl(fd, cmds.set, &fl); });
    if (!r) {
        return annotate(std::move(r).error());
    }
    return {};
}

Result<std::optional<LockHolder>> range_holder(
    int fd, const RangeCommands& cmds, LockKind kind, ByteRange range, const std::string& object) {
    struct flock fl = make_flock(type_of(kind), range);
    auto r = sys::call("fcntl(GETLK)", object, [&] { return ::fcntl(fd, cmds.get, &fl); });
    if (!r) {
        return annotate(std::move(r).error());
    }
    if (fl.l_type == F_UNLCK) {
        return std::optional<LockHolder>();
    }
    return std::optional<LockHolder>(
        LockHolder{fl.l_pid,
                   fl.l_type == F_RDLCK ? LockKind::Shared : LockKind::Exclusive,
                   ByteRange{fl.l_start, fl.l_len}});
}

}  // namespace ipckit::detail
