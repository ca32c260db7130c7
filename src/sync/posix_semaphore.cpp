// SPDX-License-Identifier: MIT
#include "ipckit/sync/posix_semaphore.hpp"

#include "ipckit/core/assert.hpp"
#include "sync/semaphore_ops.hpp"
#include "sys/syscall.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

namespace ipckit {

namespace {

// Where glibc keeps a named semaphore: a file "sem.NAME" in the POSIX shm directory.
std::string backing_file(const PosixName& name) {
    return "/dev/shm/sem." + std::string(name.without_slash());
}

// A semaphore pre-created by another uid is under that user's control (they can post or drain
// it), so by default an open of someone else's semaphore is refused. Checked after sem_open on
// the backing file; a rename between the two calls could fool it, which needs write access to
// /dev/shm's sticky directory as the same owner, i.e. the attacker already owns the name.
Result<void> check_owner(const PosixName& name) {
    struct stat st {};
    const std::string path = backing_file(name);
    if (::lstat(path.c_str(), &st) != 0) {
        return {};  // unlinked since we opened it: what we hold is ours to use
    }
    const uid_t me = ::geteuid();
    if (st.st_uid != me) {
        return Error(std::errc::permission_denied,
                     "sem_open",
                     name.str(),
                     "exists and is owned by uid " + std::to_string(st.st_uid) + ", not by uid " +
                         std::to_string(me) +
                         "; refusing a semaphore another user controls (pass "
                         "OwnerCheck::AnyOwner to share across users)");
    }
    return {};
}

}  // namespace

void PosixSemaphore::Closer::operator()(sem_t* sem) const noexcept {
    ::sem_close(sem);
}

Result<PosixSemaphore> PosixSemaphore::open_impl(
    const PosixName& name, int flags, unsigned initial, Permissions permissions, OwnerCheck owner) {
    if ((flags & O_CREAT) != 0) {
        IPCKIT_TRY(detail::check_initial_value("sem_open", name.str(), initial));
    }
    auto sem = sys::call_ptr("sem_open", name.str(), SEM_FAILED, [&] {
        return ::sem_open(name.c_str(), flags, permissions.bits(), initial);
    });
    if (!sem) {
        return std::move(sem).error();
    }
    PosixSemaphore handle(std::unique_ptr<sem_t, Closer>(*sem), name);
    if (owner == OwnerCheck::RequireSelf && (flags & O_EXCL) == 0) {
        IPCKIT_TRY(check_owner(name));
    }
    return handle;
}

Result<PosixSemaphore> PosixSemaphore::create(const PosixName& name,
                                              unsigned initial,
                                              Permissions permissions) {
    return open_impl(name, O_CREAT | O_EXCL, initial, permissions, OwnerCheck::AnyOwner);
}

Result<PosixSemaphore> PosixSemaphore::open(const PosixName& name, OwnerCheck owner) {
    return open_impl(name, 0, 0, Permissions{}, owner);
}

Result<PosixSemaphore> PosixSemaphore::open_or_create(const PosixName& name,
                                                      unsigned initial,
                                                      Permissions permissions,
                                                      OwnerCheck owner) {
    return open_impl(name, O_CREAT, initial, permissions, owner);
}

Result<void> PosixSemaphore::unlink(const PosixName& name) {
    auto r = sys::call("sem_unlink", name.str(), [&] { return ::sem_unlink(name.c_str()); });
    if (!r) {
        return std::move(r).error();
    }
    return {};
}

Result<void> PosixSemaphore::close() {
    sem_t* sem = sem_.release();
    IPCKIT_ASSERT(sem != nullptr, "close of a closed or moved-from PosixSemaphore");
    auto r = sys::call_once("sem_close", name_.str(), [&] { return ::sem_close(sem); });
    if (!r) {
        return std::move(r).error();
    }
    return {};
}

Result<void> PosixSemaphore::wait() {
    return detail::sem_wait_blocking(sem_.get(), name_.str());
}
Result<bool> PosixSemaphore::try_wait() {
    return detail::sem_try_wait(sem_.get(), name_.str());
}
Result<bool> PosixSemaphore::wait_until(Deadline deadline) {
    return detail::sem_wait_until(sem_.get(), deadline, name_.str());
}
Result<void> PosixSemaphore::post() {
    return detail::sem_post_checked(sem_.get(), name_.str());
}
Result<int> PosixSemaphore::value() const {
    return detail::sem_value(sem_.get(), name_.str());
}

}  // namespace ipckit
