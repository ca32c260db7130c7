// SPDX-License-Identifier: MIT
#include "ipckit/shm/memfd.hpp"

#include "shm/fd_backing.hpp"
#include "sys/syscall.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <string>

namespace ipckit {

static_assert(static_cast<unsigned>(Seals::Seal) == F_SEAL_SEAL);
static_assert(static_cast<unsigned>(Seals::Shrink) == F_SEAL_SHRINK);
static_assert(static_cast<unsigned>(Seals::Grow) == F_SEAL_GROW);
static_assert(static_cast<unsigned>(Seals::Write) == F_SEAL_WRITE);

namespace {
constexpr unsigned kKnownSeals = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;

std::string seal_names(Seals s) {
    std::string out;
    auto add = [&](Seals bit, const char* n) {
        if (has_seals(s, bit)) {
            out += out.empty() ? n : std::string("|") + n;
        }
    };
    add(Seals::Shrink, "F_SEAL_SHRINK");
    add(Seals::Grow, "F_SEAL_GROW");
    add(Seals::Write, "F_SEAL_WRITE");
    add(Seals::Seal, "F_SEAL_SEAL");
    return out.empty() ? "none" : out;
}
}  // namespace

Result<Memfd> Memfd::create(std::string_view name, std::size_t size) {
    std::string label = "memfd:" + std::string(name);
    if (size == 0) {
        return Error(std::errc::invalid_argument, "memfd_create", label, "size is 0");
    }
    const std::string n(name);
    IPCKIT_TRY_ASSIGN(auto fd, sys::call("memfd_create", label, [&] {
                          return ::memfd_create(n.c_str(), MFD_CLOEXEC | MFD_ALLOW_SEALING);
                      }));
    UniqueFd owner(fd);
    IPCKIT_TRY(detail::fd_resize(owner.get(), label, 0, size));
    return Memfd(std::move(owner), std::move(label));
}

Result<Memfd> Memfd::from_received(UniqueFd fd, Seals required, std::size_t max_size) {
    std::string label = "received fd " + std::to_string(fd.get());
    auto seals =
        sys::call("fcntl(F_GET_SEALS)", label, [&] { return ::fcntl(fd.get(), F_GET_SEALS); });
    if (!seals) {
        if (seals.error() == std::errc::invalid_argument) {
            return Error(std::errc::invalid_argument,
                         "fcntl(F_GET_SEALS)",
                         label,
                         "not a memfd (the fd does not support seals)");
        }
        return std::move(seals).error();
    }
    const auto have = static_cast<Seals>(static_cast<unsigned>(*seals) & kKnownSeals);
    if (!has_seals(have, required)) {
        return Error(std::errc::operation_not_permitted,
                     "fcntl(F_GET_SEALS)",
                     label,
                     "required seals " + seal_names(required) + ", the fd has " + seal_names(have));
    }
    struct stat st {};
    IPCKIT_TRY(sys::call("fstat", label, [&] { return ::fstat(fd.get(), &st); }));
    if (!S_ISREG(st.st_mode)) {
        return Error(std::errc::invalid_argument, "fstat", label, "not a regular memfd");
    }
    const auto size = static_cast<std::size_t>(st.st_size);
    if (size == 0 || size > max_size) {
        return Error(
            std::errc::invalid_argument,
            "fstat",
            label,
            "size " + std::to_string(size) + " is outside [1, " + std::to_string(max_size) + "]");
    }
    return Memfd(std::move(fd), std::move(label));
}

Result<void> Memfd::add_seals(Seals seals) {
    auto r = sys::call("fcntl(F_ADD_SEALS)", label_, [&] {
        return ::fcntl(fd_.get(), F_ADD_SEALS, static_cast<int>(seals));
    });
    if (!r) {
        if (r.error() == std::errc::device_or_resource_busy) {
            return r.error().with_detail("F_SEAL_WRITE while a writable shared mapping exists");
        }
        if (r.error() == std::errc::operation_not_permitted) {
            return r.error().with_detail("already sealed with F_SEAL_SEAL");
        }
        return std::move(r).error();
    }
    return {};
}

Result<Seals> Memfd::seals() const {
    IPCKIT_TRY_ASSIGN(auto r, sys::call("fcntl(F_GET_SEALS)", label_, [&] {
                          return ::fcntl(fd_.get(), F_GET_SEALS);
                      }));
    return static_cast<Seals>(static_cast<unsigned>(r) & kKnownSeals);
}

Result<std::size_t> Memfd::size() const {
    return detail::fd_size(fd_.get(), label_);
}

Result<void> Memfd::resize(std::size_t new_size) {
    return detail::fd_set_size(fd_.get(), label_, new_size);
}

Result<Region> Memfd::map(Sharing sharing) const {
    return detail::map_region(fd_.get(), label_, sharing, 0, 0);
}

Result<ReadOnlyRegion> Memfd::map_read_only() const {
    return detail::map_read_only_region(fd_.get(), label_, 0, 0);
}

}  // namespace ipckit
