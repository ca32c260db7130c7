// SPDX-License-Identifier: MIT
// Socket: a connected or bound socket of any family and type, with deadlines, message boundaries,
// descriptor passing and credentials (socket(7), unix(7), tcp(7), udp(7), cmsg(3)).
#pragma once

#include "ipckit/core/deadline.hpp"
#include "ipckit/core/result.hpp"
#include "ipckit/core/unique_fd.hpp"
#include "ipckit/export.hpp"
#include "ipckit/socket/credentials.hpp"
#include "ipckit/socket/socket_address.hpp"
#include "ipckit/socket/socket_path_lease.hpp"

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <optional>
#include <span>
#include <utility>
#include <vector>

namespace ipckit {

/// The socket type: a byte stream (SOCK_STREAM: TCP, Unix stream), independent datagrams
/// (SOCK_DGRAM: UDP, Unix datagram) or a connected stream of records (SOCK_SEQPACKET, Unix only).
enum class SocketType { Stream, Datagram, SeqPacket };

/// Which direction shutdown(2) closes.
enum class ShutdownHow { Read, Write, Both };

/// A datagram and who sent it (receive_from).
struct IPCKIT_API Datagram {
    std::size_t size = 0;
    SocketAddress from = SocketAddress::unix_autobind();
};

/// What receive_with_fds() got: the data, the descriptors (owned, O_CLOEXEC), and the sender's
/// credentials if SO_PASSCRED is on (set_pass_credentials).
struct IPCKIT_API ReceivedMessage {
    std::size_t size = 0;  ///< data bytes; 0 with fds empty on a stream means end of file
    std::vector<UniqueFd> fds;
    std::optional<Credentials> credentials;
};

/// A socket handle. It owns the descriptor and, for a Unix socket it bound to a filesystem path,
/// the path (removed on destruction by the binding process only; see SocketPathLease).
///
/// Every ipckit socket is SOCK_CLOEXEC and SOCK_NONBLOCK: blocking calls wait in poll(2) until
/// their Deadline, so a deadline is a hard bound even for a peer that stops reading. Code that
/// uses native_handle() directly must expect EAGAIN. Sends use MSG_NOSIGNAL: a gone peer is
/// errc::broken_pipe, never SIGPIPE.
///
/// Message sockets (Datagram, SeqPacket) keep boundaries: one send() is one receive(). A message
/// longer than the receive buffer is an error (errc::message_size, "datagram truncated"), never
/// a silent cut.
///
/// Thread-safety: one sender and one receiver thread may use a socket concurrently (the kernel
/// serialises them); the handle itself is not synchronised. Fork: the child shares the open
/// socket; exec closes it unless you clear FD_CLOEXEC yourself.
///
/// @code
///   auto s = Socket::connect(SocketAddress::unix_domain("/run/app.sock").value(),
///                            SocketType::Stream, Deadline::after(2s));
///   if (!s) return s.error();           // "connect /run/app.sock: Connection refused"
///   s->send(bytes, Deadline::after(1s));
/// @endcode
class IPCKIT_API Socket {
public:
    /// What receive() and receive_with_fds() fail with once the peer of a seqpacket socket has
    /// closed the connection and every record it sent has been read (ENODATA).
    static constexpr std::errc kEndOfConnection = std::errc::no_message_available;

    /// SCM_MAX_FD: the kernel's limit of descriptors in one SCM_RIGHTS message.
    static constexpr std::size_t kMaxFdsPerMessage = 253;

    /// Connects to `address` with a non-blocking connect and poll, so the deadline bounds it.
    /// Errors name the address: errc::connection_refused "connect /run/app.sock: Connection
    /// refused (nobody is listening)"; errc::timed_out when the deadline passes.
    static Result<Socket> connect(const SocketAddress& address,
                                  SocketType type,
                                  Deadline deadline = Deadline::never());
    /// A connected pair (socketpair(2), AF_UNIX). SeqPacket and Datagram keep boundaries.
    static Result<std::pair<Socket, Socket>> pair(SocketType type);
    /// A bound, unconnected message socket (Unix datagram, UDP). For a filesystem path the same
    /// stale-file rules as Listener::bind apply. Port 0 picks an ephemeral port: read it back
    /// with local_address().
    static Result<Socket> bind(const SocketAddress& address,
                               SocketType type = SocketType::Datagram);
    /// An unbound socket of `family` (e.g. a Unix datagram client that only sends).
    static Result<Socket> open(AddressFamily family, SocketType type);
    /// Takes over a descriptor that is already a socket (e.g. one received over SCM_RIGHTS or
    /// from accept()); sets O_NONBLOCK and FD_CLOEXEC. errc::not_a_socket if it is not one.
    static Result<Socket> adopt(UniqueFd fd);

    /// Sets the default peer of a message socket (connect(2) on a datagram socket): send() goes
    /// there and only its datagrams are received. On UDP this is what lets ICMP errors reach us.
    Result<void> connect_to(const SocketAddress& peer);

    // ---- data
    /// Stream: sends all of `bytes`, resuming partial writes (never re-sending a byte).
    /// Message: sends `bytes` as one message (all or nothing). On timeout: errc::timed_out with
    /// the progress ("wrote X of Y bytes" on a stream, "sent 0 of Y bytes" for a message). Errors: broken_pipe (peer gone), connection_refused (datagram receiver gone,
    /// or an ICMP error from an earlier UDP send), connection_reset.
    Result<void> send(std::span<const std::byte> bytes, Deadline deadline = Deadline::never());
    /// One datagram to `to` (unconnected message sockets).
    Result<void> send_to(std::span<const std::byte> bytes,
                         const SocketAddress& to,
                         Deadline deadline = Deadline::never());
    /// Stream: up to buffer.size() bytes (0 = the peer shut down its side). Message: exactly one
    /// message; errc::message_size if it did not fit (the message is consumed; size buffers with
    /// next_message_size()). Empty optional: the deadline passed first. A Unix seqpacket socket
    /// whose peer closed fails with kEndOfConnection: there 0 bytes is an empty record, never the
    /// end (ipckit turns SO_PASSCRED on for every seqpacket socket it makes, so each record
    /// carries credentials and the end carries none).
    Result<std::optional<std::size_t>> receive(std::span<std::byte> buffer,
                                               Deadline deadline = Deadline::never());
    /// One datagram with the sender's address (truncation is errc::message_size, as receive()).
    Result<std::optional<Datagram>> receive_from(std::span<std::byte> buffer,
                                                 Deadline deadline = Deadline::never());
    /// The size of the next queued message without consuming it (MSG_PEEK|MSG_TRUNC), waiting
    /// until the deadline for one to arrive. Message sockets only.
    Result<std::optional<std::size_t>> next_message_size(Deadline deadline = Deadline::never());

    // ---- descriptors and credentials (Unix sockets)
    /// Sends `bytes` with `fds` attached (SCM_RIGHTS). On a stream socket at least one data byte
    /// must travel with them (F23): an empty `bytes` is errc::invalid_argument. More than
    /// kMaxFdsPerMessage fds is errc::argument_list_too_long. The fds stay open here.
    Result<void> send_fds(std::span<const std::byte> bytes,
                          std::span<const int> fds,
                          Deadline deadline = Deadline::never());
    /// Receives one message (or a chunk of a stream) and up to `max_fds` descriptors, received
    /// O_CLOEXEC (MSG_CMSG_CLOEXEC). If the sender attached more than fit, the kernel drops the
    /// rest and sets MSG_CTRUNC: that is errc::message_size "ancillary data truncated", and every
    /// descriptor that did arrive is closed first, so none leaks. A message body that did not fit
    /// is errc::message_size too (its fds are closed).
    Result<std::optional<ReceivedMessage>> receive_with_fds(std::span<std::byte> buffer,
                                                            std::size_t max_fds,
                                                            Deadline deadline = Deadline::never());
    /// The peer's credentials at connect()/socketpair() time (SO_PEERCRED).
    [[nodiscard]] Result<Credentials> peer_credentials() const;
    /// A pidfd for the peer process (SO_PEERPIDFD, Linux >= 6.5), immune to pid reuse; empty
    /// optional if the kernel does not support it.
    [[nodiscard]] Result<std::optional<UniqueFd>> peer_pidfd() const;
    /// Turns SO_PASSCRED on or off: with it, receive_with_fds() reports each message's sender
    /// credentials (SCM_CREDENTIALS), which the kernel fills in and checks. A Unix seqpacket
    /// socket keeps it on (errc::operation_not_supported for `false`): it is how the end of the
    /// connection is told from an empty record.
    Result<void> set_pass_credentials(bool on);

    // ---- options and state
    /// TCP_NODELAY: send small writes at once instead of coalescing them (Nagle).
    Result<void> set_no_delay(bool on);
    /// shutdown(2): Write sends EOF (FIN) while still reading the peer's remaining data.
    Result<void> shutdown(ShutdownHow how);
    /// Graceful close of a stream: shutdown(Write), then read and discard until the peer closes
    /// too (or the deadline passes: errc::timed_out), then close. Avoids the RST a close with
    /// unread data would send.
    Result<void> close_gracefully(Deadline deadline = Deadline::after(std::chrono::seconds(5)));
    [[nodiscard]] Result<SocketAddress> local_address() const;
    [[nodiscard]] Result<SocketAddress> peer_address() const;
    /// Closes now (and removes a bound socket file, as the destructor would).
    void close() noexcept {
        lease_.reset();
        fd_.reset();
    }

    [[nodiscard]] SocketType type() const noexcept { return type_; }
    [[nodiscard]] int native_handle() const noexcept { return fd_.get(); }
    [[nodiscard]] bool valid() const noexcept { return fd_.valid(); }
    /// What errors name: the address this socket is bound or connected to ("/run/app.sock",
    /// "127.0.0.1:5000", "socketpair").
    [[nodiscard]] const std::string& name() const noexcept { return name_; }

private:
    friend class Listener;
    Socket(UniqueFd fd, SocketType type, std::string name, SocketPathLease lease = {}) noexcept
        : fd_(std::move(fd)), type_(type), name_(std::move(name)), lease_(std::move(lease)) {}
    Result<std::optional<std::size_t>> send_message(std::span<const std::byte> bytes,
                                                    const SocketAddress* to,
                                                    std::span<const int> fds,
                                                    Deadline deadline,
                                                    const char* op);

    UniqueFd fd_;
    SocketType type_ = SocketType::Stream;
    std::string name_;
    SocketPathLease lease_;  // declared after fd_: the file is unlinked before the fd closes
};

}  // namespace ipckit
