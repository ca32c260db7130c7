// SPDX-License-Identifier: MIT
#include "ipckit/stream/pipe.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <climits>

#include "ipckit/core/io.hpp"
#include "sys/syscall.hpp"

namespace ipckit {

namespace {

Result<std::size_t> get_capacity(int fd, const std::string& object) {
    IPCKIT_TRY_ASSIGN(auto rc, sys::call("fcntl(F_GETPIPE_SZ)", object, [&] {
                          return ::fcntl(fd, F_GETPIPE_SZ);
                      }));
    return static_cast<std::size_t>(rc);
}

Result<std::size_t> change_capacity(int fd, std::size_t bytes, const std::string& object) {
    if (bytes > static_cast<std::size_t>(INT_MAX)) {
        return Error(std::errc::invalid_argument, "fcntl(F_SETPIPE_SZ)", object,
                     "size " + std::to_string(bytes) + " exceeds INT_MAX");
    }
    auto rc = sys::call("fcntl(F_SETPIPE_SZ)", object,
                        [&] { return ::fcntl(fd, F_SETPIPE_SZ, static_cast<int>(bytes)); });
    if (!rc) {
        if (rc.error() == std::errc::operation_not_permitted) {
            return rc.error().with_detail("above /proc/sys/fs/pipe-max-size needs CAP_SYS_RESOURCE");
        }
        return std::move(rc).error();
    }
    return static_cast<std::size_t>(*rc);
}

Result<void> change_nonblocking(int fd, bool on, const std::string& object) {
    IPCKIT_TRY_ASSIGN(auto flags,
                      sys::call("fcntl(F_GETFL)", object, [&] { return ::fcntl(fd, F_GETFL); }));
    const int wanted = on ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK);
    if (wanted == flags) {
        return {};
    }
    IPCKIT_TRY(sys::call("fcntl(F_SETFL)", object, [&] { return ::fcntl(fd, F_SETFL, wanted); }));
    return {};
}

}  // namespace

Result<std::size_t> PipeReader::read(std::span<std::byte> buffer) {
    IPCKIT_TRY_ASSIGN(auto n, read_some(fd_.get(), buffer, Deadline::never(), object_));
    return *n;  // a never() deadline always yields a count
}

Result<std::optional<std::size_t>> PipeReader::read_until(std::span<std::byte> buffer,
                                                          Deadline deadline) {
    return read_some(fd_.get(), buffer, deadline, object_);
}

Result<std::size_t> PipeReader::read_exact(std::span<std::byte> buffer, Deadline deadline) {
    return ipckit::read_exact(fd_.get(), buffer, deadline, object_);
}

Result<std::string> PipeReader::read_to_end(Deadline deadline, std::size_t limit) {
    std::string out;
    std::byte chunk[16384];
    for (;;) {
        IPCKIT_TRY_ASSIGN(auto n, read_some(fd_.get(), chunk, deadline, object_));
        if (!n.has_value()) {
            return Error(std::errc::timed_out, "read", object_,
                         "read " + std::to_string(out.size()) + " bytes, no end of file yet");
        }
        if (*n == 0) {
            return out;
        }
        if (out.size() + *n > limit) {
            return Error(std::errc::file_too_large, "read", object_,
                         "more than " + std::to_string(limit) + " bytes before end of file");
        }
        out.append(reinterpret_cast<const char*>(chunk), *n);  // NOLINT: bytes to chars
    }
}

Result<std::size_t> PipeReader::capacity() const { return get_capacity(fd_.get(), object_); }
Result<std::size_t> PipeReader::set_capacity(std::size_t bytes) {
    return change_capacity(fd_.get(), bytes, object_);
}
Result<void> PipeReader::set_nonblocking(bool on) {
    return change_nonblocking(fd_.get(), on, object_);
}

Result<std::size_t> PipeWriter::write(std::span<const std::byte> bytes) {
    IPCKIT_TRY_ASSIGN(auto n,
                      write_some(fd_.get(), bytes, FdKind::Other, Deadline::never(), object_));
    return *n;
}

Result<std::optional<std::size_t>> PipeWriter::try_write(std::span<const std::byte> bytes) {
    return write_some(fd_.get(), bytes, FdKind::Other, Deadline::now(), object_);
}

Result<void> PipeWriter::write_all(std::span<const std::byte> bytes, Deadline deadline) {
    return ipckit::write_all(fd_.get(), bytes, FdKind::Other, deadline, object_);
}

Result<std::size_t> PipeWriter::capacity() const { return get_capacity(fd_.get(), object_); }
Result<std::size_t> PipeWriter::set_capacity(std::size_t bytes) {
    return change_capacity(fd_.get(), bytes, object_);
}
Result<void> PipeWriter::set_nonblocking(bool on) {
    return change_nonblocking(fd_.get(), on, object_);
}

Result<Pipe> Pipe::create(PipeOptions options) {
    int fds[2] = {-1, -1};
    IPCKIT_TRY(sys::call("pipe2", "pipe", [&] { return ::pipe2(fds, O_CLOEXEC); }));
    Pipe p{PipeReader(UniqueFd(fds[0])), PipeWriter(UniqueFd(fds[1]))};
    if (options.nonblocking_reader) {
        IPCKIT_TRY(p.reader.set_nonblocking(true));
    }
    if (options.nonblocking_writer) {
        IPCKIT_TRY(p.writer.set_nonblocking(true));
    }
    return p;
}

}  // namespace ipckit
