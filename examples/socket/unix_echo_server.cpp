// SPDX-License-Identifier: MIT
// Echo server over a Unix stream socket (unix(7)). Each message is a length-prefixed frame
// (ipckit/stream/framing.hpp); the server sends every frame straight back.
//
//   example_unix_echo_server /tmp/echo.sock [clients]     # serves `clients` (default 1), then
//   exits
#include "ipckit/socket/listener.hpp"
#include "ipckit/stream/framing.hpp"

#include <cstdio>
#include <cstdlib>
#include <string>

using namespace std::chrono_literals;

namespace {

// Echoes every frame of one client until it closes; returns how many frames it echoed.
int echo_frames(ipckit::Socket& s) {
    ipckit::FrameReader reader(s.native_handle(), std::size_t{64} * 1024, s.name());
    int frames = 0;
    for (;;) {
        auto frame = reader.read(ipckit::Deadline::after(30s));
        if (!frame && frame.error() == ipckit::FrameReader::kEndOfStream) {
            return frames;  // the client closed between frames
        }
        if (!frame) {
            std::fprintf(stderr, "echo server: %s\n", frame.error().message().c_str());
            return frames;
        }
        if (!frame->has_value()) {
            std::fprintf(stderr, "echo server: no frame within 30 s\n");
            return frames;
        }
        auto sent = ipckit::write_frame(s.native_handle(),
                                        **frame,
                                        ipckit::FdKind::Socket,
                                        ipckit::Deadline::after(5s),
                                        s.name());
        if (!sent) {
            std::fprintf(stderr, "echo server: %s\n", sent.error().message().c_str());
            return frames;
        }
        ++frames;
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s PATH [CLIENTS]\n", argv[0]);
        return 2;
    }
    const int clients = argc > 2 ? static_cast<int>(std::strtol(argv[2], nullptr, 10)) : 1;
    auto address = ipckit::SocketAddress::unix_domain(argv[1]);
    if (!address) {
        std::fprintf(stderr, "echo server: %s\n", address.error().message().c_str());
        return 1;
    }
    // Removes a dead server's leftover socket file, never anything else; removed again at exit.
    auto listener = ipckit::Listener::bind(*address);
    if (!listener) {
        std::fprintf(stderr, "echo server: %s\n", listener.error().message().c_str());
        return 1;
    }
    std::printf("listening on %s\n", listener->name().c_str());
    std::fflush(stdout);
    for (int served = 0; served < clients; ++served) {
        auto conn = listener->accept(ipckit::Deadline::after(30s));
        if (!conn || !conn->has_value()) {
            std::fprintf(stderr,
                         "echo server: %s\n",
                         conn ? "no client within 30 s" : conn.error().message().c_str());
            return 1;
        }
        ipckit::Socket& s = **conn;
        const int frames = echo_frames(s);
        auto cred = s.peer_credentials();
        std::printf("client %d (pid %d) sent %d messages\n",
                    served + 1,
                    cred ? static_cast<int>(cred->pid) : -1,
                    frames);
    }
    return 0;
}
