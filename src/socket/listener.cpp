// SPDX-License-Identifier: MIT
#include "ipckit/socket/listener.hpp"

#include "socket/socket_internal.hpp"
#include "sys/syscall.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>

namespace ipckit {

Result<Listener> Listener::bind(const SocketAddress& address,
                                SocketType type,
                                ListenOptions options) {
    const std::string object = address.to_string();
    if (type == SocketType::Datagram) {
        return Error(std::errc::invalid_argument,
                     "listen",
                     object,
                     "datagram sockets do not listen; use Socket::bind");
    }
    IPCKIT_TRY_ASSIGN(auto fd, detail::make_socket(address.domain(), type, object));
    if (!address.is_unix() && options.reuse_address) {
        const int one = 1;
        IPCKIT_TRY(sys::call("setsockopt SO_REUSEADDR", object, [&] {
            return ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        }));
    }
    IPCKIT_TRY_ASSIGN(
        auto lease,
        detail::bind_address(fd.get(), address, type, options.remove_stale_socket));
    IPCKIT_TRY(sys::call("listen", object, [&] { return ::listen(fd.get(), options.backlog); }));
    std::string name = object;
    if (!address.is_unix() && address.port() == 0) {
        if (auto bound = detail::sock_name(fd.get(), object, false)) {
            name = bound->to_string();
        }
    }
    return Listener(std::move(fd), type, std::move(name), std::move(lease));
}

Result<std::optional<Socket>> Listener::accept(Deadline deadline) {
    for (;;) {
        // ECONNABORTED/EPROTO: the pending connection was reset before we took it. accept(2)
        // says to treat them like EAGAIN: wait for the next one.
        auto c = sys::call_maybe("accept", name_, {EAGAIN, EWOULDBLOCK, ECONNABORTED, EPROTO}, [&] {
            return ::accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
        });
        if (!c) {
            if (c.error().code() == std::errc::too_many_files_open) {
                return c.error().with_detail(
                    "RLIMIT_NOFILE reached; the pending connection stays queued");
            }
            return std::move(c).error();
        }
        if (c->has_value()) {
            UniqueFd conn(**c);
            std::string peer = name_;
            if (auto p = detail::sock_name(conn.get(), name_, true); p && !p->is_unnamed()) {
                peer = p->to_string();  // TCP: the client's address; Unix clients are unnamed
            }
            return std::optional<Socket>(Socket(std::move(conn), type_, std::move(peer)));
        }
        IPCKIT_TRY_ASSIGN(auto ready,
                          detail::wait_ready(fd_.get(), POLLIN, deadline, name_));
        if (!ready) {
            return std::optional<Socket>();
        }
    }
}

Result<SocketAddress> Listener::local_address() const {
    return detail::sock_name(fd_.get(), name_, false);
}

}  // namespace ipckit
