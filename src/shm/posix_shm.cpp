// SPDX-License-Identifier: MIT
#include "ipckit/shm/posix_shm.hpp"

#include "shm/fd_backing.hpp"
#include "sys/syscall.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <thread>

namespace ipckit {

namespace detail {
ShmNameLease::ShmNameLease(std::string name, int fd) noexcept
    : name_(std::move(name)), active_(true), owner_pid_(::getpid()) {
    struct stat st {};
    if (::fstat(fd, &st) == 0) {
        dev_ = st.st_dev;
        ino_ = st.st_ino;
    }
}

ShmNameLease::ShmNameLease(ShmNameLease&& other) noexcept
    : name_(std::move(other.name_))
    , active_(std::exchange(other.active_, false))
    , owner_pid_(other.owner_pid_)
    , dev_(other.dev_)
    , ino_(other.ino_) {}

ShmNameLease& ShmNameLease::operator=(ShmNameLease&& other) noexcept {
    if (this != &other) {
        reset();
        name_ = std::move(other.name_);
        active_ = std::exchange(other.active_, false);
        owner_pid_ = other.owner_pid_;
        dev_ = other.dev_;
        ino_ = other.ino_;
    }
    return *this;
}

void ShmNameLease::reset() noexcept {
    if (!active_) {
        return;
    }
    active_ = false;
    if (::getpid() != owner_pid_) {
        return;  // a fork child's copy: the name belongs to the parent
    }
    // Only remove the object we created: glibc keeps POSIX shm names as files in /dev/shm.
    struct stat st {};
    const std::string path = "/dev/shm" + name_;
    if (::lstat(path.c_str(), &st) == 0 && (st.st_dev != dev_ || st.st_ino != ino_)) {
        return;  // unlinked and re-created by someone else meanwhile
    }
    ::shm_unlink(name_.c_str());  // ENOENT if someone removed it already: nothing to do
}
}  // namespace detail

namespace {
int access_flags(Access access) {
    switch (access) {
        case Access::ReadOnly:
            return O_RDONLY;
        case Access::WriteOnly:  // a write-only shm fd cannot be mapped; RDWR is what is meant
        case Access::ReadWrite:
            return O_RDWR;
    }
    return O_RDWR;
}

Result<int> shm_open_raw(const PosixName& name, int flags, mode_t mode) {
    return sys::call("shm_open", name.str(), [&] {
        return ::shm_open(name.c_str(), flags | O_CLOEXEC | O_NOFOLLOW, mode);
    });
}
}  // namespace

Result<PosixShm> PosixShm::create(const PosixName& name, std::size_t size, Permissions perms) {
    if (size == 0) {
        return Error(std::errc::invalid_argument, "shm_open", name.str(), "size is 0");
    }
    IPCKIT_TRY_ASSIGN(auto fd, shm_open_raw(name, O_RDWR | O_CREAT | O_EXCL, perms.bits()));
    UniqueFd owner(fd);
    detail::ShmNameLease lease(name.str(), owner.get());  // from here on a failure removes it again
    IPCKIT_TRY(detail::fd_resize(owner.get(), name.str(), 0, size));
    return PosixShm(std::move(owner), name, std::move(lease));
}

Result<PosixShm> PosixShm::open(const PosixName& name, Access access, const Ownership& ownership) {
    IPCKIT_TRY_ASSIGN(auto fd, shm_open_raw(name, access_flags(access), 0));
    UniqueFd owned(fd);
    // An object someone else made first under our name (a squatter) is refused unless trusted.
    struct stat st {};
    IPCKIT_TRY(sys::call("fstat", name.str(), [&] { return ::fstat(owned.get(), &st); }));
    IPCKIT_TRY(ownership.check(st.st_uid, "shm_open", name.str()));
    return PosixShm(std::move(owned), name, detail::ShmNameLease());
}

Result<PosixShm> PosixShm::open_or_create(const PosixName& name,
                                          std::size_t size,
                                          Permissions perms,
                                          const Ownership& ownership) {
    if (size == 0) {
        return Error(std::errc::invalid_argument, "shm_open", name.str(), "size is 0");
    }
    for (int attempt = 0; attempt < 100; ++attempt) {
        auto created = create(name, size, perms);
        if (created || created.error() != std::errc::file_exists) {
            return created;
        }
        auto opened = open(name, Access::ReadWrite, ownership);
        if (!opened) {
            if (opened.error() == std::errc::no_such_file_or_directory) {
                continue;  // removed between our two calls: try to create again
            }
            return opened;
        }
        // The creator sizes the object right after shm_open; give it a moment (bounded).
        std::size_t actual = 0;
        for (int i = 0; i < 500; ++i) {
            IPCKIT_TRY_ASSIGN(auto s, opened->size());
            actual = s;
            if (actual != 0) {
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        if (actual != size) {
            return detail::size_mismatch("shm_open", name.str(), actual, size);
        }
        return opened;
    }
    return Error(std::errc::resource_unavailable_try_again,
                 "shm_open",
                 name.str(),
                 "the name kept appearing and disappearing");
}

Result<void> PosixShm::unlink(const PosixName& name) {
    return sys::call("shm_unlink", name.str(), [&] { return ::shm_unlink(name.c_str()); })
        .transform([](int) {});
}

Result<void> PosixShm::unlink() {
    lease_.release();
    return unlink(name_);
}

Result<std::size_t> PosixShm::size() const {
    return detail::fd_size(fd_.get(), name_.str());
}

Result<void> PosixShm::resize(std::size_t new_size) {
    return detail::fd_set_size(fd_.get(), name_.str(), new_size);
}

Result<Region> PosixShm::map(Sharing sharing, std::size_t offset, std::size_t length) const {
    return detail::map_region(fd_.get(), name_.str(), sharing, offset, length);
}

Result<ReadOnlyRegion> PosixShm::map_read_only(std::size_t offset, std::size_t length) const {
    return detail::map_read_only_region(fd_.get(), name_.str(), offset, length);
}

Result<bool> PosixShm::removed() const {
    return detail::fd_removed(fd_.get(), name_.str());
}

}  // namespace ipckit
