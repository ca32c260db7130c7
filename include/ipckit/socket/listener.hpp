// SPDX-License-Identifier: MIT
// Listener: a bound, listening stream or seqpacket socket that accepts connections with a deadline
// (listen(2), accept4(2), unix(7), tcp(7)).
#pragma once

#include "ipckit/core/deadline.hpp"
#include "ipckit/core/result.hpp"
#include "ipckit/core/unique_fd.hpp"
#include "ipckit/export.hpp"
#include "ipckit/socket/socket.hpp"
#include "ipckit/socket/socket_address.hpp"
#include "ipckit/socket/socket_path_lease.hpp"

#include <optional>

namespace ipckit {

/// How Listener::bind sets up the socket.
struct IPCKIT_API ListenOptions {
    int backlog = 128;
    /// SO_REUSEADDR for TCP: rebind a port whose old connections are in TIME_WAIT.
    bool reuse_address = true;
    /// For a filesystem path that already exists: remove it only if it is a socket, owned by this
    /// euid, and a connect() to it is refused (nobody is listening: a dead server's leftover).
    /// Anything else is never removed (D08). Off: an existing path is errc::address_in_use.
    bool remove_stale_socket = true;
};

/// A listening socket. Owns the descriptor and, for a filesystem path, the socket file: the
/// binding process removes it on destruction (a fork child's copy never does; a file that has
/// since been replaced is left alone).
///
/// Accepted sockets are SOCK_CLOEXEC and SOCK_NONBLOCK (see Socket). Thread-safety: accept() may
/// be called from several threads. Fork: children share the listening socket.
///
/// @code
///   auto l = Listener::bind(SocketAddress::unix_domain("/run/user/1000/app.sock").value());
///   while (auto c = l->accept(Deadline::after(1s))) { if (*c) serve(std::move(**c)); }
/// @endcode
class IPCKIT_API Listener {
public:
    /// socket + bind + listen. Errors: errc::address_in_use naming why the path was kept ("the
    /// path exists and is not a socket", "owned by uid 0", "a server is listening on it");
    /// errc::filename_too_long comes from SocketAddress already.
    static Result<Listener> bind(const SocketAddress& address,
                                 SocketType type = SocketType::Stream,
                                 ListenOptions options = {});

    /// Waits until the deadline for a connection. Empty optional: timed out.
    Result<std::optional<Socket>> accept(Deadline deadline = Deadline::never());
    /// accept() without waiting.
    Result<std::optional<Socket>> try_accept() { return accept(Deadline::now()); }

    /// The bound address (with the kernel-chosen port after binding port 0).
    [[nodiscard]] Result<SocketAddress> local_address() const;
    [[nodiscard]] int native_handle() const noexcept { return fd_.get(); }
    [[nodiscard]] SocketType type() const noexcept { return type_; }
    [[nodiscard]] const std::string& name() const noexcept { return name_; }

private:
    Listener(UniqueFd fd, SocketType type, std::string name, SocketPathLease lease) noexcept
        : fd_(std::move(fd)), type_(type), name_(std::move(name)), lease_(std::move(lease)) {}
    UniqueFd fd_;
    SocketType type_ = SocketType::Stream;
    std::string name_;
    SocketPathLease lease_;
};

}  // namespace ipckit
