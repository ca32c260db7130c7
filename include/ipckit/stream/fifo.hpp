// SPDX-License-Identifier: MIT
// Named pipes (fifo(7), mkfifo(3)): a pipe with a name in the file system, so unrelated processes
// can meet. The ends are the same PipeReader/PipeWriter as an anonymous pipe.
#pragma once

#include "ipckit/core/deadline.hpp"
#include "ipckit/core/open_mode.hpp"
#include "ipckit/core/ownership.hpp"
#include "ipckit/core/result.hpp"
#include "ipckit/export.hpp"
#include "ipckit/stream/pipe.hpp"

#include <optional>
#include <string>

namespace ipckit {

/// A FIFO path. Ownership: a Fifo made by create() (or by open_or_create() when it did create)
/// unlinks the path when destroyed; one from open() never does (release() hands the name over).
/// The ends it opens are independent owners and stay open after the Fifo is gone.
///
/// Safety: every open uses O_NOFOLLOW and checks S_ISFIFO with fstat, so a symlink or a regular
/// file planted at the path is refused (see below)
/// and never followed or written. New FIFOs are mode 0600 by default. Errors for a path taken by
/// something else: a symlink is errc::too_many_symbolic_link_levels (ELOOP, as O_NOFOLLOW gives);
/// any other non-FIFO is errc::file_exists with the detail naming its type ("regular file, not a
/// FIFO"): the name is taken, and ipckit will not reuse it. A FIFO owned by someone `ownership`
/// does not trust (by default: anyone but the caller) is refused (is_untrusted_owner), by lstat
/// in open() before any blocking open and again by fstat of every end opened.
///
/// Blocking semantics (F20): a blocking open_reader() waits for a writer and a blocking
/// open_writer() waits for a reader; try_open_writer() does not wait and reports "no reader yet"
/// (ENXIO) as an empty optional. A non-blocking reader open never waits. Thread-safety: const
/// members are safe. Fork/exec: every end is O_CLOEXEC.
///
/// @code
///   auto fifo = Fifo::create("/run/app/requests").value();
///   PipeReader in = fifo.open_reader().value();      // waits for the first writer
/// @endcode
class IPCKIT_API Fifo {
public:
    /// mkfifo(path, perms), failing with errc::file_exists if anything is there.
    static Result<Fifo> create(std::string path, Permissions perms = Permissions());
    /// An existing FIFO: errc::no_such_file_or_directory if absent, errc::file_exists (detail
    /// names the type) if it is a regular file or directory; ELOOP if a symlink; an untrusted
    /// owner (see the class comment).
    static Result<Fifo> open(std::string path, Ownership ownership = {});
    /// Reuses an existing FIFO (never anything else, its owner checked as open() does) or
    /// creates one.
    static Result<Fifo> open_or_create(const std::string& path,
                                       Permissions perms = Permissions(),
                                       const Ownership& ownership = {});
    /// Removes a FIFO path; errc::file_exists if the path is something else (it is left alone).
    static Result<void> unlink(const std::string& path);

    Fifo(Fifo&& other) noexcept;
    Fifo& operator=(Fifo&& other) noexcept;
    Fifo(const Fifo&) = delete;
    Fifo& operator=(const Fifo&) = delete;
    ~Fifo();

    /// Opens the read end. Blocking (nonblocking_io=false): waits until a writer opens (EINTR
    /// retried), then reads block. nonblocking: returns at once; a plain read() before any
    /// writer came returns 0 (no writer yet), while read_until(buffer, deadline) waits for the
    /// first data until the deadline: that is the deadline-bound way to wait for a writer.
    [[nodiscard]] Result<PipeReader> open_reader(bool nonblocking_io = false) const;
    /// Opens the write end, waiting until a reader opens.
    [[nodiscard]] Result<PipeWriter> open_writer(bool nonblocking_io = false) const;
    /// Opens the write end only if a reader is there: empty optional if none (ENXIO, F20).
    [[nodiscard]] Result<std::optional<PipeWriter>> try_open_writer(
        bool nonblocking_io = false) const;
    /// Like try_open_writer, retrying every few milliseconds until `deadline`.
    [[nodiscard]] Result<std::optional<PipeWriter>> open_writer_until(
        Deadline deadline, bool nonblocking_io = false) const;
    /// O_RDWR (Linux-only, F20): never blocks, and as a writer of its own keeps a server's reads
    /// from seeing end of file between clients.
    [[nodiscard]] Result<PipeReader> open_read_write(bool nonblocking_io = false) const;

    [[nodiscard]] const std::string& path() const noexcept { return path_; }
    /// True if this Fifo unlinks its path on destruction.
    [[nodiscard]] bool owns_path() const noexcept { return owns_; }
    /// Stops owning the path (it stays); returns it.
    std::string release() noexcept;

private:
    Fifo(std::string path, bool owns, Ownership ownership = {})
        : path_(std::move(path)), owns_(owns), ownership_(std::move(ownership)) {}
    [[nodiscard]] Result<UniqueFd> open_checked(int flags, const char* op) const;
    std::string path_;
    bool owns_ = false;
    Ownership ownership_;  // who may own the FIFO each end is opened on
};

}  // namespace ipckit
