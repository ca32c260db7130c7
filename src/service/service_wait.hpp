// SPDX-License-Identifier: MIT
// Private: what a WaitSet needs from a Server or a Client (docs/design/patterns.md, "The
// WaitSet and the doorbell").
#pragma once

#include "ipckit/core/result.hpp"

#include <cstdint>

namespace ipckit {
class Subscriber;
}

namespace ipckit::detail {

struct ServerImpl;
struct ClientImpl;

/// The server's subscription to its request channel.
[[nodiscard]] Subscriber& server_requests(ServerImpl& s) noexcept;
/// The client's subscription to its own response channel.
[[nodiscard]] Subscriber& client_responses(ClientImpl& c) noexcept;
/// True when a request in flight has a response or an error filed aside (local memory only).
[[nodiscard]] bool client_has_filed(const ClientImpl& c) noexcept;
/// The pidfd of the server the client resolved; -1 once that server is known dead.
[[nodiscard]] int client_server_pidfd(const ClientImpl& c) noexcept;
/// Changes whenever the client resolves a server (a new pidfd).
[[nodiscard]] std::uint64_t client_server_epoch(const ClientImpl& c) noexcept;
/// Looks at the server's pidfd; once the server has ended, files the responses it wrote before
/// dying and fails every request in flight with errc::connection_reset. True if it is dead.
Result<bool> client_check_server(ClientImpl& c);

}  // namespace ipckit::detail
