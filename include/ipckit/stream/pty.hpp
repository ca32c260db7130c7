// SPDX-License-Identifier: MIT
// Pseudoterminals (pty(7), posix_openpt(3)): a master/slave pair that makes a program believe it
// talks to a terminal; start a Process on the slave as its controlling terminal and drive it.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ipckit/core/deadline.hpp"
#include "ipckit/core/result.hpp"
#include "ipckit/core/unique_fd.hpp"
#include "ipckit/export.hpp"
#include "ipckit/stream/process.hpp"

namespace ipckit {

/// Terminal size in character cells (struct winsize).
struct IPCKIT_API WindowSize {
    std::uint16_t rows = 24;
    std::uint16_t cols = 80;
    friend bool operator==(const WindowSize&, const WindowSize&) = default;
};

/// A pseudoterminal pair. Owns the master descriptor and, until spawn() hands it to a child, the
/// slave descriptor. End of file: once every slave descriptor is closed (the child exited),
/// reading the master fails with EIO on Linux (F30); read() reports that as 0, end of file, like
/// a pipe. Writes go through core io, so a hung-up terminal is an error, never SIGPIPE.
/// Thread-safety: one reader and one writer thread at a time. Fork/exec: all O_CLOEXEC; the
/// child gets the slave as 0/1/2 and controlling terminal (setsid + TIOCSCTTY) and nothing else.
///
/// @code
///   auto pty = Pty::open().value();
///   auto child = pty.spawn({"/bin/sh", "-i"}).value();
///   pty.write_all("echo hi; exit\n").value();
///   std::string screen = pty.read_to_end(Deadline::after(5s)).value();
///   ExitStatus st = child.wait().value();
/// @endcode
class IPCKIT_API Pty {
public:
    /// posix_openpt(O_RDWR|O_NOCTTY|O_CLOEXEC), grantpt, unlockpt, and opens the slave.
    static Result<Pty> open(WindowSize size = {});

    /// Starts argv with the slave as stdin/stdout/stderr and controlling terminal (in a new
    /// session). options.in/out/err/new_session/controlling_terminal are overridden. Our slave
    /// descriptor is closed afterwards, so the master sees end of file when the child (and
    /// anything it started) has closed the terminal.
    Result<Process> spawn(const std::vector<std::string>& argv, ProcessOptions options = {});

    /// Reads what the program wrote; blocks until data. 0 = end of file (slave closed: EIO).
    Result<std::size_t> read(std::span<std::byte> buffer);
    /// Waits until `deadline`; empty optional if nothing came (0 = end of file).
    Result<std::optional<std::size_t>> read_until(std::span<std::byte> buffer, Deadline deadline);
    /// Reads until `needle` has appeared in the text read so far; returns everything read.
    /// errc::timed_out (detail with the text so far) if the deadline passes. At end of file
    /// before the needle, returns what was read (the caller sees the needle is missing).
    Result<std::string> read_until_text(std::string_view needle, Deadline deadline);
    /// Reads until end of file (the child closed the terminal) or the deadline (errc::timed_out).
    Result<std::string> read_to_end(Deadline deadline);
    /// Writes everything (what the user "types").
    Result<void> write_all(std::string_view text, Deadline deadline = Deadline::never());

    /// TIOCSWINSZ on the master: the child's terminal gets the size (and its foreground process
    /// group a SIGWINCH).
    Result<void> set_window_size(WindowSize size);
    /// TIOCGWINSZ.
    [[nodiscard]] Result<WindowSize> window_size() const;

    [[nodiscard]] int master_handle() const noexcept { return master_.get(); }
    /// The slave descriptor, until spawn() (then -1).
    [[nodiscard]] int slave_handle() const noexcept { return slave_.get(); }
    [[nodiscard]] const std::string& slave_path() const noexcept { return slave_path_; }

private:
    Pty(UniqueFd master, UniqueFd slave, std::string path)
        : master_(std::move(master)), slave_(std::move(slave)), slave_path_(std::move(path)) {}
    UniqueFd master_;
    UniqueFd slave_;
    std::string slave_path_;
};

}  // namespace ipckit
