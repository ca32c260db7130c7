// SPDX-License-Identifier: MIT
#include "ipckit/core/mapping.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <string>

#include "ipckit/core/assert.hpp"
#include "sys/syscall.hpp"

namespace ipckit {

Mapping::Mapping(Mapping&& other) noexcept
    : addr_(std::exchange(other.addr_, nullptr))
    , size_(std::exchange(other.size_, 0))
    , prot_(other.prot_) {}

Mapping& Mapping::operator=(Mapping&& other) noexcept {
    if (this != &other) {
        reset();
        addr_ = std::exchange(other.addr_, nullptr);
        size_ = std::exchange(other.size_, 0);
        prot_ = other.prot_;
    }
    return *this;
}

Mapping::~Mapping() { reset(); }

void Mapping::reset() noexcept {
    if (addr_ != nullptr) {
        ::munmap(addr_, size_);  // only EINVAL is possible, for a region we never mapped
        addr_ = nullptr;
        size_ = 0;
    }
}

std::size_t Mapping::page_size() noexcept {
    static const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    return page;
}

std::span<std::byte> Mapping::bytes() noexcept {
    IPCKIT_ASSERT(prot_ == Protection::ReadWrite, "writable bytes of a read-only mapping");
    return {data(), size_};
}

Result<Mapping> Mapping::map(int fd,
                             std::size_t length,
                             std::size_t offset,
                             Protection prot,
                             Sharing sharing,
                             std::string_view object,
                             int extra_flags) {
    if (length == 0) {
        return Error(std::errc::invalid_argument, "mmap", std::string(object), "length is 0");
    }
    if (offset % page_size() != 0) {
        return Error(std::errc::invalid_argument,
                     "mmap",
                     std::string(object),
                     "offset " + std::to_string(offset) + " is not a multiple of the page size " +
                         std::to_string(page_size()));
    }
    const int p = prot == Protection::ReadWrite ? (PROT_READ | PROT_WRITE) : PROT_READ;
    const int flags = (sharing == Sharing::Shared ? MAP_SHARED : MAP_PRIVATE) | extra_flags;
    IPCKIT_TRY_ASSIGN(auto addr, sys::call_ptr("mmap", object, MAP_FAILED, [&] {
                          return ::mmap(nullptr, length, p, flags, fd, static_cast<off_t>(offset));
                      }));
    return Mapping(addr, length, prot);
}

Result<Mapping> Mapping::map_anonymous(std::size_t length, Sharing sharing) {
    return map(-1, length, 0, Protection::ReadWrite, sharing, "anonymous", MAP_ANONYMOUS);
}

Mapping Mapping::adopt(void* addr, std::size_t length, Protection prot) noexcept {
    return {addr, length, prot};
}

}  // namespace ipckit
