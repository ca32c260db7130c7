// SPDX-License-Identifier: MIT
#include "ipckit/sync/detail/range_lock.hpp"

#include "ipckit/sync/ofd_lock.hpp"
#include "ipckit/sync/record_lock.hpp"
#include "sync/lock_ops.hpp"
#include "sys/syscall.hpp"

#include <fcntl.h>

namespace ipckit::detail {

namespace {

/// The three fcntl commands of one owner.
struct RangeCommands {
    int set;       ///< F_SETLK / F_OFD_SETLK
    int set_wait;  ///< F_SETLKW / F_OFD_SETLKW
    int get;       ///< F_GETLK / F_OFD_GETLK
};

template <RangeLockOwner Owner>
constexpr RangeCommands kCommands =
    Owner == RangeLockOwner::Process ? RangeCommands{F_SETLK, F_SETLKW, F_GETLK}
                                     : RangeCommands{F_OFD_SETLK, F_OFD_SETLKW, F_OFD_GETLK};

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

template <class Self, RangeLockOwner Owner>
Result<Self> RangeLock<Self, Owner>::open(const std::string& path,
                                          OpenMode mode,
                                          Permissions permissions) {
    IPCKIT_TRY_ASSIGN(auto fd, open_lock_file(path, mode, permissions));
    return Self(std::move(fd), path);
}

template <class Self, RangeLockOwner Owner>
Self RangeLock<Self, Owner>::adopt(UniqueFd fd, std::string path) noexcept {
    return Self(std::move(fd), std::move(path));
}

template <class Self, RangeLockOwner Owner>
Result<bool> RangeLock<Self, Owner>::try_acquire(LockKind kind, ByteRange range) {
    struct flock fl = make_flock(type_of(kind), range);
    // A held conflicting lock is EAGAIN or EACCES depending on the system (fcntl(2)).
    auto r = sys::call_maybe("fcntl(SETLK)", path_, {EAGAIN, EACCES}, [&] {
        return ::fcntl(fd_.get(), kCommands<Owner>.set, &fl);
    });
    if (!r) {
        return annotate(std::move(r).error());
    }
    return r->has_value();
}

template <class Self, RangeLockOwner Owner>
Result<bool> RangeLock<Self, Owner>::acquire(LockKind kind, ByteRange range, Deadline deadline) {
    if (!deadline.is_never()) {
        return poll_with_backoff(deadline, [&] { return try_acquire(kind, range); });
    }
    struct flock fl = make_flock(type_of(kind), range);
    auto r = sys::call(
        "fcntl(SETLKW)", path_, [&] { return ::fcntl(fd_.get(), kCommands<Owner>.set_wait, &fl); });
    if (!r) {
        return annotate(std::move(r).error());
    }
    return true;
}

template <class Self, RangeLockOwner Owner>
Result<void> RangeLock<Self, Owner>::release(ByteRange range) {
    struct flock fl = make_flock(F_UNLCK, range);
    auto r = sys::call(
        "fcntl(UNLCK)", path_, [&] { return ::fcntl(fd_.get(), kCommands<Owner>.set, &fl); });
    if (!r) {
        return annotate(std::move(r).error());
    }
    return {};
}

template <class Self, RangeLockOwner Owner>
Result<std::optional<LockHolder>> RangeLock<Self, Owner>::holder(LockKind kind,
                                                                 ByteRange range) const {
    struct flock fl = make_flock(type_of(kind), range);
    auto r = sys::call(
        "fcntl(GETLK)", path_, [&] { return ::fcntl(fd_.get(), kCommands<Owner>.get, &fl); });
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

template <class Self, RangeLockOwner Owner>
void RangeLock<Self, Owner>::lock() {
    (void)value_or_throw(acquire(LockKind::Exclusive));
}
template <class Self, RangeLockOwner Owner>
bool RangeLock<Self, Owner>::try_lock() {
    return value_or_throw(try_acquire(LockKind::Exclusive));
}
template <class Self, RangeLockOwner Owner>
void RangeLock<Self, Owner>::unlock() {
    throw_if_error(release());
}
template <class Self, RangeLockOwner Owner>
void RangeLock<Self, Owner>::lock_shared() {
    (void)value_or_throw(acquire(LockKind::Shared));
}
template <class Self, RangeLockOwner Owner>
bool RangeLock<Self, Owner>::try_lock_shared() {
    return value_or_throw(try_acquire(LockKind::Shared));
}
template <class Self, RangeLockOwner Owner>
void RangeLock<Self, Owner>::unlock_shared() {
    throw_if_error(release());
}

template class RangeLock<RecordLock, RangeLockOwner::Process>;
template class RangeLock<OfdLock, RangeLockOwner::OpenFileDescription>;

}  // namespace ipckit::detail
