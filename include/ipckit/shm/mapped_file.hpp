// SPDX-License-Identifier: MIT
// MappedFile: a regular file opened for mapping, shared or private, whole or by range.
#pragma once

#include "ipckit/core/open_mode.hpp"
#include "ipckit/core/result.hpp"
#include "ipckit/core/unique_fd.hpp"
#include "ipckit/export.hpp"
#include "ipckit/shm/region.hpp"

#include <cstddef>
#include <string>

namespace ipckit {

/// A regular file to map (mmap(2)): shared mappings write through to the file and are seen by
/// every process mapping it; private mappings are copy-on-write.
///
/// Ownership: the fd only; the file is never removed by this handle. Regions returned by map()
/// outlive it. create() reserves the space (posix_fallocate) so a full file system is ENOSPC at
/// create and not SIGBUS later. Ranges are checked against the file's size at map time: mapping
/// past the end is refused, since mmap would accept it and the touch would raise SIGBUS. A peer
/// truncating the file afterwards is the caller's risk (F14), see docs/design/shm.md.
///
/// Thread-safety: not synchronised. Fork/exec: the fd is O_CLOEXEC.
///
/// @code
///   auto f = MappedFile::open("/var/lib/app/table", Access::ReadOnly).value();
///   ReadOnlyRegion all = f.map_read_only().value();
///   ReadOnlyRegion page2 = f.map_read_only(2 * Mapping::page_size(), 4096).value();
/// @endcode
class IPCKIT_API MappedFile {
public:
    /// O_CREAT|O_EXCL, then size and reserve `size` bytes (0 is errc::invalid_argument).
    static Result<MappedFile> create(const std::string& path,
                                     std::size_t size,
                                     Permissions perms = Permissions());
    /// Opens an existing regular file (O_NOFOLLOW; anything but a regular file is refused).
    static Result<MappedFile> open(const std::string& path, Access access = Access::ReadWrite);

    [[nodiscard]] Result<std::size_t> size() const;
    /// Grows (reserving) or shrinks the file; see PosixShm::resize for the SIGBUS caveat.
    Result<void> resize(std::size_t new_size);
    /// Read-write mapping of [offset, offset+length) (length 0: to the end). Private mappings
    /// work on a read-only fd (copy-on-write); shared ones need Access::ReadWrite.
    [[nodiscard]] Result<Region> map(Sharing sharing = Sharing::Shared,
                                     std::size_t offset = 0,
                                     std::size_t length = 0) const;
    [[nodiscard]] Result<ReadOnlyRegion> map_read_only(std::size_t offset = 0,
                                                       std::size_t length = 0) const;
    /// The file was unlinked while we hold it (st_nlink == 0).
    [[nodiscard]] Result<bool> removed() const;

    [[nodiscard]] const std::string& path() const noexcept { return path_; }
    [[nodiscard]] int native_handle() const noexcept { return fd_.get(); }

private:
    MappedFile(UniqueFd fd, std::string path) noexcept
        : fd_(std::move(fd)), path_(std::move(path)) {}
    UniqueFd fd_;
    std::string path_;
};

}  // namespace ipckit
