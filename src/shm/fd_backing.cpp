// SPDX-License-Identifier: MIT
#include "shm/fd_backing.hpp"

#include "sys/syscall.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

namespace ipckit::detail {

namespace {
Result<struct stat> fd_stat(int fd, std::string_view object) {
    struct stat st {};
    IPCKIT_TRY(sys::call("fstat", object, [&] { return ::fstat(fd, &st); }));
    return st;
}
}  // namespace

Result<std::size_t> fd_size(int fd, std::string_view object) {
    IPCKIT_TRY_ASSIGN(auto st, fd_stat(fd, object));
    return static_cast<std::size_t>(st.st_size);
}

Result<bool> fd_removed(int fd, std::string_view object) {
    IPCKIT_TRY_ASSIGN(auto st, fd_stat(fd, object));
    return st.st_nlink == 0;
}

Result<void> fd_resize(int fd, std::string_view object, std::size_t old_size, std::size_t size) {
    if (size == 0) {
        return Error(std::errc::invalid_argument, "ftruncate", std::string(object), "size is 0");
    }
    if (size < old_size) {
        return sys::call(
                   "ftruncate", object, [&] { return ::ftruncate(fd, static_cast<off_t>(size)); })
            .transform([](int) {});
    }
    // posix_fallocate extends the size and allocates every block; on ENOSPC tmpfs gives the pages
    // back and leaves the size as it was. It returns the error number instead of setting errno.
    int rc = 0;
    do {
        rc = ::posix_fallocate(fd, 0, static_cast<off_t>(size));
    } while (rc == EINTR);
    if (rc != 0) {
        auto err = Error::from_errno(rc,
                                     "posix_fallocate",
                                     std::string(object),
                                     "reserving " + std::to_string(size) + " bytes");
        if (rc == ENOSPC) {
            err = err.with_detail("the file system holding it is full (df /dev/shm)");
        }
        return err;
    }
    return {};
}

Result<Mapping> map_range(int fd,
                          std::string_view object,
                          std::size_t offset,
                          std::size_t length,
                          Protection prot,
                          Sharing sharing) {
    if (offset % Mapping::page_size() != 0) {
        return Error(std::errc::invalid_argument,
                     "mmap",
                     std::string(object),
                     "offset " + std::to_string(offset) + " is not a multiple of the page size " +
                         std::to_string(Mapping::page_size()));
    }
    IPCKIT_TRY_ASSIGN(auto size, fd_size(fd, object));
    if (size == 0) {
        return Error(std::errc::invalid_argument,
                     "mmap",
                     std::string(object),
                     "the object is empty (size 0)");
    }
    if (offset >= size) {
        return Error(std::errc::invalid_argument,
                     "mmap",
                     std::string(object),
                     "offset " + std::to_string(offset) + " is at or past the end (size " +
                         std::to_string(size) + ")");
    }
    const std::size_t avail = size - offset;
    if (length == 0) {
        length = avail;
    } else if (length > avail) {
        return Error(std::errc::invalid_argument,
                     "mmap",
                     std::string(object),
                     "range [" + std::to_string(offset) + ", " + std::to_string(offset) + "+" +
                         std::to_string(length) + ") ends past the end of the object (size " +
                         std::to_string(size) + "); touching it would raise SIGBUS");
    }
    return Mapping::map(fd, length, offset, prot, sharing, object);
}

Result<void> fd_set_size(int fd, std::string_view object, std::size_t size) {
    IPCKIT_TRY_ASSIGN(auto old, fd_size(fd, object));
    return fd_resize(fd, object, old, size);
}

Result<Region> map_region(
    int fd, std::string_view object, Sharing sharing, std::size_t offset, std::size_t length) {
    IPCKIT_TRY_ASSIGN(auto m,
                      map_range(fd, object, offset, length, Protection::ReadWrite, sharing));
    return Region(std::move(m));
}

Result<ReadOnlyRegion> map_read_only_region(int fd,
                                            std::string_view object,
                                            std::size_t offset,
                                            std::size_t length) {
    IPCKIT_TRY_ASSIGN(auto m,
                      map_range(fd, object, offset, length, Protection::ReadOnly, Sharing::Shared));
    return ReadOnlyRegion(std::move(m));
}

Error size_mismatch(const char* op,
                    std::string_view object,
                    std::size_t actual,
                    std::size_t wanted) {
    return {std::errc::invalid_argument,
            op,
            std::string(object),
            "segment " + std::string(object) + " exists with size " + std::to_string(actual) +
                ", requested " + std::to_string(wanted)};
}

}  // namespace ipckit::detail
