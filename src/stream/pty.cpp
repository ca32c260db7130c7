// SPDX-License-Identifier: MIT
#include "ipckit/stream/pty.hpp"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "ipckit/core/assert.hpp"
#include "ipckit/core/io.hpp"
#include "sys/syscall.hpp"

namespace ipckit {

namespace {

constexpr std::string_view kMaster = "pty master";

// On Linux a master read fails with EIO once no slave descriptor is open (F30): that is the
// terminal's end of file, not an error.
Result<std::optional<std::size_t>> read_master(int fd, std::span<std::byte> buffer, Deadline deadline) {
    auto n = read_some(fd, buffer, deadline, kMaster);
    if (!n && n.error() == std::errc::io_error) {
        return std::optional<std::size_t>(0);
    }
    return n;
}

}  // namespace

Result<Pty> Pty::open(WindowSize size) {
    IPCKIT_TRY_ASSIGN(auto master, sys::call("posix_openpt", "/dev/ptmx", [] {
                          return ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
                      }));
    UniqueFd m(master);
    IPCKIT_TRY(sys::call("grantpt", "/dev/ptmx", [&] { return ::grantpt(m.get()); }));
    IPCKIT_TRY(sys::call("unlockpt", "/dev/ptmx", [&] { return ::unlockpt(m.get()); }));
    char name[128];
    IPCKIT_TRY(sys::check_rc("ptsname_r", "/dev/ptmx", ::ptsname_r(m.get(), name, sizeof name)));
    std::string path(name);
    IPCKIT_TRY_ASSIGN(auto slave, sys::call("open", path, [&] {
                          return ::open(path.c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC);
                      }));
    Pty pty(std::move(m), UniqueFd(slave), std::move(path));
    IPCKIT_TRY(pty.set_window_size(size));
    return pty;
}

Result<Process> Pty::spawn(const std::vector<std::string>& argv, ProcessOptions options) {
    IPCKIT_ASSERT(slave_.valid(), "Pty::spawn called twice (the slave was handed to the first child)");
    options.in = Stdio::fd(slave_.get());
    options.out = Stdio::fd(slave_.get());
    options.err = Stdio::fd(slave_.get());
    options.new_session = true;
    options.controlling_terminal = slave_.get();
    auto p = Process::spawn(argv, options);
    if (p) {
        slave_.reset();  // only the child holds the slave now: its exit gives us end of file
    }
    return p;
}

Result<std::size_t> Pty::read(std::span<std::byte> buffer) {
    IPCKIT_TRY_ASSIGN(auto n, read_master(master_.get(), buffer, Deadline::never()));
    return *n;
}

Result<std::optional<std::size_t>> Pty::read_until(std::span<std::byte> buffer, Deadline deadline) {
    return read_master(master_.get(), buffer, deadline);
}

Result<std::string> Pty::read_until_text(std::string_view needle, Deadline deadline) {
    std::string text;
    std::byte chunk[4096];
    while (text.find(needle) == std::string::npos) {
        IPCKIT_TRY_ASSIGN(auto n, read_master(master_.get(), chunk, deadline));
        if (!n.has_value()) {
            return Error(std::errc::timed_out, "read", slave_path_,
                         "waiting for \"" + std::string(needle) + "\"; read so far: \"" + text + "\"");
        }
        if (*n == 0) {
            break;
        }
        text.append(reinterpret_cast<const char*>(chunk), *n);  // NOLINT: bytes to chars
    }
    return text;
}

Result<std::string> Pty::read_to_end(Deadline deadline) {
    std::string text;
    std::byte chunk[4096];
    for (;;) {
        IPCKIT_TRY_ASSIGN(auto n, read_master(master_.get(), chunk, deadline));
        if (!n.has_value()) {
            return Error(std::errc::timed_out, "read", slave_path_,
                         "no end of file yet; read so far: \"" + text + "\"");
        }
        if (*n == 0) {
            return text;
        }
        text.append(reinterpret_cast<const char*>(chunk), *n);  // NOLINT: bytes to chars
    }
}

Result<void> Pty::write_all(std::string_view text, Deadline deadline) {
    return ipckit::write_all(master_.get(), std::as_bytes(std::span(text.data(), text.size())),
                             FdKind::Other, deadline, kMaster);
}

Result<void> Pty::set_window_size(WindowSize size) {
    winsize ws{};
    ws.ws_row = size.rows;
    ws.ws_col = size.cols;
    IPCKIT_TRY(sys::call("ioctl(TIOCSWINSZ)", slave_path_, [&] { return ::ioctl(master_.get(), TIOCSWINSZ, &ws); }));
    return {};
}

Result<WindowSize> Pty::window_size() const {
    winsize ws{};
    IPCKIT_TRY(sys::call("ioctl(TIOCGWINSZ)", slave_path_, [&] { return ::ioctl(master_.get(), TIOCGWINSZ, &ws); }));
    return WindowSize{ws.ws_row, ws.ws_col};
}

}  // namespace ipckit
