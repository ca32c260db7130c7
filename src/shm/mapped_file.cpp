// SPDX-License-Identifier: MIT
#include "ipckit/shm/mapped_file.hpp"

#include "shm/fd_backing.hpp"
#include "sys/syscall.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace ipckit {

Result<MappedFile> MappedFile::create(const std::string& path,
                                      std::size_t size,
                                      Permissions perms) {
    if (size == 0) {
        return Error(std::errc::invalid_argument, "open", path, "size is 0");
    }
    IPCKIT_TRY_ASSIGN(auto fd, sys::call("open", path, [&] {
                          return ::open(path.c_str(),
                                        O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
                                        perms.bits());
                      }));
    UniqueFd owner(fd);
    if (auto r = detail::fd_resize(owner.get(), path, 0, size); !r) {
        ::unlink(path.c_str());  // we made it; do not leave a half-sized file behind
        return std::move(r).error();
    }
    return MappedFile(std::move(owner), path);
}

Result<MappedFile> MappedFile::open(const std::string& path, Access access) {
    const int flags = access == Access::ReadOnly ? O_RDONLY : O_RDWR;
    IPCKIT_TRY_ASSIGN(auto fd, sys::call("open", path, [&] {
                          return ::open(path.c_str(), flags | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
                      }));
    UniqueFd owner(fd);
    struct stat st {};
    IPCKIT_TRY(sys::call("fstat", path, [&] { return ::fstat(owner.get(), &st); }));
    if (!S_ISREG(st.st_mode)) {
        return Error(std::errc::invalid_argument, "open", path, "not a regular file");
    }
    return MappedFile(std::move(owner), path);
}

Result<std::size_t> MappedFile::size() const {
    return detail::fd_size(fd_.get(), path_);
}

Result<void> MappedFile::resize(std::size_t new_size) {
    return detail::fd_set_size(fd_.get(), path_, new_size);
}

Result<Region> MappedFile::map(Sharing sharing, std::size_t offset, std::size_t length) const {
    return detail::map_region(fd_.get(), path_, sharing, offset, length);
}

Result<ReadOnlyRegion> MappedFile::map_read_only(std::size_t offset, std::size_t length) const {
    return detail::map_read_only_region(fd_.get(), path_, offset, length);
}

Result<bool> MappedFile::removed() const {
    return detail::fd_removed(fd_.get(), path_);
}

}  // namespace ipckit
