// SPDX-License-Identifier: MIT
// Receives an open file descriptor from example_fd_pass_server and prints the file through it.
//
//   example_fd_pass_client /tmp/fd.sock
#include "ipckit/socket/socket.hpp"

#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <string>

using namespace std::chrono_literals;

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s SOCKET\n", argv[0]);
        return 2;
    }
    const auto address = ipckit::SocketAddress::unix_domain(argv[1]).value();
    const auto deadline = ipckit::Deadline::after(10s);
    auto s = ipckit::Socket::connect(address, ipckit::SocketType::Stream, deadline);
    while (!s && !deadline.expired() &&
           (s.error().code() == std::errc::no_such_file_or_directory ||
            s.error().code() == std::errc::connection_refused)) {
        const timespec pause{0, 10'000'000};  // the server is still starting
        ::nanosleep(&pause, nullptr);
        s = ipckit::Socket::connect(address, ipckit::SocketType::Stream, deadline);
    }
    if (!s) {
        std::fprintf(stderr, "fd client: %s\n", s.error().message().c_str());
        return 1;
    }
    std::array<std::byte, 1> tag{};
    auto m = s->receive_with_fds(tag, 1, ipckit::Deadline::after(10s));
    if (!m || !m->has_value() || (*m)->fds.size() != 1) {
        std::fprintf(
            stderr, "fd client: %s\n", !m ? m.error().message().c_str() : "no descriptor arrived");
        return 1;
    }
    const int fd = (*m)->fds[0].get();
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        std::fprintf(stderr, "fd client: the descriptor is not a regular file\n");  // A20
        return 1;
    }
    std::string text;
    std::array<char, 4096> buf{};
    for (off_t off = 0;;) {
        const ssize_t n = ::pread(fd, buf.data(), buf.size(), off);
        if (n <= 0) {
            break;
        }
        text.append(buf.data(), static_cast<std::size_t>(n));
        off += n;
    }
    std::printf("received descriptor %d (%lld bytes): %s\n",
                fd,
                static_cast<long long>(st.st_size),
                text.c_str());
    return 0;
}
