// SPDX-License-Identifier: MIT
// UDP over loopback: two sockets bound to 127.0.0.1 and connected to each other. Datagrams top
// out at 65507 bytes; the engine's acknowledgement window keeps the receive buffer from
// overflowing, and a lost datagram would show up as a sequence error rather than a fast number.
#include "ipckit/core/unique_fd.hpp"
#include "transports/fd_pair.hpp"
#include "transports/registry.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace ipckit::bench {
namespace {

constexpr std::size_t kMaxUdpPayload = 65507;

Result<UniqueFd> bound_socket(sockaddr_in& addr) {
    UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (fd.get() < 0) {
        return Error::from_errno(errno, "socket", "AF_INET SOCK_DGRAM");
    }
    addr = {};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        return Error::from_errno(errno, "bind", "127.0.0.1 (udp)");
    }
    return fd;
}

class UdpLoopback final : public FdPairTransport {
public:
    UdpLoopback() : FdPairTransport(Framing::Record, true) {}
    Result<void> setup(const SetupParams& p) override {
        sockaddr_in a_addr{};
        sockaddr_in b_addr{};
        auto a = bound_socket(a_addr);
        if (!a) {
            return a.error();
        }
        auto b = bound_socket(b_addr);
        if (!b) {
            return b.error();
        }
        if (::connect(a->get(), reinterpret_cast<sockaddr*>(&b_addr), sizeof b_addr) != 0 ||
            ::connect(b->get(), reinterpret_cast<sockaddr*>(&a_addr), sizeof a_addr) != 0) {
            return Error::from_errno(errno, "connect", "127.0.0.1 (udp)");
        }
        const std::size_t want = 4 * std::min(p.max_message_size, kMaxUdpPayload) + 65536;
        max_ = std::min(kMaxUdpPayload, grow_socket_buffers(a->get(), want));
        grow_socket_buffers(b->get(), want);
        const int fa = a->release();
        const int fb = b->release();
        set_fds(fa, fa, fb, fb);
        set_object("udp 127.0.0.1:" + std::to_string(ntohs(a_addr.sin_port)));
        return {};
    }
    [[nodiscard]] std::size_t max_message_size() const override { return max_; }

private:
    std::size_t max_ = 0;
};

}  // namespace

std::unique_ptr<Transport> make_udp_loopback() {
    return std::make_unique<UdpLoopback>();
}

}  // namespace ipckit::bench
