// SPDX-License-Identifier: MIT
// Anonymous pipes (pipe(7), pipe2(2)): a one-way kernel byte stream with a reader end and a
// writer end. PipeReader/PipeWriter are also the ends of a FIFO (fifo.hpp) and of a Process's
// stdio pipes (process.hpp).
#pragma once

#include <limits.h>
#include <sys/types.h>

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "ipckit/core/deadline.hpp"
#include "ipckit/core/result.hpp"
#include "ipckit/core/unique_fd.hpp"
#include "ipckit/export.hpp"

namespace ipckit {

/// Writes of at most this many bytes to a pipe or FIFO are atomic: they are never interleaved
/// with other writers' data (F19). Larger writes may interleave, and may be partial on a
/// non-blocking end. Records that must stay whole with several writers must be <= kPipeBuf.
inline constexpr std::size_t kPipeBuf = PIPE_BUF;

/// The read end of a pipe or FIFO. Owns its descriptor (closed on destruction; closing the last
/// reader makes writers fail with EPIPE). End of file (every writer closed) is an ordinary
/// outcome: read() returns 0. Thread-safety: like the descriptor (one reader at a time).
/// Fork/exec: O_CLOEXEC; after fork, drop the end a process does not use (destroy or close()).
///
/// @code
///   auto [reader, writer] = Pipe::create().value();
///   std::byte buf[512];
///   std::size_t n = reader.read(buf).value();   // 0: every writer has closed
/// @endcode
class IPCKIT_API PipeReader {
public:
    PipeReader() = default;
    /// Adopts an open read-side descriptor; `object` names it in errors ("pipe", a FIFO path).
    explicit PipeReader(UniqueFd fd, std::string object = "pipe")
        : fd_(std::move(fd)), object_(std::move(object)) {}

    /// Blocks until data or end of file; returns the count (0 = end of file). EINTR retried.
    Result<std::size_t> read(std::span<std::byte> buffer);
    /// Waits until `deadline` for data; empty optional if it passed first (0 = end of file).
    Result<std::optional<std::size_t>> read_until(std::span<std::byte> buffer, Deadline deadline);
    template <class Rep, class Period>
    Result<std::optional<std::size_t>> read_for(std::span<std::byte> buffer,
                                                std::chrono::duration<Rep, Period> timeout) {
        return read_until(buffer, Deadline::after(timeout));
    }
    /// Reads what is there without waiting; empty optional if nothing is (0 = end of file).
    Result<std::optional<std::size_t>> try_read(std::span<std::byte> buffer) {
        return read_until(buffer, Deadline::now());
    }
    /// Fills `buffer` unless end of file comes first (the count is then smaller).
    /// errc::timed_out (detail "read X of Y bytes") if the deadline passes.
    Result<std::size_t> read_exact(std::span<std::byte> buffer, Deadline deadline = Deadline::never());
    /// Reads until end of file. errc::timed_out if the deadline passes first; errc::file_too_large
    /// if more than `limit` bytes arrive (protects against a peer that never stops).
    Result<std::string> read_to_end(Deadline deadline = Deadline::never(),
                                    std::size_t limit = std::size_t{1} << 30);

    /// Bytes the pipe can hold (F_GETPIPE_SZ).
    [[nodiscard]] Result<std::size_t> capacity() const;
    /// Resizes the pipe buffer (F_SETPIPE_SZ); returns the size the kernel chose (rounded up to a
    /// power-of-two number of pages). errc::operation_not_permitted above
    /// /proc/sys/fs/pipe-max-size without CAP_SYS_RESOURCE; errc::device_or_resource_busy when
    /// smaller than the data it holds.
    Result<std::size_t> set_capacity(std::size_t bytes);
    /// Switches O_NONBLOCK on this end (the reads above wait by poll either way).
    Result<void> set_nonblocking(bool on);

    [[nodiscard]] bool valid() const noexcept { return fd_.valid(); }
    [[nodiscard]] int native_handle() const noexcept { return fd_.get(); }
    [[nodiscard]] const std::string& object() const noexcept { return object_; }
    /// Gives up the descriptor (e.g. to hand it to a Process as its stdin).
    [[nodiscard]] UniqueFd release() noexcept { return std::move(fd_); }
    /// Closes this end now.
    void close() noexcept { fd_.reset(); }

private:
    UniqueFd fd_;
    std::string object_ = "pipe";
};

/// The write end of a pipe or FIFO. Owns its descriptor. Writing when every reader has closed
/// fails with errc::broken_pipe and never raises SIGPIPE: SIGPIPE is blocked in the calling
/// thread around each write(2) and a SIGPIPE it raised is consumed (core/io.hpp, F18).
/// Writes of <= kPipeBuf bytes are atomic (F19). Thread-safety: like the descriptor.
/// Fork/exec: O_CLOEXEC.
///
/// @code
///   writer.write_all("hello\n").value();   // errc::broken_pipe if the reader is gone
/// @endcode
class IPCKIT_API PipeWriter {
public:
    PipeWriter() = default;
    explicit PipeWriter(UniqueFd fd, std::string object = "pipe")
        : fd_(std::move(fd)), object_(std::move(object)) {}

    /// Writes what the pipe takes in one call (blocks while it is full); returns the count.
    Result<std::size_t> write(std::span<const std::byte> bytes);
    /// Writes without waiting; empty optional if the pipe is full (non-blocking end).
    Result<std::optional<std::size_t>> try_write(std::span<const std::byte> bytes);
    /// Writes everything, resuming partial writes. errc::timed_out (detail "wrote X of Y
    /// bytes") if the deadline passes; on a blocking end one write(2) may overrun it.
    Result<void> write_all(std::span<const std::byte> bytes, Deadline deadline = Deadline::never());
    Result<void> write_all(std::string_view text, Deadline deadline = Deadline::never()) {
        return write_all(std::as_bytes(std::span(text.data(), text.size())), deadline);
    }

    /// See PipeReader::capacity / set_capacity / set_nonblocking.
    [[nodiscard]] Result<std::size_t> capacity() const;
    Result<std::size_t> set_capacity(std::size_t bytes);
    Result<void> set_nonblocking(bool on);

    [[nodiscard]] bool valid() const noexcept { return fd_.valid(); }
    [[nodiscard]] int native_handle() const noexcept { return fd_.get(); }
    [[nodiscard]] const std::string& object() const noexcept { return object_; }
    [[nodiscard]] UniqueFd release() noexcept { return std::move(fd_); }
    /// Closes this end now (the reader then sees end of file once no other writer remains).
    void close() noexcept { fd_.reset(); }

private:
    UniqueFd fd_;
    std::string object_ = "pipe";
};

/// Options for Pipe::create. Both ends are O_CLOEXEC always.
struct IPCKIT_API PipeOptions {
    bool nonblocking_reader = false;  ///< O_NONBLOCK on the read end
    bool nonblocking_writer = false;  ///< O_NONBLOCK on the write end
};

/// A new anonymous pipe (pipe2 with O_CLOEXEC): the two ends as separate move-only owners, so a
/// process drops the end it does not use after fork. Nothing is named, nothing to unlink.
///
/// @code
///   auto pipe = Pipe::create().value();
///   if (fork() == 0) { pipe.writer.close(); ... pipe.reader.read(buf) ... }
/// @endcode
struct IPCKIT_API Pipe {
    PipeReader reader;
    PipeWriter writer;

    /// errc::too_many_files_open (EMFILE/ENFILE) is the only failure a caller sees in practice.
    static Result<Pipe> create(PipeOptions options = {});
};

}  // namespace ipckit
