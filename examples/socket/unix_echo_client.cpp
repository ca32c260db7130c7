// SPDX-License-Identifier: MIT
// Client for example_unix_echo_server: sends each argument as a frame and prints the echo.
//
//   example_unix_echo_client [--wait] /tmp/echo.sock hello world
//
// --wait: keep retrying for up to 10 s while the server is not up yet (missing socket file or
// nobody listening); without it a missing server is reported at once.
#include "ipckit/socket/socket.hpp"
#include "ipckit/stream/framing.hpp"

#include <time.h>

#include <cstdio>
#include <string>

using namespace std::chrono_literals;

namespace {

// The server may still be starting: retry while the socket is missing or not yet listening.
ipckit::Result<ipckit::Socket> connect_with_retry(const ipckit::SocketAddress& address, bool wait) {
    const auto deadline = wait ? ipckit::Deadline::after(10s) : ipckit::Deadline::after(2s);
    for (;;) {
        auto s = ipckit::Socket::connect(address, ipckit::SocketType::Stream, deadline);
        const bool not_yet = !s && (s.error().code() == std::errc::no_such_file_or_directory ||
                                    s.error().code() == std::errc::connection_refused);
        if (!not_yet || !wait || deadline.expired()) {
            return s;
        }
        const timespec pause{0, 10'000'000};
        ::nanosleep(&pause, nullptr);
    }
}

}  // namespace

int main(int argc, char** argv) {
    const bool wait = argc > 1 && std::string(argv[1]) == "--wait";
    if (wait) {
        --argc;
        ++argv;
    }
    if (argc < 3) {
        std::fprintf(stderr, "usage: example_unix_echo_client [--wait] PATH MESSAGE...\n");
        return 2;
    }
    auto address = ipckit::SocketAddress::unix_domain(argv[1]);
    if (!address) {
        std::fprintf(stderr, "echo client: %s\n", address.error().message().c_str());
        return 1;
    }
    auto s = connect_with_retry(*address, wait);
    if (!s) {
        std::fprintf(stderr, "echo client: %s\n", s.error().message().c_str());
        return 1;
    }
    ipckit::FrameReader reader(s->native_handle(), std::size_t{64} * 1024, s->name());
    for (int i = 2; i < argc; ++i) {
        const std::string msg = argv[i];
        auto sent = ipckit::write_frame(s->native_handle(),
                                        std::as_bytes(std::span(msg)),
                                        ipckit::FdKind::Socket,
                                        ipckit::Deadline::after(5s),
                                        s->name());
        if (!sent) {
            std::fprintf(stderr, "echo client: %s\n", sent.error().message().c_str());
            return 1;
        }
        auto echo = reader.read(ipckit::Deadline::after(5s));
        if (!echo || !echo->has_value()) {
            const bool closed = !echo && echo.error() == ipckit::FrameReader::kEndOfStream;
            std::fprintf(stderr,
                         "echo client: %s\n",
                         closed ? "server closed the connection"
                         : echo ? "no echo within 5 s"
                                : echo.error().message().c_str());
            return 1;
        }
        std::printf("echo: %.*s\n",
                    static_cast<int>((*echo)->size()),
                    reinterpret_cast<const char*>((*echo)->data()));  // NOLINT: bytes as text
    }
    return 0;
}
