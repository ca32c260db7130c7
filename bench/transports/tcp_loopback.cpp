// SPDX-License-Identifier: MIT
// TCP over loopback: the supervisor listens on 127.0.0.1:0, connects and accepts, so each role
// inherits one end of an established connection. TCP_NODELAY, as any latency-minded user sets.
#include "ipckit/core/unique_fd.hpp"
#include "transports/fd_pair.hpp"
#include "transports/registry.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace ipckit::bench {
namespace {

class TcpLoopback final : public FdPairTransport {
public:
    TcpLoopback() : FdPairTransport(Framing::Stream, true) {}
    Result<void> setup(const SetupParams& /*p*/) override {
        UniqueFd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        if (listener.get() < 0) {
            return Error::from_errno(errno, "socket", "AF_INET SOCK_STREAM");
        }
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof addr;
        if (::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
            ::listen(listener.get(), 1) != 0 ||
            ::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
            return Error::from_errno(errno, "bind/listen", "127.0.0.1");
        }
        const std::string object = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
        UniqueFd client(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        if (client.get() < 0 ||
            ::connect(client.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
            return Error::from_errno(errno, "connect", object);
        }
        UniqueFd server(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
        if (server.get() < 0) {
            return Error::from_errno(errno, "accept4", object);
        }
        const int one = 1;
        ::setsockopt(client.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        ::setsockopt(server.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        const int a = client.release();
        const int b = server.release();
        set_fds(a, a, b, b);
        set_object("tcp " + object);
        return {};
    }
};

}  // namespace

std::unique_ptr<Transport> make_tcp_loopback() {
    return std::make_unique<TcpLoopback>();
}

}  // namespace ipckit::bench
