// SPDX-License-Identifier: MIT
#include "ipckit/endpoint/endpoint.hpp"

#include "ipckit/channel/channel.hpp"
#include "ipckit/channel/publisher.hpp"
#include "ipckit/channel/subscriber.hpp"
#include "ipckit/core/assert.hpp"
#include "ipckit/core/io.hpp"
#include "ipckit/message/posix_mq.hpp"
#include "ipckit/message/sysv_msg_queue.hpp"
#include "ipckit/socket/listener.hpp"
#include "ipckit/socket/socket.hpp"
#include "ipckit/socket/socket_address.hpp"
#include "ipckit/stream/fifo.hpp"
#include "ipckit/stream/framing.hpp"
#include "ipckit/stream/pipe.hpp"
#include "sys/syscall.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <utility>

// Binds `var` to the value of a Result expression, returning its error from the function.
// A macro because it returns from its caller (a function cannot) and declares `var` there.
// NOLINTNEXTLINE(cppcoreguidelines-macro-usage): see above
#define IPCKIT_ENDPOINT_TRY_ASSIGN(var, expr)    \
    auto var##_result_ = (expr);                 \
    if (!var##_result_) {                        \
        return std::move(var##_result_).error(); \
    }                                            \
    auto var = std::move(*var##_result_)  // NOLINT(bugprone-macro-parentheses)

namespace ipckit {

struct Endpoint::Impl {
    Impl() = default;
    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;
    Impl(Impl&&) = delete;
    Impl& operator=(Impl&&) = delete;
    virtual ~Impl() = default;
    virtual Result<void> send(std::span<const std::byte> message, const SendOptions& options) = 0;
    virtual Result<std::optional<EndpointMessage>> receive(Deadline deadline) = 0;
    [[nodiscard]] virtual std::size_t max_message_size() const noexcept = 0;
    [[nodiscard]] virtual int sysv_id() const noexcept { return -1; }
    std::string name;
};

namespace {

/// Messages larger than this are refused on streams and sockets (a stray peer cannot make a
/// receiver allocate more).
constexpr std::size_t kStreamMaxMessage = FrameReader::kDefaultMaxFrameSize;
/// The largest datagram the kernel can carry (UDP: 65507; unix-dgram is bounded by wmem anyway).
constexpr std::size_t kDatagramMaxMessage = 65507;

Error wrong_role(const std::string& name, const char* what) {
    return {std::errc::operation_not_supported,
            what,
            name,
            "this endpoint was opened for the other direction"};
}

// ---------------------------------------------------------------- POSIX message queue
class MqImpl final : public Endpoint::Impl {
public:
    MqImpl(PosixMq q, std::optional<unsigned> prio) : q_(std::move(q)), prio_(prio) {}
    Result<void> send(std::span<const std::byte> message, const SendOptions& o) override {
        const unsigned prio = o.priority.value_or(prio_.value_or(0));
        if (prio > PosixMq::kMaxPriority) {
            return Error(std::errc::invalid_argument,
                         "mq_send",
                         name,
                         "priority " + std::to_string(prio) + " > 32767 (MQ_PRIO_MAX - 1)");
        }
        IPCKIT_ENDPOINT_TRY_ASSIGN(sent, q_.send_until(message, prio, o.deadline));
        if (!sent) {
            return Error(std::errc::timed_out, "mq_send", name, "the queue stayed full");
        }
        return {};
    }
    Result<std::optional<EndpointMessage>> receive(Deadline deadline) override {
        auto m = q_.receive_until(deadline);
        if (!m) {
            return std::move(m).error();
        }
        if (!*m) {
            return std::optional<EndpointMessage>();
        }
        EndpointMessage out;
        out.data = std::move((*m)->data);
        out.priority = (*m)->priority;
        return std::optional<EndpointMessage>(std::move(out));
    }
    [[nodiscard]] std::size_t max_message_size() const noexcept override {
        return q_.max_message_size();
    }

private:
    PosixMq q_;
    std::optional<unsigned> prio_;
};

Result<std::unique_ptr<Endpoint::Impl>> open_mq(const PosixMqUri& u,
                                                EndpointRole role,
                                                const EndpointOptions& o) {
    // A sender needs only write access. A receiver asks for read-write (so recv can put back a
    // message it could not deliver) and settles for read-only.
    const Access access = role == EndpointRole::Sender ? Access::WriteOnly : Access::ReadWrite;
    const auto open_existing = [&]() {
        auto q = PosixMq::open(u.name, access, o.ownership);
        if (!q && role == EndpointRole::Receiver &&
            q.error().code() == std::errc::permission_denied && !is_untrusted_owner(q.error())) {
            q = PosixMq::open(u.name, Access::ReadOnly, o.ownership);
        }
        return q;
    };
    const bool create = o.create || u.create.create;
    const Permissions perms = o.mode.value_or(u.create.mode.value_or(Permissions(0600)));
    const bool limits_given = u.max_messages || u.max_message_size;
    Result<PosixMq> q = Error(std::errc::invalid_argument, "mq_open", u.name.str());
    if (create && limits_given) {
        PosixMq::Limits limits;
        limits.max_messages = u.max_messages.value_or(limits.max_messages);
        limits.max_message_size = u.max_message_size.value_or(limits.max_message_size);
        q = PosixMq::open_or_create(u.name, limits, perms, access, o.ownership);
    } else {
        q = open_existing();
        if (!q && create && q.error().code() == std::errc::no_such_file_or_directory) {
            q = PosixMq::create(u.name, {}, perms, access);
            if (!q && q.error().code() == std::errc::file_exists) {
                q = open_existing();  // lost a creation race: use the winner's queue
            }
        }
    }
    if (!q) {
        return std::move(q).error();
    }
    return std::unique_ptr<Endpoint::Impl>(std::make_unique<MqImpl>(std::move(*q), u.priority));
}

// ---------------------------------------------------------------- System V message queue
class SysvMqImpl final : public Endpoint::Impl {
public:
    SysvMqImpl(SysvMsgQueue q, int id, std::optional<long> type)
        : q_(q), id_(id), type_(type) {}  // a SysvMsgQueue is a plain id
    Result<void> send(std::span<const std::byte> message, const SendOptions& o) override {
        IPCKIT_ENDPOINT_TRY_ASSIGN(type,
                                   validate_sysv_send_type(o.type.value_or(type_.value_or(1))));
        auto sent = q_.send_until(type, message, o.deadline);
        if (!sent) {
            // msgsnd says EINVAL for a message over msgmax: it is a size problem, not bad input.
            if (sent.error().code() == std::errc::invalid_argument &&
                sent.error().detail().find("msgmax") != std::string::npos) {
                return Error(std::errc::message_size,
                             "msgsnd",
                             sent.error().object(),
                             sent.error().detail());
            }
            return std::move(sent).error();
        }
        if (!*sent) {
            return Error(std::errc::timed_out, "msgsnd", name, "the queue stayed full");
        }
        return {};
    }
    Result<std::optional<EndpointMessage>> receive(Deadline deadline) override {
        auto m = q_.receive_until(type_.value_or(0), deadline);
        if (!m) {
            return std::move(m).error();
        }
        if (!*m) {
            return std::optional<EndpointMessage>();
        }
        EndpointMessage out;
        out.data = std::move((*m)->data);
        out.type = (*m)->type;
        return std::optional<EndpointMessage>(std::move(out));
    }
    [[nodiscard]] std::size_t max_message_size() const noexcept override {
        auto st = q_.stat();
        return st ? st->max_bytes : 0;
    }
    [[nodiscard]] int sysv_id() const noexcept override { return id_; }

private:
    SysvMsgQueue q_;
    int id_;
    std::optional<long> type_;
};

Result<std::unique_ptr<Endpoint::Impl>> open_sysvmq(const SysvMqUri& u,
                                                    EndpointRole role,
                                                    const EndpointOptions& o) {
    if (role == EndpointRole::Sender && u.type) {
        IPCKIT_TRY(validate_sysv_send_type(*u.type));
    }
    const bool create = o.create || u.create.create;
    const Permissions perms = o.mode.value_or(u.create.mode.value_or(Permissions(0600)));
    Result<SysvMsgQueue> q = Error(std::errc::invalid_argument, "msgget", u.address.to_string());
    if (u.address.kind == SysvAddress::Kind::Id) {
        q = SysvMsgQueue::from_id(u.address.id, o.ownership);
    } else {
        IPCKIT_ENDPOINT_TRY_ASSIGN(key, u.address.resolve_key());
        if (key == SysvKey::private_key()) {
            if (!create) {
                return Error(std::errc::invalid_argument,
                             "msgget",
                             "private",
                             "sysvmq:private makes a new queue: add ?create (or --create)");
            }
            q = SysvMsgQueue::create(key, perms);
        } else {
            q = create ? SysvMsgQueue::open_or_create(key, perms, o.ownership)
                       : SysvMsgQueue::open(key, o.ownership);
        }
    }
    if (!q) {
        return std::move(q).error();
    }
    const int id = q->id();
    return std::unique_ptr<Endpoint::Impl>(std::make_unique<SysvMqImpl>(*q, id, u.type));
}

// ---------------------------------------------------------------- byte streams
/// Reads messages from a stream descriptor: frames, or raw lines.
class StreamReader {
public:
    StreamReader(int fd, bool raw, std::string object)
        : fd_(fd), raw_(raw), object_(object), frames_(fd, kStreamMaxMessage, std::move(object)) {}
    /// Empty optional: deadline passed. Ok(nullopt inside) handled by `eof`.
    Result<std::optional<std::vector<std::byte>>> read(Deadline deadline, bool& eof) {
        eof = false;
        if (!raw_) {
            auto f = frames_.read(deadline);
            if (!f) {
                if (f.error().code() == std::errc::timed_out) {
                    return std::optional<std::vector<std::byte>>();
                }
                return std::move(f).error();
            }
            if (!*f) {
                eof = true;
                return std::optional<std::vector<std::byte>>();
            }
            return std::move(*f);
        }
        for (;;) {
            const auto nl = std::find(pending_.begin(), pending_.end(), std::byte{'\n'});
            if (nl != pending_.end()) {
                std::vector<std::byte> line(pending_.begin(), nl);
                pending_.erase(pending_.begin(), nl + 1);
                return std::optional<std::vector<std::byte>>(std::move(line));
            }
            if (pending_.size() > kStreamMaxMessage) {
                return Error(std::errc::message_size,
                             "read",
                             object_,
                             "a line longer than " + std::to_string(kStreamMaxMessage) + " bytes");
            }
            std::byte buf[65536];
            IPCKIT_ENDPOINT_TRY_ASSIGN(n, read_some(fd_, buf, deadline, object_));
            if (!n) {
                return std::optional<std::vector<std::byte>>();
            }
            if (*n == 0) {
                eof = true;
                if (!pending_.empty()) {  // a last line without '\n' is still a message
                    std::vector<std::byte> line = std::move(pending_);
                    pending_.clear();
                    eof = false;
                    return std::optional<std::vector<std::byte>>(std::move(line));
                }
                return std::optional<std::vector<std::byte>>();
            }
            pending_.insert(pending_.end(), buf, buf + *n);
        }
    }

private:
    int fd_;
    bool raw_;
    std::string object_;
    FrameReader frames_;
    std::vector<std::byte> pending_;
};

Result<void> write_message(int fd,
                           std::span<const std::byte> message,
                           bool raw,
                           FdKind kind,
                           Deadline deadline,
                           const std::string& object) {
    if (!raw) {
        return write_frame(fd, message, kind, deadline, object, kStreamMaxMessage);
    }
    if (std::find(message.begin(), message.end(), std::byte{'\n'}) != message.end()) {
        return Error(std::errc::invalid_argument,
                     "send",
                     object,
                     "a raw (line) message must not contain a newline");
    }
    std::vector<std::byte> line(message.begin(), message.end());
    line.push_back(std::byte{'\n'});
    return write_all(fd, line, kind, deadline, object);
}

class FifoImpl final : public Endpoint::Impl {
public:
    FifoImpl(UniqueFd fd, bool raw, bool receiver, std::string object)
        : fd_(std::move(fd))
        , raw_(raw)
        , receiver_(receiver)
        , reader_(fd_.get(), raw, std::move(object)) {}
    Result<void> send(std::span<const std::byte> message, const SendOptions& o) override {
        if (receiver_) {
            return wrong_role(name, "send");  // it would read its own message back
        }
        return write_message(fd_.get(), message, raw_, FdKind::Other, o.deadline, name);
    }
    Result<std::optional<EndpointMessage>> receive(Deadline deadline) override {
        bool eof = false;
        IPCKIT_ENDPOINT_TRY_ASSIGN(data, reader_.read(deadline, eof));
        if (!data) {
            return std::optional<EndpointMessage>();  // read-write open: never EOF
        }
        EndpointMessage m;
        m.data = std::move(*data);
        return std::optional<EndpointMessage>(std::move(m));
    }
    [[nodiscard]] std::size_t max_message_size() const noexcept override {
        return kStreamMaxMessage;
    }

private:
    UniqueFd fd_;
    bool raw_;
    bool receiver_;
    StreamReader reader_;
};

Result<std::unique_ptr<Endpoint::Impl>> open_fifo(const FifoUri& u,
                                                  EndpointRole role,
                                                  const EndpointOptions& o) {
    const bool create = o.create || u.create.create;
    const Permissions perms = o.mode.value_or(u.create.mode.value_or(Permissions(0600)));
    IPCKIT_ENDPOINT_TRY_ASSIGN(fifo,
                               create ? Fifo::open_or_create(u.path, perms, o.ownership)
                                      : Fifo::open(u.path, o.ownership));
    (void)fifo.release();  // a FIFO the endpoint creates persists, like a queue it creates
    const bool raw = o.raw.value_or(u.raw);
    const std::string object = "fifo:" + u.path;
    if (role == EndpointRole::Receiver) {
        // Read-write: the open never blocks for a writer and writers coming and going never look
        // like end of file; the deadline is enforced by poll on the non-blocking descriptor.
        IPCKIT_ENDPOINT_TRY_ASSIGN(reader, fifo.open_read_write(/*nonblocking_io=*/true));
        return std::unique_ptr<Endpoint::Impl>(
            std::make_unique<FifoImpl>(reader.release(), raw, true, object));
    }
    IPCKIT_ENDPOINT_TRY_ASSIGN(writer, fifo.open_writer_until(o.deadline));
    if (!writer) {
        return Error(std::errc::timed_out, "open", object, "no reader opened the FIFO");
    }
    return std::unique_ptr<Endpoint::Impl>(
        std::make_unique<FifoImpl>(writer->release(), raw, false, object));
}

// ---------------------------------------------------------------- sockets
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
                IPCKIT_ENDPOINT_TRY_ASSIGN(accepted, accept_next(deadline));
                if (!accepted) {
                    return std::optional<EndpointMessage>();
                }
            }
            EndpointMessage m;
            bool eof = false;
            IPCKIT_ENDPOINT_TRY_ASSIGN(
                got, seqpacket_ ? read_record(deadline, m, eof) : read_frame(deadline, m, eof));
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
                return Error(
                    std::errc::connection_aborted, "receive", name, "the peer closed the connection");
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
        IPCKIT_ENDPOINT_TRY_ASSIGN(c, listener_->accept(deadline));
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
        // SO_PASSCRED: every record, even an empty one, carries SCM_CREDENTIALS; end of
        // stream carries none. That is how a zero-length record is told from EOF.
        IPCKIT_ENDPOINT_TRY_ASSIGN(size, conn_->next_message_size(deadline));
        if (!size) {
            return false;
        }
        m.data.resize(std::max<std::size_t>(*size, 1));
        IPCKIT_ENDPOINT_TRY_ASSIGN(r, conn_->receive_with_fds(m.data, 0, deadline));
        if (!r) {
            return false;
        }
        m.data.resize(r->size);
        eof = r->size == 0 && !r->credentials;
        if (r->credentials) {
            m.credentials = r->credentials;
        }
        return true;
    }
    /// One framed message of a byte stream into `m` (or `eof`): false when none came in time.
    Result<bool> read_frame(Deadline deadline, EndpointMessage& m, bool& eof) {
        IPCKIT_ENDPOINT_TRY_ASSIGN(data, reader_->read(deadline, eof));
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
        IPCKIT_ENDPOINT_TRY_ASSIGN(size, s_.next_message_size(deadline));
        if (!size) {
            return std::optional<EndpointMessage>();
        }
        EndpointMessage m;
        m.data.resize(std::max<std::size_t>(*size, 1));
        if (unix_) {
            IPCKIT_ENDPOINT_TRY_ASSIGN(r, s_.receive_with_fds(m.data, 0, deadline));
            if (!r) {
                return std::optional<EndpointMessage>();
            }
            m.data.resize(r->size);
            m.credentials = r->credentials;
        } else {
            IPCKIT_ENDPOINT_TRY_ASSIGN(r, s_.receive_from(m.data, deadline));
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

Result<std::unique_ptr<Endpoint::Impl>> open_dgram(const SocketAddress& addr, EndpointRole role,
                                                   bool is_unix) {
    if (role == EndpointRole::Receiver) {
        IPCKIT_ENDPOINT_TRY_ASSIGN(s, Socket::bind(addr, SocketType::Datagram));
        if (is_unix) {
            IPCKIT_TRY(s.set_pass_credentials(true));
        }
        return std::unique_ptr<Endpoint::Impl>(
            std::make_unique<DgramImpl>(std::move(s), std::nullopt, is_unix));
    }
    IPCKIT_ENDPOINT_TRY_ASSIGN(s, Socket::open(addr.family(), SocketType::Datagram));
    if (is_unix) {
        // Attach our credentials ourselves: a receiver that turned on SO_PASSCRED only
        // after binding would otherwise see "no credentials" (uid 65534) for early messages.
        IPCKIT_TRY(s.set_pass_credentials(true));
    }
    return std::unique_ptr<Endpoint::Impl>(std::make_unique<DgramImpl>(std::move(s), addr, is_unix));
}

Result<std::unique_ptr<Endpoint::Impl>> open_stream(const SocketAddress& addr, EndpointRole role,
                                                    bool raw, bool seqpacket,
                                                    const EndpointOptions& o) {
    const SocketType type = seqpacket ? SocketType::SeqPacket : SocketType::Stream;
    if (role == EndpointRole::Receiver) {
        IPCKIT_ENDPOINT_TRY_ASSIGN(l, Listener::bind(addr, type));
        if (seqpacket) {
            // Accepted sockets inherit SO_PASSCRED from the listener, so no record of a new
            // connection can slip in before it is on (see the seqpacket EOF rule above).
            const int on = 1;
            IPCKIT_TRY(sys::call("setsockopt SO_PASSCRED", l.name(), [&] {
                return ::setsockopt(l.native_handle(), SOL_SOCKET, SO_PASSCRED, &on, sizeof on);
            }));
        }
        return std::unique_ptr<Endpoint::Impl>(
            std::make_unique<ConnImpl>(std::move(l), std::nullopt, raw, seqpacket));
    }
    IPCKIT_ENDPOINT_TRY_ASSIGN(c, Socket::connect(addr, type, o.deadline));
    if (seqpacket) {
        IPCKIT_TRY(c.set_pass_credentials(true));  // every record carries credentials
    }
    return std::unique_ptr<Endpoint::Impl>(
        std::make_unique<ConnImpl>(std::nullopt, std::move(c), raw, seqpacket));
}

Result<std::unique_ptr<Endpoint::Impl>> open_socket(const Uri& uri,
                                                    EndpointRole role,
                                                    const EndpointOptions& o) {
    IPCKIT_ENDPOINT_TRY_ASSIGN(addr, socket_address(uri));
    const auto* un = uri.get_if<UnixUri>();
    const auto* in = uri.get_if<InetUri>();
    const bool is_unix = un != nullptr;
    const bool raw = o.raw.value_or(is_unix ? un->raw : in->raw);
    const bool dgram = is_unix ? un->type == UnixUri::Type::Datagram
                               : in->protocol == InetUri::Protocol::Udp;
    const bool seqpacket = is_unix && un->type == UnixUri::Type::Seqpacket;
    if (dgram) {
        return open_dgram(addr, role, is_unix);
    }
    return open_stream(addr, role, raw, seqpacket, o);
}

// ---------------------------------------------------------------- zero-copy channel
// A publisher or a subscriber with the copying API. A channel has pub/sub semantics: a subscriber
// starts at the head, so it only sees messages published after it joined.
class ChanImpl final : public Endpoint::Impl {
public:
    explicit ChanImpl(Publisher p) : pub_(std::move(p)) {}
    // The buffer starts small and grows to the largest message actually received: max_message_size
    // comes from the channel file and may be huge (nothing is allocated from it).
    explicit ChanImpl(Subscriber s)
        : sub_(std::move(s)), buf_(std::min(sub_->max_message_size(), kInitialReceiveBuffer)) {}

    Result<void> send(std::span<const std::byte> message, const SendOptions& options) override {
        if (!pub_) {
            return wrong_role(name, "chan send");
        }
        if (message.size() > pub_->max_message_size()) {
            return Error(std::errc::message_size,
                         "chan send",
                         name,
                         "message of " + std::to_string(message.size()) +
                             " bytes > the channel's max_message_size " +
                             std::to_string(pub_->max_message_size()));
        }
        IPCKIT_ENDPOINT_TRY_ASSIGN(sent, pub_->send_until(message, options.deadline));
        if (!sent) {
            const pid_t by = pub_->blocked_by();
            return Error(std::errc::timed_out,
                         "chan send",
                         name,
                         by != 0 ? "no space: held back by subscriber pid " + std::to_string(by)
                                 : std::string("no space before the deadline"));
        }
        return {};
    }

    Result<std::optional<EndpointMessage>> receive(Deadline deadline) override {
        if (!sub_) {
            return wrong_role(name, "chan receive");
        }
        IPCKIT_ENDPOINT_TRY_ASSIGN(got, sub_->receive_until(buf_, deadline));  // grows buf_
        if (!got) {
            return std::optional<EndpointMessage>();
        }
        EndpointMessage m;
        const auto n = static_cast<std::ptrdiff_t>(got->size);
        m.data.assign(buf_.begin(), buf_.begin() + n);
        m.lost = got->lost_before;
        return std::optional<EndpointMessage>(std::move(m));
    }

    [[nodiscard]] std::size_t max_message_size() const noexcept override {
        return pub_ ? pub_->max_message_size() : sub_->max_message_size();
    }

private:
    static constexpr std::size_t kInitialReceiveBuffer = std::size_t{64} * 1024;
    std::optional<Publisher> pub_;
    std::optional<Subscriber> sub_;
    std::vector<std::byte> buf_;
};

/// Creation parameters from the URI: capacity is the lane size, msgsize the largest message.
/// A missing one is derived from the other (the lane must hold two largest messages).
ChannelConfig chan_config(const ChanUri& u, const ChannelOptions& copts, Permissions perms) {
    ChannelConfig c;
    c.options = copts;
    c.permissions = perms;
    c.policy = u.overwrite ? ChannelPolicy::Overwrite : ChannelPolicy::Block;
    constexpr std::size_t kRecordOverhead = 16;
    constexpr std::size_t kLargestLane = std::size_t{1} << 34;  // ChannelConfig::lane_bytes' cap
    if (u.max_message_size) {
        c.max_message_size = *u.max_message_size;
    } else if (u.capacity && *u.capacity / 2 > kRecordOverhead) {
        c.max_message_size = std::min(c.max_message_size, *u.capacity / 2 - kRecordOverhead);
    }
    if (u.capacity) {
        c.lane_bytes = *u.capacity;
    } else if (c.max_message_size <= kLargestLane / 2 - kRecordOverhead) {
        c.lane_bytes = std::max(c.lane_bytes, std::bit_ceil(2 * (c.max_message_size + kRecordOverhead)));
    }  // else: too large for any lane; Channel::create names the limit
    return c;
}

template <class Participant>
Result<Participant> open_participant(const ChanUri& u, const EndpointOptions& o) {
    ChannelOptions copts;
    copts.dir = u.dir.value_or(std::string());
    copts.ownership = o.ownership;
    auto p = Participant::open(u.name, copts);
    const bool create = o.create || u.create.create;
    if (!p && create && p.error().code() == std::errc::no_such_file_or_directory) {
        const Permissions perms = o.mode.value_or(u.create.mode.value_or(Permissions(0600)));
        p = Participant::create(u.name, chan_config(u, copts, perms));
        if (!p && p.error().code() == std::errc::file_exists) {
            p = Participant::open(u.name, copts);  // lost a creation race: join the winner's
        }
    }
    return p;
}

Result<std::unique_ptr<Endpoint::Impl>> open_chan(const ChanUri& u,
                                                  EndpointRole role,
                                                  const EndpointOptions& o) {
    if (role == EndpointRole::Sender) {
        IPCKIT_ENDPOINT_TRY_ASSIGN(p, open_participant<Publisher>(u, o));
        return std::unique_ptr<Endpoint::Impl>(std::make_unique<ChanImpl>(std::move(p)));
    }
    IPCKIT_ENDPOINT_TRY_ASSIGN(s, open_participant<Subscriber>(u, o));
    return std::unique_ptr<Endpoint::Impl>(std::make_unique<ChanImpl>(std::move(s)));
}

}  // namespace

Result<Endpoint> Endpoint::open(const Uri& uri, EndpointRole role, const EndpointOptions& options) {
    Result<std::unique_ptr<Impl>> impl = Error(std::errc::invalid_argument, "open", uri.text());
    switch (uri.scheme()) {
        case UriScheme::PosixMq:
            impl = open_mq(*uri.get_if<PosixMqUri>(), role, options);
            break;
        case UriScheme::SysvMq:
            impl = open_sysvmq(*uri.get_if<SysvMqUri>(), role, options);
            break;
        case UriScheme::Fifo:
            impl = open_fifo(*uri.get_if<FifoUri>(), role, options);
            break;
        case UriScheme::Unix:
        case UriScheme::UnixDgram:
        case UriScheme::UnixSeqpacket:
        case UriScheme::Tcp:
        case UriScheme::Udp:
            impl = open_socket(uri, role, options);
            break;
        case UriScheme::Chan:
            impl = open_chan(*uri.get_if<ChanUri>(), role, options);
            break;
        default:
            return Error(std::errc::invalid_argument,
                         "open",
                         uri.text(),
                         std::string(uri.scheme_name()) +
                             ": is not a message endpoint (use fifo, mq, sysvmq, unix, "
                             "unix-dgram, unix-seqpacket, tcp, udp or chan)");
    }
    if (!impl) {
        return std::move(impl).error();
    }
    (*impl)->name = uri.object_string();
    return Endpoint(std::move(*impl));
}

Endpoint::Endpoint(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
Endpoint::Endpoint(Endpoint&& other) noexcept = default;
Endpoint& Endpoint::operator=(Endpoint&& other) noexcept = default;
Endpoint::~Endpoint() = default;

Result<void> Endpoint::send(std::span<const std::byte> message, SendOptions options) {
    IPCKIT_ASSERT(impl_ != nullptr, "use of a moved-from Endpoint");
    return impl_->send(message, options);
}

Result<std::optional<EndpointMessage>> Endpoint::receive(Deadline deadline) {
    IPCKIT_ASSERT(impl_ != nullptr, "use of a moved-from Endpoint");
    return impl_->receive(deadline);
}

std::size_t Endpoint::max_message_size() const noexcept {
    return impl_->max_message_size();
}
const std::string& Endpoint::name() const noexcept {
    return impl_->name;
}
int Endpoint::sysv_id() const noexcept {
    return impl_->sysv_id();
}

}  // namespace ipckit
