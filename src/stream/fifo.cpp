// SPDX-License-Identifier: MIT
#include "ipckit/stream/fifo.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "sys/syscall.hpp"

namespace ipckit {

namespace {

const char* type_name(mode_t mode) {
    if (S_ISREG(mode)) {
        return "regular file";
    }
    if (S_ISDIR(mode)) {
        return "directory";
    }
    if (S_ISLNK(mode)) {
        return "symbolic link";
    }
    if (S_ISSOCK(mode)) {
        return "socket";
    }
    if (S_ISCHR(mode)) {
        return "character device";
    }
    if (S_ISBLK(mode)) {
        return "block device";
    }
    return "FIFO";
}

Error not_a_fifo(const char* op, const std::string& path, mode_t mode) {
    if (S_ISLNK(mode)) {
        return {std::errc::too_many_symbolic_link_levels,
                op,
                path,
                "is a symbolic link; FIFOs are never opened through one"};
    }
    return {std::errc::file_exists,
            op,
            path,
            std::string(type_name(mode)) + ", not a FIFO; refusing to reuse the path"};
}

// lstat the path and require a FIFO (never following a symlink).
Result<struct stat> require_fifo(const char* op, const std::string& path) {
    struct stat st {};
    IPCKIT_TRY(sys::call("lstat", path, [&] { return ::lstat(path.c_str(), &st); }));
    if (!S_ISFIFO(st.st_mode)) {
        return not_a_fifo(op, path, st.st_mode);
    }
    return st;
}

}  // namespace

Result<Fifo> Fifo::create(std::string path, Permissions perms) {
    auto rc = sys::call("mkfifo", path, [&] { return ::mkfifo(path.c_str(), perms.bits()); });
    if (!rc) {
        if (rc.error() == std::errc::file_exists) {
            struct stat st {};
            if (::lstat(path.c_str(), &st) == 0 && !S_ISFIFO(st.st_mode)) {
                return not_a_fifo("mkfifo", path, st.st_mode);
            }
        }
        return std::move(rc).error();
    }
    return Fifo(std::move(path), true);
}

Result<Fifo> Fifo::open(std::string path, Ownership ownership) {
    IPCKIT_TRY_ASSIGN(auto st, require_fifo("open", path));
    // Someone else's FIFO at our rendezvous name could be a squatter (F28); checked before any
    // open, which could block on it.
    IPCKIT_TRY(ownership.check(st.st_uid, "open", path));
    return Fifo(std::move(path), false, std::move(ownership));
}

Result<Fifo> Fifo::open_or_create(const std::string& path,
                                  Permissions perms,
                                  const Ownership& ownership) {
    for (int attempt = 0; attempt < 5; ++attempt) {
        auto made = create(path, perms);
        if (made || made.error() != std::errc::file_exists || !made.error().detail().empty()) {
            return made;  // created, or a real error, or the path holds a non-FIFO
        }
        auto opened = open(path, ownership);
        if (opened || opened.error() != std::errc::no_such_file_or_directory) {
            return opened;
        }
        // Removed between mkfifo and lstat: try again.
    }
    return Error(std::errc::resource_unavailable_try_again, "mkfifo", path,
                 "path keeps appearing and disappearing");
}

Result<void> Fifo::unlink(const std::string& path) {
    IPCKIT_TRY(require_fifo("unlink", path));
    IPCKIT_TRY(sys::call("unlink", path, [&] { return ::unlink(path.c_str()); }));
    return {};
}

Fifo::Fifo(Fifo&& other) noexcept
    : path_(std::move(other.path_))
    , owns_(std::exchange(other.owns_, false))
    , ownership_(std::move(other.ownership_)) {}

Fifo& Fifo::operator=(Fifo&& other) noexcept {
    if (this != &other) {
        if (owns_) {
            (void)unlink(path_);
        }
        path_ = std::move(other.path_);
        owns_ = std::exchange(other.owns_, false);
        ownership_ = std::move(other.ownership_);
    }
    return *this;
}

Fifo::~Fifo() {
    if (owns_) {
        (void)unlink(path_);  // only if it is still a FIFO: never remove what replaced it
    }
}

std::string Fifo::release() noexcept {
    owns_ = false;
    return path_;
}

Result<UniqueFd> Fifo::open_checked(int flags, const char* op) const {
    // O_NOFOLLOW: a symlink planted at the path fails with ELOOP instead of being followed.
    auto fd = sys::call(op, path_, [&] { return ::open(path_.c_str(), flags | O_NOFOLLOW | O_CLOEXEC); });
    if (!fd) {
        if (fd.error() == std::errc::too_many_symbolic_link_levels) {
            return fd.error().with_detail("is a symbolic link; FIFOs are never opened through one");
        }
        return std::move(fd).error();
    }
    UniqueFd owned(*fd);
    struct stat st {};
    IPCKIT_TRY(sys::call("fstat", path_, [&] { return ::fstat(owned.get(), &st); }));
    if (!S_ISFIFO(st.st_mode)) {
        return not_a_fifo(op, path_, st.st_mode);
    }
    // The path may have been replaced since open() checked it: check what we actually opened.
    IPCKIT_TRY(ownership_.check(st.st_uid, op, path_));
    return owned;
}

Result<PipeReader> Fifo::open_reader(bool nonblocking_io) const {
    IPCKIT_TRY_ASSIGN(auto fd,
                      open_checked(O_RDONLY | (nonblocking_io ? O_NONBLOCK : 0), "open(O_RDONLY)"));
    return PipeReader(std::move(fd), path_);
}

Result<PipeWriter> Fifo::open_writer(bool nonblocking_io) const {
    IPCKIT_TRY_ASSIGN(auto fd, open_checked(O_WRONLY, "open(O_WRONLY)"));
    PipeWriter w(std::move(fd), path_);
    if (nonblocking_io) {
        IPCKIT_TRY(w.set_nonblocking(true));
    }
    return w;
}

Result<std::optional<PipeWriter>> Fifo::try_open_writer(bool nonblocking_io) const {
    auto fd = open_checked(O_WRONLY | O_NONBLOCK, "open(O_WRONLY|O_NONBLOCK)");
    if (!fd) {
        if (fd.error() == std::errc::no_such_device_or_address) {
            return std::optional<PipeWriter>();  // ENXIO: no reader yet (F20)
        }
        return std::move(fd).error();
    }
    PipeWriter w(std::move(*fd), path_);
    if (!nonblocking_io) {
        IPCKIT_TRY(w.set_nonblocking(false));
    }
    return std::optional<PipeWriter>(std::move(w));
}

Result<std::optional<PipeWriter>> Fifo::open_writer_until(Deadline deadline, bool nonblocking_io) const {
    using namespace std::chrono_literals;
    for (;;) {
        auto w = try_open_writer(nonblocking_io);
        if (!w || w->has_value() || deadline.expired()) {
            return w;
        }
        // No event announces a reader's arrival to a would-be writer; poll in short slices.
        std::this_thread::sleep_for(std::min<std::chrono::nanoseconds>(5ms, deadline.remaining()));
    }
}

Result<PipeReader> Fifo::open_read_write(bool nonblocking_io) const {
    IPCKIT_TRY_ASSIGN(auto fd,
                      open_checked(O_RDWR | (nonblocking_io ? O_NONBLOCK : 0), "open(O_RDWR)"));
    return PipeReader(std::move(fd), path_);
}

}  // namespace ipckit
