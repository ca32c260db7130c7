// SPDX-License-Identifier: MIT
// Private helpers shared by PosixShm, MappedFile and Memfd: every one is "an fd whose size is the
// object's size", so sizing, space reservation, range-checked mapping and the "removed under me"
// check live here once; their public size/resize/map/map_read_only/removed members only forward.
#pragma once

#include "ipckit/core/mapping.hpp"
#include "ipckit/core/result.hpp"
#include "ipckit/shm/region.hpp"

#include <cstddef>
#include <string_view>

namespace ipckit::detail {

/// st_size from fstat.
Result<std::size_t> fd_size(int fd, std::string_view object);
/// st_nlink == 0: the name was removed while we hold the object (F15).
Result<bool> fd_removed(int fd, std::string_view object);
/// Sets the size to `size` and reserves the blocks (posix_fallocate), so a full tmpfs is ENOSPC
/// here and never a SIGBUS on first touch (F13). Growing reserves; shrinking truncates.
Result<void> fd_resize(int fd, std::string_view object, std::size_t old_size, std::size_t size);
/// Maps [offset, offset+length) of an fd whose current size is looked up with fstat. length 0
/// means "to the end". Refuses a misaligned offset, an empty object, and any range past the end
/// (which mmap would accept and turn into SIGBUS on touch).
Result<Mapping> map_range(int fd,
                          std::string_view object,
                          std::size_t offset,
                          std::size_t length,
                          Protection prot,
                          Sharing sharing);
/// fd_resize from the object's current size (the public resize() of an object in use).
Result<void> fd_set_size(int fd, std::string_view object, std::size_t size);
/// map_range as the Region (Protection::ReadWrite) / ReadOnlyRegion the public map members return.
Result<Region> map_region(
    int fd, std::string_view object, Sharing sharing, std::size_t offset, std::size_t length);
Result<ReadOnlyRegion> map_read_only_region(int fd,
                                            std::string_view object,
                                            std::size_t offset,
                                            std::size_t length);
/// The D14 message: "segment K exists with size X, requested Y".
Error size_mismatch(const char* op,
                    std::string_view object,
                    std::size_t actual,
                    std::size_t wanted);

}  // namespace ipckit::detail
