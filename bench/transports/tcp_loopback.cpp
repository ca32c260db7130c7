// SPDX-License-Identifier: MIT
// TCP over loopback through ipckit's Listener and Socket: the supervisor listens on 127.0.0.1:0,
// connects and accepts, so each role inherits one end of an established connection.
// TCP_NODELAY, as any latency-minded user sets.
#include "ipckit/socket/listener.hpp"
#include "ipckit/socket/socket.hpp"
#include "ipckit/socket/socket_address.hpp"
#include "transports/registry.hpp"
#include "transports/socket_pair.hpp"

#include <chrono>

namespace ipckit::bench {
namespace {

using namespace std::chrono_literals;

class TcpLoopback final : public SocketPairTransport {
public:
    Result<void> setup(const SetupParams& /*p*/) override {
        IPCKIT_TRY_ASSIGN(auto listener, Listener::bind(SocketAddress::loopback_v4(0)));
        IPCKIT_TRY_ASSIGN(const auto address, listener.local_address());
        const Deadline deadline = Deadline::after(5s);
        IPCKIT_TRY_ASSIGN(auto client, Socket::connect(address, SocketType::Stream, deadline));
        IPCKIT_TRY_ASSIGN(auto server, listener.accept(deadline));
        if (!server) {
            return timed_out("accept", address.to_string());
        }
        IPCKIT_TRY(client.set_no_delay(true));
        IPCKIT_TRY(server->set_no_delay(true));
        set_sockets(std::move(client), std::move(*server));
        return {};
    }
};

}  // namespace

std::unique_ptr<Transport> make_tcp_loopback() {
    return std::make_unique<TcpLoopback>();
}

}  // namespace ipckit::bench
