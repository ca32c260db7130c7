// SPDX-License-Identifier: MIT
// Endpoints over sockets: unix: and tcp: (a stream: frames or raw lines), unix-seqpacket:
// (records with credentials), unix-dgram: and udp: (datagrams).
#include "endpoint/endpoint_impl.hpp"
#include "ipckit/socket/listener.hpp"
#include "ipckit/socket/socket.hpp"
#include "ipckit/socket/socket_address.hpp"
#include "sys/syscall.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <utility>

namespace ipckit::detail {

namespace {

/// The largest datagram the kernel can carry (UDP: 65507; unix-dgram is bounded by wmem anyway).
constexpr std::size_t kDatagramMaxMessage = 65507;

Result<SocketAddress> socket_address(const Uri& uri) {
    if (const auto* u = uri.get_if<UnixUri>()) {
        return u->abstract ? SocketAddress::unix_abstract(u->path)
                           : SocketAddress::unix_domain(u->path);
    }
    const auto& in = *uri.get_if<InetUri>();
    const bool v6 = in.ipv6_literal || in.host.find(':') != std::string::npos;
    std::string host = in.host;
    if (host == "localhost") {
        host = "127.0.0.1";
    }
    return v6 ? SocketAddress::ipv6(host, in.port) : SocketAddress::ipv4(host, in.port);
}

/// A stream or seqpacket connection: connected (Sender) or accepted one at a time (Receiver).
class ConnImpl final : public Endpoint::Impl {
public:
    ConnImpl(std::optional<Listener> listener, std::optional<Socket> conn, bool raw, bool seqpacket)
        : listener_(std::move(listener)), conn_(std::move(conn)), raw_(raw), seqpacket_(seqpacket) {
        if (conn_ && !seqpacket_) {
            reader_.emplace(conn_->native_handle(), raw_, conn_->name());
        }
    }
    Result<void> send(std::span<const std::byte> message, const SendOptions& o) override {
        if (listener_) {
            return wrong_role(name, "send");
        }
        if (seqpacket_) {
            return conn_->send(message, o.deadline);
        }
        return write_message(
            conn_->native_handle(), message, raw_, FdKind::Socket, o.deadline, name);
    }
    Result<std::optional<EndpointMessage>> receive(Deadline deadline) override {
        for (;;) {
            if (!conn_) {
                if (!listener_) {
                    return Error(std::errc::not_connected, "receive", name, "the peer closed");
                }
                IPCKIT_TRY_ASSIGN(auto accepted, accept_next(deadline));
                if (!accepted) {
                    return std::optional<EndpointMessage>();
                }
            }
            EndpointMessage m;
            bool eof = false;
            IPCKIT_TRY_ASSIGN(
                auto got,
                seqpacket_ ? read_record(deadline, m, eof) : read_frame(deadline, m, eof));
            if (!got) {
                return std::optional<EndpointMessage>();
            }
            if (!eof) {
                if (!m.credentials) {
                    m.credentials = peer_cred_;
                }
                m.sender = peer_;
                return std::optional<EndpointMessage>(std::move(m));
            }
            reader_.reset();
            conn_.reset();
            if (!listener_) {
                return Error(std::errc::connection_aborted,
                             "receive",
                             name,
                             "the peer closed the connection");
            }
            // A server waits for the next client.
        }
    }
    [[nodiscard]] std::size_t max_message_size() const noexcept override {
        return kStreamMaxMessage;
    }

private:
    /// A server's next client: false when none came by the deadline.
    Result<bool> accept_next(Deadline deadline) {
        IPCKIT_TRY_ASSIGN(auto c, listener_->accept(deadline));
        if (!c) {
            return false;
        }
        conn_ = std::move(*c);
        if (seqpacket_) {
            IPCKIT_TRY(conn_->set_pass_credentials(true));
        } else {
            reader_.emplace(conn_->native_handle(), raw_, name);
        }
        auto addr = conn_->peer_address();
        auto cred = addr && addr->is_unix()
                        ? conn_->peer_credentials()
                        : Result<Credentials>(Error(std::errc::not_supported, "peer"));
        peer_cred_ = cred ? std::optional<Credentials>(*cred) : std::nullopt;
        peer_ = addr && !addr->is_unnamed() ? std::optional<std::string>(addr->to_string())
                                            : std::nullopt;
        return true;
    }
    /// One seqpacket record into `m` (or `eof`): false when none came by the deadline.
    Result<bool> read_record(Deadline deadline, EndpointMessage& m, bool& eof) {
        // Socket tells a zero-length record from the end (SO_PASSCRED: Socket::kEndOfConnection).
        IPCKIT_TRY_ASSIGN(auto size, conn_->next_message_size(deadline));
        if (!size) {
            return false;
        }
        m.data.resize(std::max<std::size_t>(*size, 1));
        auto received = conn_->receive_with_fds(m.data, 0, deadline);
        if (!received && received.error() == Socket::kEndOfConnection) {
            m.data.clear();
            eof = true;
            return true;
        }
        IPCKIT_TRY_ASSIGN(auto r, std::move(received));
        if (!r) {
            return false;
        }
        m.data.resize(r->size);
        if (r->credentials) {
            m.credentials = r->credentials;
        }
        return true;
    }
    /// One framed message of a byte stream into `m` (or `eof`): false when none came in time.
    Result<bool> read_frame(Deadline deadline, EndpointMessage& m, bool& eof) {
        IPCKIT_TRY_ASSIGN(auto data, reader_->read(deadline, eof));
        if (data) {
            m.data = std::move(*data);
            return true;
        }
        return eof;
    }

    std::optional<Listener> listener_;

    std::optional<Socket> conn_;
    bool raw_;
    bool seqpacket_;
    std::optional<StreamReader> reader_;
    std::optional<Credentials> peer_cred_;
    std::optional<std::string> peer_;
};

/// unix-dgram and udp: a bound socket (Receiver) or an unbound one sending to the address.
class DgramImpl final : public Endpoint::Impl {
public:
    DgramImpl(Socket s, std::optional<SocketAddress> to, bool unix_family)
        : s_(std::move(s)), to_(to), unix_(unix_family) {}
    Result<void> send(std::span<const std::byte> message, const SendOptions& o) override {
        if (!to_) {
            return wrong_role(name, "send");
        }
        if (message.size() > kDatagramMaxMessage && !unix_) {
            return Error(std::errc::message_size,
                         "sendto",
                         name,
                         std::to_string(message.size()) + " bytes > the largest UDP datagram (" +
                             std::to_string(kDatagramMaxMessage) + ")");
        }
        return s_.send_to(message, *to_, o.deadline);
    }
    Result<std::optional<EndpointMessage>> receive(Deadline deadline) override {
        IPCKIT_TRY_ASSIGN(auto size, s_.next_message_size(deadline));
        if (!size) {
            return std::optional<EndpointMessage>();
        }
        EndpointMessage m;
        m.data.resize(std::max<std::size_t>(*size, 1));
        if (unix_) {
            IPCKIT_TRY_ASSIGN(auto r, s_.receive_with_fds(m.data, 0, deadline));
            if (!r) {
                return std::optional<EndpointMessage>();
            }
            m.data.resize(r->size);
            m.credentials = r->credentials;
        } else {
            IPCKIT_TRY_ASSIGN(auto r, s_.receive_from(m.data, deadline));
            if (!r) {
                return std::optional<EndpointMessage>();
            }
            m.data.resize(r->size);
            m.sender = r->from.to_string();
        }
        return std::optional<EndpointMessage>(std::move(m));
    }
    [[nodiscard]] std::size_t max_message_size() const noexcept override {
        return kDatagramMaxMessage;
    }

private:
    Socket s_;
    std::optional<SocketAddress> to_;
    bool unix_;
};

Result<EndpointImplPtr> open_dgram(const SocketAddress& addr, EndpointRole role, bool is_unix) {
    if (role == EndpointRole::Receiver) {
        IPCKIT_TRY_ASSIGN(auto s, Socket::bind(addr, SocketType::Datagram));
        if (is_unix) {
            IPCKIT_TRY(s.set_pass_credentials(true));
        }
        return EndpointImplPtr(std::make_unique<DgramImpl>(std::move(s), std::nullopt, is_unix));
    }
    IPCKIT_TRY_ASSIGN(auto s, Socket::open(addr.family(), SocketType::Datagram));
    if (is_unix) {
        // Attach our credentials ourselves: a receiver that turned on SO_PASSCRED only
        // after binding would otherwise see "no credentials" (uid 65534) for early messages.
        IPCKIT_TRY(s.set_pass_credentials(true));
    }
    return EndpointImplPtr(std::make_unique<DgramImpl>(std::move(s), addr, is_unix));
}

Result<EndpointImplPtr> open_stream(const SocketAddress& addr,
                                    EndpointRole role,
                                    bool raw,
                                    bool seqpacket,
                                    const EndpointOptions& o) {
    const SocketType type = seqpacket ? SocketType::SeqPacket : SocketType::Stream;
    if (role == EndpointRole::Receiver) {
        IPCKIT_TRY_ASSIGN(auto l, Listener::bind(addr, type));
        if (seqpacket) {
            // Accepted sockets inherit SO_PASSCRED from the listener, so no record of a new
            // connection can slip in before it is on (see the seqpacket EOF rule above).
            const int on = 1;
            IPCKIT_TRY(sys::call("setsockopt SO_PASSCRED", l.name(), [&] {
                return ::setsockopt(l.native_handle(), SOL_SOCKET, SO_PASSCRED, &on, sizeof on);
            }));
        }
        return EndpointImplPtr(
            std::make_unique<ConnImpl>(std::move(l), std::nullopt, raw, seqpacket));
    }
    IPCKIT_TRY_ASSIGN(auto c, Socket::connect(addr, type, o.deadline));
    if (seqpacket) {
        IPCKIT_TRY(c.set_pass_credentials(true));  // every record carries credentials
    }
    return EndpointImplPtr(std::make_unique<ConnImpl>(std::nullopt, std::move(c), raw, seqpacket));
}

}  // namespace

Result<EndpointImplPtr> open_socket(const Uri& uri, EndpointRole role, const EndpointOptions& o) {
    IPCKIT_TRY_ASSIGN(auto addr, socket_address(uri));
    const auto* un = uri.get_if<UnixUri>();
    const auto* in = uri.get_if<InetUri>();
    const bool is_unix = un != nullptr;
    const bool raw = o.raw.value_or(is_unix ? un->raw : in->raw);
    const bool dgram =
        is_unix ? un->type == UnixUri::Type::Datagram : in->protocol == InetUri::Protocol::Udp;
    const bool seqpacket = is_unix && un->type == UnixUri::Type::Seqpacket;
    if (dgram) {
        return open_dgram(addr, role, is_unix);
    }
    return open_stream(addr, role, raw, seqpacket, o);
}

}  // namespace ipckit::detail
