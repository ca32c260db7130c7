// SPDX-License-Identifier: MIT
// The C++ side of a conversation with an ordinary Python program (examples/socket/peer.py), over
// AF_UNIX stream and datagram sockets, as in the lecture notes (seed 004): nothing on the wire is
// ipckit-specific.
//
//   Stream:   the client sends length-prefixed frames (4-byte big-endian length, then payload;
//             Python: struct.pack("!I", len(p)) + p); the server answers each in upper case.
//   Datagram: the client sends one datagram from its own bound address; the server replies
//             "ack: <payload>" to that address.
//
//   example_socket_python_peer STREAM_PATH DGRAM_PATH
#include "ipckit/socket/listener.hpp"
#include "ipckit/stream/framing.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <string>

using namespace std::chrono_literals;

namespace {

int fail(const ipckit::Error& e) {
    std::fprintf(stderr, "python peer example: %s\n", e.message().c_str());
    return 1;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: %s STREAM_PATH DGRAM_PATH\n", argv[0]);
        return 2;
    }
    auto stream_addr = ipckit::SocketAddress::unix_domain(argv[1]);
    auto dgram_addr = ipckit::SocketAddress::unix_domain(argv[2]);
    if (!stream_addr || !dgram_addr) {
        return fail(!stream_addr ? stream_addr.error() : dgram_addr.error());
    }
    // Bind the datagram socket first: once the stream path exists the peer may send at once.
    auto dgram = ipckit::Socket::bind(*dgram_addr);
    if (!dgram) {
        return fail(dgram.error());
    }
    auto listener = ipckit::Listener::bind(*stream_addr);
    if (!listener) {
        return fail(listener.error());
    }
    std::printf("ready\n");
    std::fflush(stdout);

    auto conn = listener->accept(ipckit::Deadline::after(30s));
    if (!conn) {
        return fail(conn.error());
    }
    if (!conn->has_value()) {
        std::fprintf(stderr, "no stream client within 30 s\n");
        return 1;
    }
    ipckit::Socket& s = **conn;
    ipckit::FrameReader reader(s.native_handle(), std::size_t{64} * 1024, s.name());
    for (;;) {
        auto frame = reader.read(ipckit::Deadline::after(10s));
        if (!frame && frame.error() == ipckit::FrameReader::kEndOfStream) {
            break;
        }
        if (!frame) {
            return fail(frame.error());
        }
        if (!frame->has_value()) {
            return fail(ipckit::Error(std::errc::timed_out, "read_frame", s.name()));
        }
        std::string text(reinterpret_cast<const char*>((*frame)->data()),  // NOLINT: bytes as text
                         (*frame)->size());
        std::printf("stream got: %s\n", text.c_str());
        std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) {
            return static_cast<char>(std::toupper(c));
        });
        auto sent = ipckit::write_frame(s.native_handle(),
                                        std::as_bytes(std::span(text)),
                                        ipckit::FdKind::Socket,
                                        ipckit::Deadline::after(5s),
                                        s.name());
        if (!sent) {
            return fail(sent.error());
        }
    }

    std::array<std::byte, 1024> buf{};
    auto d = dgram->receive_from(buf, ipckit::Deadline::after(10s));
    if (!d) {
        return fail(d.error());
    }
    if (!d->has_value()) {
        std::fprintf(stderr, "no datagram within 10 s\n");
        return 1;
    }
    const std::string payload(reinterpret_cast<const char*>(buf.data()),  // NOLINT: bytes as text
                              (*d)->size);
    std::printf("datagram got: %s from %s\n", payload.c_str(), (*d)->from.to_string().c_str());
    const std::string reply = "ack: " + payload;
    auto sent =
        dgram->send_to(std::as_bytes(std::span(reply)), (*d)->from, ipckit::Deadline::after(5s));
    if (!sent) {
        return fail(sent.error());
    }
    std::printf("done\n");
    return 0;
}
