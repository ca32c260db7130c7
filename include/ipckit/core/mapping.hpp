// SPDX-License-Identifier: MIT
// Mapping: sole owner of one mmap(2) region.
#pragma once

#include <cstddef>
#include <span>

#include "ipckit/core/result.hpp"
#include "ipckit/export.hpp"

namespace ipckit {

/// Protection of a mapping. Read-only mappings hand out const bytes only.
enum class Protection { ReadOnly, ReadWrite };

/// Whether writes are visible to other processes mapping the same object.
enum class Sharing { Shared, Private };

/// Move-only owner of a memory mapping; munmap(2) on destruction. Built by the facilities
/// (PosixShm, SysV shm uses its own detach owner, memfd, files) and by map_anonymous() for
/// fork-inherited shared memory. The size is the one *we* mapped, never one read from the
/// memory itself, so it is the trusted bound for every offset into the region (Rule 4).
///
/// @code
///   auto m = Mapping::map(fd.get(), 4096, 0, Protection::ReadWrite, Sharing::Shared, "/dev/shm/x");
///   if (!m) return m.error();
///   std::span<std::byte> bytes = m->bytes();
/// @endcode
class IPCKIT_API Mapping {
public:
    Mapping() noexcept = default;
    Mapping(Mapping&& other) noexcept;
    Mapping& operator=(Mapping&& other) noexcept;
    Mapping(const Mapping&) = delete;
    Mapping& operator=(const Mapping&) = delete;
    ~Mapping();

    /// mmap(fd, [offset, offset+length)). `offset` must be a multiple of the page size
    /// (errc::invalid_argument naming the offset otherwise); `object` names the target in errors.
    static Result<Mapping> map(int fd,
                               std::size_t length,
                               std::size_t offset,
                               Protection prot,
                               Sharing sharing,
                               std::string_view object,
                               int extra_flags = 0);
    /// A MAP_SHARED|MAP_ANONYMOUS region of `length` zero bytes, inherited by fork(2) children.
    static Result<Mapping> map_anonymous(std::size_t length, Sharing sharing = Sharing::Shared);
    /// Takes ownership of a region mapped elsewhere.
    static Mapping adopt(void* addr, std::size_t length, Protection prot) noexcept;

    [[nodiscard]] std::byte* data() noexcept { return static_cast<std::byte*>(addr_); }
    [[nodiscard]] const std::byte* data() const noexcept {
        return static_cast<const std::byte*>(addr_);
    }
    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    [[nodiscard]] bool valid() const noexcept { return addr_ != nullptr; }
    [[nodiscard]] Protection protection() const noexcept { return prot_; }

    /// Writable bytes; a contract violation (abort) on a read-only mapping.
    [[nodiscard]] std::span<std::byte> bytes() noexcept;
    [[nodiscard]] std::span<const std::byte> bytes() const noexcept { return {data(), size_}; }

    /// munmap now; safe to call twice.
    void reset() noexcept;

    /// The system page size (cached).
    static std::size_t page_size() noexcept;

private:
    Mapping(void* addr, std::size_t size, Protection prot) noexcept
        : addr_(addr), size_(size), prot_(prot) {}
    void* addr_ = nullptr;
    std::size_t size_ = 0;
    Protection prot_ = Protection::ReadOnly;
};

}  // namespace ipckit
