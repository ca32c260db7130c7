// SPDX-License-Identifier: MIT
// Passing an open file descriptor to an unrelated process (SCM_RIGHTS, unix(7)).
// The server opens FILE read-only and hands the open descriptor to whoever connects: the client
// reads the file through it even if it could not open FILE itself.
//
//   example_fd_pass_server /tmp/fd.sock /etc/hostname     # serves one client, then exits
#include "ipckit/socket/listener.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cstdio>

using namespace std::chrono_literals;

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: %s SOCKET FILE\n", argv[0]);
        return 2;
    }
    const ipckit::UniqueFd file(::open(argv[2], O_RDONLY | O_CLOEXEC));
    if (!file) {
        std::perror(argv[2]);
        return 1;
    }
    auto listener = ipckit::Listener::bind(ipckit::SocketAddress::unix_domain(argv[1]).value());
    if (!listener) {
        std::fprintf(stderr, "fd server: %s\n", listener.error().message().c_str());
        return 1;
    }
    std::printf("listening on %s\n", listener->name().c_str());
    std::fflush(stdout);
    auto conn = listener->accept(ipckit::Deadline::after(30s));
    if (!conn || !conn->has_value()) {
        std::fprintf(stderr,
                     "fd server: %s\n",
                     conn ? "no client within 30 s" : conn.error().message().c_str());
        return 1;
    }
    // One data byte must travel with the descriptor on a stream socket.
    const std::array<int, 1> fds{file.get()};
    const std::array<std::byte, 1> tag{std::byte{'F'}};
    auto sent = (*conn)->send_fds(tag, fds, ipckit::Deadline::after(5s));
    if (!sent) {
        std::fprintf(stderr, "fd server: %s\n", sent.error().message().c_str());
        return 1;
    }
    auto cred = (*conn)->peer_credentials();
    std::printf(
        "sent descriptor of %s to pid %d\n", argv[2], cred ? static_cast<int>(cred->pid) : -1);
    // Wait for the client to hang up so the descriptor is surely received before we exit.
    std::array<std::byte, 1> sink{};
    (void)(*conn)->receive(sink, ipckit::Deadline::after(10s));
    return 0;
}
