// SPDX-License-Identifier: MIT
// Helpers shared by Socket and Listener (private to the library).
#pragma once

#include "ipckit/core/deadline.hpp"
#include "ipckit/core/result.hpp"
#include "ipckit/core/unique_fd.hpp"
#include "ipckit/socket/socket.hpp"
#include "ipckit/socket/socket_address.hpp"
#include "ipckit/socket/socket_path_lease.hpp"

#include <string>
#include <string_view>

namespace ipckit::detail {

/// SOCK_STREAM / SOCK_DGRAM / SOCK_SEQPACKET.
int native_type(SocketType type) noexcept;
/// "stream", "datagram", "seqpacket".
const char* type_name(SocketType type) noexcept;

/// socket(domain, type | SOCK_CLOEXEC | SOCK_NONBLOCK).
/// socket(2), close-on-exec and non-blocking; a Unix seqpacket socket gets SO_PASSCRED (see
/// Socket::kEndOfConnection).
Result<UniqueFd> make_socket(int domain, SocketType type, std::string_view object);
/// SO_PASSCRED on: every record received carries the sender's credentials.
Result<void> pass_credentials(int fd, std::string_view object);

/// poll(2) for `events` until the deadline; false if it passed first. POLLERR/POLLHUP count as
/// ready: the next call reports what happened.
Result<bool> wait_ready(int fd, short events, Deadline deadline, std::string_view object);

/// bind(2) with the stale-socket rules of ListenOptions::remove_stale_socket; returns the lease
/// that removes a filesystem path again.
Result<SocketPathLease> bind_address(int fd,
                                     const SocketAddress& address,
                                     SocketType type,
                                     bool remove_stale_socket);

/// An address with the kernel's view filled in (after bind to port 0, autobind, ...).
Result<SocketAddress> sock_name(int fd, std::string_view object, bool peer);

}  // namespace ipckit::detail
