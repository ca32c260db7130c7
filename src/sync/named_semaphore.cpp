// SPDX-License-Identifier: MIT
#include "ipckit/sync/named_semaphore.hpp"

#include "ipckit/core/assert.hpp"
#include "sync/semaphore_ops.hpp"
#include "sys/syscall.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdint>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>

namespace ipckit {

namespace {

// Where glibc keeps a named semaphore: a file "sem.NAME" in the POSIX shm directory.
std::string backing_file(const PosixName& name) {
    return "/dev/shm/sem." + std::string(name.without_slash());
}

// The device and inode of the file mapped at `addr`, from /proc/self/maps; empty if it cannot be
// read or parsed (no /proc).
std::optional<std::pair<dev_t, ino_t>> mapped_file_at(const void* addr) {
    std::ifstream maps("/proc/self/maps");
    const auto where = reinterpret_cast<std::uintptr_t>(addr);  // NOLINT: an address to compare
    std::string line;
    while (std::getline(maps, line)) {
        // "start-end perms offset major:minor inode path", numbers in hex except the inode.
        std::istringstream in(line);
        std::string range;
        std::string perms;
        std::string offset;
        std::string dev;
        std::string inode;
        if (!(in >> range >> perms >> offset >> dev >> inode)) {
            continue;
        }
        const auto dash = range.find('-');
        const auto colon = dev.find(':');
        std::uintptr_t lo = 0;
        std::uintptr_t hi = 0;
        unsigned major = 0;
        unsigned minor = 0;
        ino_t ino = 0;
        const auto parse = [](std::string_view text, auto& out, int base) {
            const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), out, base);
            return ec == std::errc() && p == text.data() + text.size();
        };
        if (dash == std::string::npos || colon == std::string::npos ||
            !parse(std::string_view(range).substr(0, dash), lo, 16) ||
            !parse(std::string_view(range).substr(dash + 1), hi, 16) ||
            !parse(std::string_view(dev).substr(0, colon), major, 16) ||
            !parse(std::string_view(dev).substr(colon + 1), minor, 16) || !parse(inode, ino, 10)) {
            continue;
        }
        if (where >= lo && where < hi) {
            return std::pair<dev_t, ino_t>(makedev(major, minor), ino);
        }
    }
    return std::nullopt;
}

// A semaphore pre-created by another uid is under that user's control (they can post or drain
// it), so the owner must be one `ownership` trusts. sem_open gives no descriptor to fstat, so the
// file checked is /dev/shm/sem.NAME, and it must be the very inode sem_open mapped at `sem`: a
// name replaced or removed in between is refused, since the owner of what we hold is unknown.
// (Without /proc the inode cannot be compared; then the name is checked alone.)
Result<void> check_owner(const PosixName& name, const sem_t* sem, const Ownership& ownership) {
    if (ownership.trusts_any()) {
        return {};
    }
    struct stat st {};
    const std::string path = backing_file(name);
    const auto mapped = mapped_file_at(sem);
    if (::lstat(path.c_str(), &st) != 0 ||
        (mapped && (st.st_dev != mapped->first || st.st_ino != mapped->second))) {
        return Error(std::error_code(EACCES, ownership_category()),
                     "sem_open",
                     name.str(),
                     "cannot verify its owner: " + path +
                         " was removed or replaced while it was being opened");
    }
    return ownership.check(st.st_uid, "sem_open", name.str());
}

}  // namespace

void NamedSemaphore::Closer::operator()(sem_t* sem) const noexcept {
    ::sem_close(sem);
}

Result<NamedSemaphore> NamedSemaphore::open_impl(const PosixName& name,
                                                 int flags,
                                                 unsigned initial,
                                                 Permissions permissions,
                                                 const Ownership* ownership) {
    if ((flags & O_CREAT) != 0) {
        IPCKIT_TRY(detail::check_initial_value("sem_open", name.str(), initial));
    }
    IPCKIT_TRY_ASSIGN(auto sem, sys::call_ptr("sem_open", name.str(), SEM_FAILED, [&] {
                          return ::sem_open(name.c_str(), flags, permissions.bits(), initial);
                      }));
    NamedSemaphore handle(std::unique_ptr<sem_t, Closer>(sem), name);
    if (ownership != nullptr) {
        IPCKIT_TRY(check_owner(name, sem, *ownership));  // `handle` closes it on a refusal
    }
    return handle;
}

Result<NamedSemaphore> NamedSemaphore::create(const PosixName& name,
                                              unsigned initial,
                                              Permissions permissions) {
    return open_impl(name, O_CREAT | O_EXCL, initial, permissions, nullptr);  // ours: no check
}

Result<NamedSemaphore> NamedSemaphore::open(const PosixName& name, const Ownership& ownership) {
    return open_impl(name, 0, 0, Permissions{}, &ownership);
}

Result<NamedSemaphore> NamedSemaphore::open_or_create(const PosixName& name,
                                                      unsigned initial,
                                                      Permissions permissions,
                                                      const Ownership& ownership) {
    return open_impl(name, O_CREAT, initial, permissions, &ownership);
}

Result<void> NamedSemaphore::unlink(const PosixName& name) {
    IPCKIT_TRY(sys::call("sem_unlink", name.str(), [&] { return ::sem_unlink(name.c_str()); }));
    return {};
}

Result<void> NamedSemaphore::close() {
    sem_t* sem = sem_.release();
    IPCKIT_ASSERT(sem != nullptr, "close of a closed or moved-from NamedSemaphore");
    IPCKIT_TRY(sys::call_once("sem_close", name_.str(), [&] { return ::sem_close(sem); }));
    return {};
}

Result<void> NamedSemaphore::wait() {
    return detail::sem_wait_blocking(sem_.get(), name_.str());
}
Result<bool> NamedSemaphore::try_wait() {
    return detail::sem_try_wait(sem_.get(), name_.str());
}
Result<bool> NamedSemaphore::wait_until(Deadline deadline) {
    return detail::sem_wait_until(sem_.get(), deadline, name_.str());
}
Result<void> NamedSemaphore::post() {
    return detail::sem_post_checked(sem_.get(), name_.str());
}
Result<int> NamedSemaphore::value() const {
    return detail::sem_value(sem_.get(), name_.str());
}

}  // namespace ipckit
