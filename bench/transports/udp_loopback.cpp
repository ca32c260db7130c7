// SPDX-License-Identifier: MIT
// UDP over loopback through ipckit::Socket: two sockets bound to 127.0.0.1 and connected to each
// other. Datagrams top out at 65507 bytes; the engine's acknowledgement window keeps the receive
// buffer from overflowing, and a lost datagram would show up as a sequence error rather than a
// fast number.
#include "ipckit/socket/socket.hpp"
#include "ipckit/socket/socket_address.hpp"
#include "transports/registry.hpp"
#include "transports/socket_pair.hpp"

#include <algorithm>

namespace ipckit::bench {
namespace {

constexpr std::size_t kMaxUdpPayload = 65507;

class UdpLoopback final : public SocketPairTransport {
public:
    Result<void> setup(const SetupParams& p) override {
        IPCKIT_TRY_ASSIGN(auto a,
                          Socket::bind(SocketAddress::loopback_v4(0), SocketType::Datagram));
        IPCKIT_TRY_ASSIGN(auto b,
                          Socket::bind(SocketAddress::loopback_v4(0), SocketType::Datagram));
        IPCKIT_TRY_ASSIGN(const auto a_address, a.local_address());
        IPCKIT_TRY_ASSIGN(const auto b_address, b.local_address());
        IPCKIT_TRY(a.connect_to(b_address));
        IPCKIT_TRY(b.connect_to(a_address));
        const std::size_t want = 4 * std::min(p.max_message_size, kMaxUdpPayload) + 65536;
        const std::size_t max = std::min(kMaxUdpPayload, grow_socket_buffers(a, want));
        grow_socket_buffers(b, want);
        set_sockets(std::move(a), std::move(b), max);
        return {};
    }
};

}  // namespace

std::unique_ptr<Transport> make_udp_loopback() {
    return std::make_unique<UdpLoopback>();
}

}  // namespace ipckit::bench
