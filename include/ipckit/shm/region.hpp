// SPDX-License-Identifier: MIT
// BasicRegion: a mapped region of shared (or private) memory with checked typed access, msync,
// madvise, mlock and an up-front populate that reports instead of raising SIGBUS.
#pragma once

#include "ipckit/core/mapping.hpp"
#include "ipckit/core/result.hpp"
#include "ipckit/export.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <span>
#include <string>
#include <type_traits>

namespace ipckit {

/// msync(2) flavour: Sync waits for the write-back (MS_SYNC), Async schedules it (MS_ASYNC).
enum class SyncMode { Sync, Async };

/// madvise(2) advice a caller may give. HugePage/NoHugePage are transparent huge pages.
enum class Advice { Normal, Random, Sequential, WillNeed, DontNeed, HugePage, NoHugePage };

/// Whether an anonymous region should try huge pages (MAP_HUGETLB). Huge pages are optional: when
/// the pool is empty or the kernel refuses, the region falls back to normal pages with
/// MADV_HUGEPAGE (transparent huge pages) and huge_pages() reports false. Never an error.
enum class PageSize { Normal, PreferHuge };

namespace detail {
template <class T>
struct IsLockFreeAtomic : std::false_type {};
template <class U>
struct IsLockFreeAtomic<std::atomic<U>>
    : std::bool_constant<std::atomic<U>::is_always_lock_free && std::is_trivially_copyable_v<U> &&
                         sizeof(std::atomic<U>) == sizeof(U)> {};
template <class U>
struct IsLockFreeAtomic<const std::atomic<U>> : IsLockFreeAtomic<std::atomic<U>> {};
}  // namespace detail

/// Types a region may be viewed as: trivially copyable types (which are implicit-lifetime, so
/// bytes written by another process form a valid object), plus lock-free std::atomic<U> of a
/// trivially copyable U, whose representation is U's: the one exception, because the cross-process
/// words Futex waits on are atomics. The process that initialises the memory constructs the atomic
/// with construct<>() before publishing it. Pointers are allowed by the language but mean nothing
/// in another process; keep offsets in shared structures.
template <class T>
concept SharedViewable = !std::is_reference_v<T> &&
                         (std::is_trivially_copyable_v<T> || detail::IsLockFreeAtomic<T>::value);

/// Types a writable region may construct in place: no destructor ever runs in shared memory, so
/// the type must be trivially destructible (std::atomic<std::uint32_t> qualifies).
template <class T>
concept SharedConstructible = std::is_trivially_destructible_v<T> && !std::is_reference_v<T>;

namespace detail {
/// Checks that [offset, offset + count*sizeof(T)) lies inside `size` bytes at `base` and that the
/// first element is aligned for T. The bound is the size *we* mapped (Rule 4), never a size read
/// from the memory.
IPCKIT_API Result<void> check_typed_range(const void* base,
                                          std::size_t size,
                                          std::size_t offset,
                                          std::size_t elem_size,
                                          std::size_t elem_align,
                                          std::size_t count,
                                          const char* type_name);
Result<void> region_sync(void* addr, std::size_t size, SyncMode mode);
Result<void> region_advise(void* addr, std::size_t size, Advice advice);
Result<void> region_lock(void* addr, std::size_t size);
Result<void> region_unlock(void* addr, std::size_t size);
Result<void> region_populate(void* addr, std::size_t size, bool writable);

/// Typed pointer into a byte range, with the checks above. B is std::byte or const std::byte.
template <class T, class B>
Result<T*> typed_at(B* base, std::size_t size, std::size_t offset, std::size_t count = 1) {
    IPCKIT_TRY(check_typed_range(base, size, offset, sizeof(T), alignof(T), count, "object"));
    // The bytes already hold a T as far as the language is concerned: T is implicit-lifetime and
    // the memory came from mmap/shmat (which implicitly creates objects). launder hands it out.
    return std::launder(reinterpret_cast<T*>(base + offset));  // NOLINT(*reinterpret-cast)
}
}  // namespace detail

/// A mapped region that owns its Mapping (munmap on destruction). Writable = false hands out
/// const bytes and const objects only, so writing through a read-only mapping does not compile:
///
/// @code
///   ReadOnlyRegion ro = shm.map_read_only().value();
///   ro.bytes()[0] = std::byte{1};        // error: assignment of read-only location
///   const Header* h = ro.as<Header>().value();
///   Region rw = Region::anonymous(4096).value();   // MAP_SHARED|MAP_ANONYMOUS, fork-inherited
///   auto* counter = rw.construct<std::atomic<std::uint32_t>>(0, 0u).value();
/// @endcode
///
/// Ownership: the region, not the file or object it maps (closing the fd does not unmap).
/// Thread-safety: the handle is not synchronised; the memory is whatever the caller makes it.
/// Fork: a Shared region is shared with children; a Private one is copy-on-write. Exec unmaps.
///
/// SIGBUS: touching a page of a file-backed region whose backing was truncated by a peer (F14)
/// or cannot be allocated (a full tmpfs, F13) raises SIGBUS. The facilities reserve space at
/// creation (posix_fallocate) and populate() lets a caller fault everything in up front and get
/// an error instead; a peer shrinking the object later remains the caller's risk (see
/// docs/design/shm.md).
template <bool Writable>
class IPCKIT_API BasicRegion {
public:
    using Byte = std::conditional_t<Writable, std::byte, const std::byte>;
    template <class T>
    using Elem = std::conditional_t<Writable, T, const T>;

    BasicRegion() noexcept = default;
    /// Wraps a mapping; its protection must match Writable (contract).
    explicit BasicRegion(Mapping mapping, bool huge_pages = false) noexcept;

    /// MAP_SHARED|MAP_ANONYMOUS (or MAP_PRIVATE) zero-filled region, inherited across fork.
    static Result<BasicRegion> anonymous(std::size_t size,
                                         Sharing sharing = Sharing::Shared,
                                         PageSize pages = PageSize::Normal) requires Writable;
    /// The seeds' way (Program 15.33): a MAP_SHARED mapping of /dev/zero, which the kernel turns
    /// into shared anonymous memory. The /dev/zero descriptor is closed before returning.
    static Result<BasicRegion> dev_zero(std::size_t size) requires Writable;

    [[nodiscard]] Byte* data() const noexcept {
        // NOLINTNEXTLINE(*const-cast): shallow const, as std::span
        return const_cast<Byte*>(mapping_.data());
    }
    [[nodiscard]] std::size_t size() const noexcept { return mapping_.size(); }
    [[nodiscard]] bool valid() const noexcept { return mapping_.valid(); }
    [[nodiscard]] std::span<Byte> bytes() const noexcept { return {data(), size()}; }
    /// True when MAP_HUGETLB succeeded (anonymous(..., PreferHuge) only).
    [[nodiscard]] bool huge_pages() const noexcept { return huge_; }

    /// A T at `offset`: errc::invalid_argument if it would not fit or is misaligned.
    template <SharedViewable T>
    Result<Elem<T>*> as(std::size_t offset = 0) const {
        return detail::typed_at<Elem<T>>(data(), size(), offset);
    }
    /// `count` Ts starting at `offset`, checked the same way.
    template <SharedViewable T>
    Result<std::span<Elem<T>>> as_array(std::size_t offset, std::size_t count) const {
        auto p = detail::typed_at<Elem<T>>(data(), size(), offset, count);
        if (!p) {
            return std::move(p).error();
        }
        return std::span<Elem<T>>(*p, count);
    }
    /// Placement-constructs a T at `offset` (e.g. an atomic for Futex). Writable regions only.
    template <SharedConstructible T, class... Args>
    Result<T*> construct(std::size_t offset, Args&&... args) const requires Writable {
        IPCKIT_TRY(
            detail::check_typed_range(data(), size(), offset, sizeof(T), alignof(T), 1, "object"));
        // NOLINTNEXTLINE(cppcoreguidelines-owning-memory): placement new, never deleted
        return ::new (static_cast<void*>(data() + offset)) T(std::forward<Args>(args)...);
    }

    /// msync(2) the whole region (meaningful for file-backed shared regions).
    Result<void> sync(SyncMode mode = SyncMode::Sync) const;
    /// madvise(2).
    Result<void> advise(Advice advice) const;
    /// mlock(2)/munlock(2); ENOMEM/EAGAIN name RLIMIT_MEMLOCK in the detail.
    Result<void> lock() const;
    Result<void> unlock() const;
    /// Faults every page in now (MADV_POPULATE_WRITE, or _READ for read-only regions). Where a
    /// touch would raise SIGBUS (backing truncated or out of space) this returns an error instead
    /// ("madvise(MADV_POPULATE_WRITE) ...: Bad address"), so a caller can verify a region before
    /// trusting it.
    Result<void> populate() const;

    [[nodiscard]] const Mapping& mapping() const noexcept { return mapping_; }
    /// munmap now.
    void reset() noexcept { mapping_.reset(); }

private:
    Mapping mapping_;
    bool huge_ = false;
};

/// A writable mapping.
using Region = BasicRegion<true>;
/// A read-only mapping: const bytes only.
using ReadOnlyRegion = BasicRegion<false>;

extern template class BasicRegion<true>;
extern template class BasicRegion<false>;

}  // namespace ipckit
