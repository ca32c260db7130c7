// SPDX-License-Identifier: MIT
#include "ipckit/shm/region.hpp"

#include "ipckit/core/assert.hpp"
#include "ipckit/core/unique_fd.hpp"
#include "sys/syscall.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include <string>

namespace ipckit {
namespace detail {

Result<void> check_typed_range(const void* base,
                               std::size_t size,
                               std::size_t offset,
                               std::size_t elem_size,
                               std::size_t elem_align,
                               std::size_t count,
                               const char* type_name) {
    if (base == nullptr) {
        return Error(std::errc::invalid_argument, "as", "region", "the region is not mapped");
    }
    // Written so that no sum can overflow: offset <= size first, then the remainder.
    const std::size_t remaining = offset <= size ? size - offset : 0;
    if (offset > size || (elem_size != 0 && count > remaining / elem_size)) {
        return Error(std::errc::invalid_argument,
                     "as",
                     "region",
                     std::to_string(count) + " " + type_name + "(s) of " +
                         std::to_string(elem_size) + " bytes at offset " + std::to_string(offset) +
                         " do not fit in " + std::to_string(size) + " bytes");
    }
    const auto addr = reinterpret_cast<std::uintptr_t>(base) + offset;  // NOLINT
    if (addr % elem_align != 0) {
        return Error(std::errc::invalid_argument,
                     "as",
                     "region",
                     "offset " + std::to_string(offset) + " is not aligned to " +
                         std::to_string(elem_align) + " bytes");
    }
    return {};
}

Result<void> region_sync(void* addr, std::size_t size, SyncMode mode) {
    const int flags = mode == SyncMode::Sync ? MS_SYNC : MS_ASYNC;
    return sys::call("msync", "region", [&] { return ::msync(addr, size, flags); })
        .transform([](int) {});
}

Result<void> region_advise(void* addr, std::size_t size, Advice advice) {
    int a = MADV_NORMAL;
    switch (advice) {
        case Advice::Normal:
            a = MADV_NORMAL;
            break;
        case Advice::Random:
            a = MADV_RANDOM;
            break;
        case Advice::Sequential:
            a = MADV_SEQUENTIAL;
            break;
        case Advice::WillNeed:
            a = MADV_WILLNEED;
            break;
        case Advice::DontNeed:
            a = MADV_DONTNEED;
            break;
        case Advice::HugePage:
            a = MADV_HUGEPAGE;
            break;
        case Advice::NoHugePage:
            a = MADV_NOHUGEPAGE;
            break;
    }
    return sys::call("madvise", "region", [&] { return ::madvise(addr, size, a); })
        .transform([](int) {});
}

Result<void> region_lock(void* addr, std::size_t size) {
    auto r = sys::call("mlock", "region", [&] { return ::mlock(addr, size); });
    if (!r) {
        const auto err = r.error().errno_value();
        if (err == ENOMEM || err == EAGAIN || err == EPERM) {
            rlimit lim{};
            ::getrlimit(RLIMIT_MEMLOCK, &lim);
            const std::string cur =
                lim.rlim_cur == RLIM_INFINITY ? "unlimited" : std::to_string(lim.rlim_cur);
            return r.error().with_detail("locking " + std::to_string(size) +
                                         " bytes; RLIMIT_MEMLOCK is " + cur +
                                         " (raise with ulimit -l)");
        }
        return std::move(r).error();
    }
    return {};
}

Result<void> region_unlock(void* addr, std::size_t size) {
    return sys::call("munlock", "region", [&] { return ::munlock(addr, size); }).transform([](int) {
    });
}

Result<void> region_populate(void* addr, std::size_t size, bool writable) {
    const int a = writable ? MADV_POPULATE_WRITE : MADV_POPULATE_READ;
    const char* op = writable ? "madvise(MADV_POPULATE_WRITE)" : "madvise(MADV_POPULATE_READ)";
    auto r = sys::call(op, "region", [&] { return ::madvise(addr, size, a); });
    if (!r) {
        if (r.error().errno_value() == EFAULT) {
            return r.error().with_detail(
                "a page cannot be backed (object truncated or file system full); touching it "
                "would raise SIGBUS");
        }
        return std::move(r).error();
    }
    return {};
}

}  // namespace detail

template <bool Writable>
BasicRegion<Writable>::BasicRegion(Mapping mapping, bool huge_pages) noexcept
    : mapping_(std::move(mapping)), huge_(huge_pages) {
    IPCKIT_ASSERT(!mapping_.valid() || (mapping_.protection() == Protection::ReadWrite) == Writable,
                  "region protection does not match the mapping");
}

template <bool Writable>
Result<BasicRegion<Writable>> BasicRegion<Writable>::anonymous(std::size_t size,
                                                               Sharing sharing,
                                                               PageSize pages) requires Writable {
    if (size == 0) {
        return Error(std::errc::invalid_argument, "mmap", "anonymous", "size is 0");
    }
    if (pages == PageSize::PreferHuge) {
        // MAP_HUGETLB needs a length that is a multiple of the huge page size (2 MiB here) or
        // munmap fails; round up. ENOMEM (empty pool) or EINVAL (no hugetlbfs) fall back.
        constexpr std::size_t kHuge = std::size_t{2} << 20;
        const std::size_t rounded = (size + kHuge - 1) / kHuge * kHuge;
        auto huge = Mapping::map(-1,
                                 rounded,
                                 0,
                                 Protection::ReadWrite,
                                 sharing,
                                 "anonymous",
                                 MAP_ANONYMOUS | MAP_HUGETLB);
        if (huge) {
            return BasicRegion(std::move(*huge), true);
        }
    }
    IPCKIT_TRY_ASSIGN(auto m, Mapping::map_anonymous(size, sharing));
    BasicRegion region(std::move(m));
    if (pages == PageSize::PreferHuge) {
        (void)region.advise(Advice::HugePage);  // best effort: THP may be disabled ("never")
    }
    return region;
}

template <bool Writable>
Result<BasicRegion<Writable>> BasicRegion<Writable>::dev_zero(std::size_t size) requires Writable {
    IPCKIT_TRY_ASSIGN(auto fd, sys::call("open", "/dev/zero", [] {
                          return ::open("/dev/zero", O_RDWR | O_CLOEXEC);
                      }));
    UniqueFd owner(fd);
    IPCKIT_TRY_ASSIGN(
        auto m,
        Mapping::map(owner.get(), size, 0, Protection::ReadWrite, Sharing::Shared, "/dev/zero"));
    return BasicRegion(std::move(m));  // the fd closes here; the mapping stays
}

template <bool Writable>
Result<void> BasicRegion<Writable>::sync(SyncMode mode) const {
    return detail::region_sync(
        const_cast<std::byte*>(mapping_.data()),  // NOLINT(*const-cast): the syscalls take void*
        size(),
        mode);
}
template <bool Writable>
Result<void> BasicRegion<Writable>::advise(Advice advice) const {
    return detail::region_advise(
        const_cast<std::byte*>(mapping_.data()),  // NOLINT(*const-cast): the syscalls take void*
        size(),
        advice);
}
template <bool Writable>
Result<void> BasicRegion<Writable>::lock() const {
    return detail::region_lock(
        const_cast<std::byte*>(mapping_.data()),  // NOLINT(*const-cast): the syscalls take void*
        size());
}
template <bool Writable>
Result<void> BasicRegion<Writable>::unlock() const {
    return detail::region_unlock(
        const_cast<std::byte*>(mapping_.data()),  // NOLINT(*const-cast): the syscalls take void*
        size());
}
template <bool Writable>
Result<void> BasicRegion<Writable>::populate() const {
    return detail::region_populate(
        const_cast<std::byte*>(mapping_.data()),  // NOLINT(*const-cast): the syscalls take void*
        size(),
        Writable);
}

template class BasicRegion<true>;
template class BasicRegion<false>;

}  // namespace ipckit
