// SPDX-License-Identifier: MIT
#include "ipckit/socket/socket.hpp"

#include "ipckit/core/io.hpp"
#include "socket/socket_internal.hpp"
#include "sys/syscall.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>  // NOLINT(modernize-deprecated-headers): POSIX nanosleep
#include <unistd.h>

#include <cerrno>
#include <cstring>

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77  // NOLINT: Linux 6.5 uapi value (asm-generic/socket.h); glibc 2.36 lacks it
#endif

namespace ipckit {

using detail::wait_ready;

namespace {

std::string progress(std::size_t done, std::size_t total) {
    return "sent " + std::to_string(done) + " of " + std::to_string(total) + " bytes";
}

// Adds what the user needs to know to the errors a peer causes.
Error explain_send_error(Error e) {
    if (e.code() == std::errc::connection_refused) {
        return e.with_detail(
            "the receiver is gone (nothing bound there, or an ICMP port unreachable from an "
            "earlier send)");
    }
    if (e.code() == std::errc::message_size) {
        return e.with_detail("the message is larger than the socket allows in one datagram");
    }
    if (e.code() == std::errc::broken_pipe) {
        return e.with_detail("the peer has closed the connection");
    }
    return e;
}

Error explain_receive_error(Error e) {
    if (e.code() == std::errc::connection_refused) {
        return e.with_detail("an earlier send was refused (ICMP port unreachable)");
    }
    return e;
}

Error truncated(const std::string& object, std::size_t got, std::size_t buffer) {
    const std::string size = got > buffer ? std::to_string(got) + " bytes"
                                          : "more than " + std::to_string(buffer) + " bytes";
    return {std::errc::message_size,
            "recvmsg",
            object,
            "datagram truncated: " + size + " did not fit the " + std::to_string(buffer) +
                "-byte buffer; the rest is lost"};
}

// Ancillary-data space for `max_fds` descriptors plus one set of credentials.
std::size_t control_space(std::size_t max_fds) {
    return CMSG_SPACE(max_fds * sizeof(int)) + CMSG_SPACE(sizeof(ucred));
}

void sleep_briefly() {
    const timespec ms{0, 1'000'000};
    ::nanosleep(&ms, nullptr);
}

// Runs `attempt` (a non-blocking syscall: -1 and errno on failure) until it succeeds or fails
// for real; while it would block, waits in poll for `events` until the deadline. Returns the
// syscall's result, or an empty optional if the deadline passed.
template <class F>
Result<std::optional<ssize_t>> when_ready(int fd,
                                          short events,
                                          Deadline deadline,
                                          const std::string& object,
                                          const char* op,
                                          F&& attempt) {
    for (;;) {
        IPCKIT_TRY_ASSIGN(auto r, sys::call_maybe(op, object, {EAGAIN, EWOULDBLOCK}, attempt));
        if (r.has_value()) {
            return std::optional<ssize_t>(static_cast<ssize_t>(*r));
        }
        IPCKIT_TRY_ASSIGN(auto ready, wait_ready(fd, events, deadline, object));
        if (!ready) {
            return std::optional<ssize_t>();
        }
    }
}

// The detail for a failed connect(2).
std::string connect_detail(const Error& e, SocketType type) {
    if (e.code() == std::errc::connection_refused) {
        return "nobody is listening";
    }
    if (e.code() == std::errc::no_such_file_or_directory) {
        return "no socket file at this path";
    }
    if (e.code() == std::errc::wrong_protocol_type) {
        return std::string("the socket there is not a ") + detail::type_name(type) +
               " socket";
    }
    return {};
}

// Waits for an in-progress connect to finish and returns its outcome (SO_ERROR).
Result<void> finish_connect(int fd, Deadline deadline, const std::string& object, SocketType type) {
    IPCKIT_TRY_ASSIGN(auto ready, wait_ready(fd, POLLOUT, deadline, object));
    if (!ready) {
        return Error(std::errc::timed_out, "connect", object, "no connection within the deadline");
    }
    int so_error = 0;
    socklen_t len = sizeof so_error;
    IPCKIT_TRY(sys::call("getsockopt SO_ERROR", object, [&] {
        return ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len);
    }));
    if (so_error != 0) {
        Error e = Error::from_errno(so_error, "connect", object);
        const std::string detail = connect_detail(e, type);
        return detail.empty() ? e : e.with_detail(detail);
    }
    return {};
}

// Moves every descriptor and the credentials out of the control messages into `m`.
void collect_ancillary(msghdr& msg, ReceivedMessage& m) {
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_len < CMSG_LEN(0)) {
            continue;
        }
        const std::size_t payload = c->cmsg_len - CMSG_LEN(0);
        if (c->cmsg_type == SCM_RIGHTS) {
            const std::size_t count = payload / sizeof(int);
            for (std::size_t i = 0; i < count; ++i) {
                int fd = -1;
                std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
                m.fds.emplace_back(fd);
            }
        } else if (c->cmsg_type == SCM_CREDENTIALS && payload >= sizeof(ucred)) {
            ucred uc{};
            std::memcpy(&uc, CMSG_DATA(c), sizeof uc);
            m.credentials = Credentials{uc.pid, uc.uid, uc.gid};
        }
    }
}

}  // namespace

Result<Socket> Socket::connect(const SocketAddress& address, SocketType type, Deadline deadline) {
    const std::string object = address.to_string();
    IPCKIT_TRY_ASSIGN(auto fd, detail::make_socket(address.domain(), type, object));
    // Non-blocking: internet sockets answer EINPROGRESS and finish in the kernel (POLLOUT tells
    // when); a Unix listener with a full backlog answers EAGAIN, which poll cannot wait for.
    for (;;) {
        auto rc = sys::call_maybe("connect", object, {EINPROGRESS, EAGAIN, EALREADY}, [&] {
            return ::connect(fd.get(), address.native(), address.native_length());
        });
        if (!rc) {
            Error e = std::move(rc).error();
            const std::string detail = connect_detail(e, type);
            return detail.empty() ? e : e.with_detail(detail);
        }
        if (rc->has_value()) {
            break;
        }
        if (!address.is_unix()) {
            IPCKIT_TRY(finish_connect(fd.get(), deadline, object, type));
            break;
        }
        if (deadline.expired()) {
            return Error(std::errc::timed_out,
                         "connect",
                         object,
                         "the listener's backlog stayed full until the deadline");
        }
        sleep_briefly();
    }
    return Socket(std::move(fd), type, object);
}

Result<std::pair<Socket, Socket>> Socket::pair(SocketType type) {
    int sv[2] = {-1, -1};
    IPCKIT_TRY(sys::call("socketpair", "AF_UNIX", [&] {
        return ::socketpair(
            AF_UNIX, detail::native_type(type) | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv);
    }));
    UniqueFd first(sv[0]);
    UniqueFd second(sv[1]);
    if (type == SocketType::SeqPacket) {
        IPCKIT_TRY(detail::pass_credentials(first.get(), "socketpair"));
        IPCKIT_TRY(detail::pass_credentials(second.get(), "socketpair"));
    }
    return std::pair<Socket, Socket>(Socket(std::move(first), type, "socketpair"),
                                     Socket(std::move(second), type, "socketpair"));
}

Result<Socket> Socket::bind(const SocketAddress& address, SocketType type) {
    const std::string object = address.to_string();
    IPCKIT_TRY_ASSIGN(auto fd, detail::make_socket(address.domain(), type, object));
    IPCKIT_TRY_ASSIGN(auto lease, detail::bind_address(fd.get(), address, type, true));
    std::string name = object;
    if (address.is_unnamed() || address.port() == 0) {
        if (auto bound = detail::sock_name(fd.get(), object, false)) {
            name = bound->to_string();
        }
    }
    return Socket(std::move(fd), type, std::move(name), std::move(lease));
}

Result<Socket> Socket::open(AddressFamily family, SocketType type) {
    const int domain = family == AddressFamily::Unix   ? AF_UNIX
                       : family == AddressFamily::Ipv4 ? AF_INET
                                                       : AF_INET6;
    IPCKIT_TRY_ASSIGN(auto fd, detail::make_socket(domain, type, "socket"));
    return Socket(std::move(fd), type, "(unbound)");
}

Result<Socket> Socket::adopt(UniqueFd fd) {
    const std::string object = "fd " + std::to_string(fd.get());
    int so_type = 0;
    socklen_t len = sizeof so_type;
    IPCKIT_TRY(sys::call("getsockopt SO_TYPE", object, [&] {
        return ::getsockopt(fd.get(), SOL_SOCKET, SO_TYPE, &so_type, &len);
    }));
    SocketType type = SocketType::Stream;
    if (so_type == SOCK_DGRAM) {
        type = SocketType::Datagram;
    } else if (so_type == SOCK_SEQPACKET) {
        type = SocketType::SeqPacket;
        // From here on records carry credentials (see kEndOfConnection); one the peer sent
        // before this point carries none, so adopt a seqpacket socket before it is used.
        IPCKIT_TRY(detail::pass_credentials(fd.get(), object));
    } else if (so_type != SOCK_STREAM) {
        return Error(std::errc::protocol_not_supported,
                     "adopt",
                     object,
                     "socket type " + std::to_string(so_type));
    }
    IPCKIT_TRY_ASSIGN(
        auto fl, sys::call("fcntl F_GETFL", object, [&] { return ::fcntl(fd.get(), F_GETFL); }));
    IPCKIT_TRY(sys::call(
        "fcntl F_SETFL", object, [&] { return ::fcntl(fd.get(), F_SETFL, fl | O_NONBLOCK); }));
    IPCKIT_TRY(
        sys::call("fcntl F_SETFD", object, [&] { return ::fcntl(fd.get(), F_SETFD, FD_CLOEXEC); }));
    std::string name = object;
    if (auto peer = detail::sock_name(fd.get(), object, true); peer && !peer->is_unnamed()) {
        name = peer->to_string();
    } else if (auto self = detail::sock_name(fd.get(), object, false);
               self && !self->is_unnamed()) {
        name = self->to_string();
    }
    return Socket(std::move(fd), type, std::move(name));
}

Result<void> Socket::connect_to(const SocketAddress& peer) {
    const std::string object = peer.to_string();
    auto rc = sys::call("connect", object, [&] {
        return ::connect(fd_.get(), peer.native(), peer.native_length());
    });
    if (!rc) {
        if (rc.error().code() == std::errc::connection_refused) {
            return rc.error().with_detail("nothing is bound there");
        }
        return std::move(rc).error();
    }
    name_ = object;
    return {};
}

Result<std::optional<std::size_t>> Socket::send_message(std::span<const std::byte> bytes,
                                                        const SocketAddress* to,
                                                        std::span<const int> fds,
                                                        Deadline deadline,
                                                        const char* op) {
    const std::string object = to != nullptr ? to->to_string() : name_;
    std::vector<char> control;
    iovec iov{const_cast<std::byte*>(bytes.data()), bytes.size()};  // NOLINT: iovec is not const
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (to != nullptr) {
        msg.msg_name = const_cast<sockaddr*>(to->native());  // NOLINT: msghdr is not const
        msg.msg_namelen = to->native_length();
    }
    if (!fds.empty()) {
        control.assign(CMSG_SPACE(fds.size() * sizeof(int)), 0);
        msg.msg_control = control.data();
        msg.msg_controllen = control.size();
        cmsghdr* c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(fds.size() * sizeof(int));
        std::memcpy(CMSG_DATA(c), fds.data(), fds.size() * sizeof(int));
    }
    for (bool waited = false;; waited = true) {
        auto n = sys::call_maybe(op, object, {EAGAIN, EWOULDBLOCK, ENOBUFS}, [&] {
            return ::sendmsg(fd_.get(), &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
        });
        if (!n) {
            return explain_send_error(std::move(n).error());
        }
        if (n->has_value()) {
            return std::optional<std::size_t>(static_cast<std::size_t>(**n));
        }
        if (waited) {
            // An unconnected datagram socket polls writable while the *receiver's* queue is
            // full; back off instead of spinning.
            if (deadline.expired()) {
                return std::optional<std::size_t>();
            }
            sleep_briefly();
        }
        IPCKIT_TRY_ASSIGN(auto ready, wait_ready(fd_.get(), POLLOUT, deadline, object));
        if (!ready) {
            return std::optional<std::size_t>();
        }
    }
}

Result<void> Socket::send(std::span<const std::byte> bytes, Deadline deadline) {
    if (type_ == SocketType::Stream) {
        return write_all(fd_.get(), bytes, FdKind::Socket, deadline, name_);
    }
    IPCKIT_TRY_ASSIGN(auto n, send_message(bytes, nullptr, {}, deadline, "send"));
    if (!n.has_value()) {
        return Error(std::errc::timed_out, "send", name_, progress(0, bytes.size()));
    }
    return {};
}

Result<void> Socket::send_to(std::span<const std::byte> bytes,
                             const SocketAddress& to,
                             Deadline deadline) {
    IPCKIT_TRY_ASSIGN(auto n, send_message(bytes, &to, {}, deadline, "sendto"));
    if (!n.has_value()) {
        return Error(std::errc::timed_out, "sendto", to.to_string(), progress(0, bytes.size()));
    }
    return {};
}

Result<void> Socket::send_fds(std::span<const std::byte> bytes,
                              std::span<const int> fds,
                              Deadline deadline) {
    if (fds.size() > kMaxFdsPerMessage) {
        return Error(std::errc::argument_list_too_long,
                     "sendmsg",
                     name_,
                     "too many descriptors in one message: " + std::to_string(fds.size()) +
                         " > SCM_MAX_FD " + std::to_string(kMaxFdsPerMessage));
    }
    if (type_ == SocketType::Stream && bytes.empty()) {
        return Error(std::errc::invalid_argument,
                     "sendmsg",
                     name_,
                     "descriptors on a stream socket need at least one data byte to travel with");
    }
    IPCKIT_TRY_ASSIGN(auto n, send_message(bytes, nullptr, fds, deadline, "sendmsg"));
    if (!n.has_value()) {
        return Error(std::errc::timed_out, "sendmsg", name_, progress(0, bytes.size()));
    }
    if (*n < bytes.size()) {
        // Stream: the descriptors went with the first chunk; the rest is plain data.
        return write_all(fd_.get(), bytes.subspan(*n), FdKind::Socket, deadline, name_);
    }
    return {};
}

Result<std::optional<std::size_t>> Socket::receive(std::span<std::byte> buffer, Deadline deadline) {
    if (type_ == SocketType::Stream) {
        return read_some(fd_.get(), buffer, deadline, name_);
    }
    IPCKIT_TRY_ASSIGN(auto m, receive_with_fds(buffer, 0, deadline));
    if (!m.has_value()) {
        return std::optional<std::size_t>();
    }
    return std::optional<std::size_t>(m->size);
}

Result<std::optional<Datagram>> Socket::receive_from(std::span<std::byte> buffer,
                                                     Deadline deadline) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    auto* sa = reinterpret_cast<sockaddr*>(&ss);  // NOLINT: the sockaddr API
    auto n = when_ready(fd_.get(), POLLIN, deadline, name_, "recvfrom", [&] {
        len = sizeof ss;
        return ::recvfrom(
            fd_.get(), buffer.data(), buffer.size(), MSG_DONTWAIT | MSG_TRUNC, sa, &len);
    });
    if (!n) {
        return explain_receive_error(std::move(n).error());
    }
    if (!n->has_value()) {
        return std::optional<Datagram>();
    }
    Datagram d;
    d.size = static_cast<std::size_t>(**n);
    if (type_ != SocketType::Stream && d.size > buffer.size()) {
        return truncated(name_, d.size, buffer.size());
    }
    if (len >= sizeof(sa_family_t)) {
        if (auto from = SocketAddress::from_native(sa, len)) {
            d.from = *from;
        }
    }
    return std::optional<Datagram>(d);
}

Result<std::optional<std::size_t>> Socket::next_message_size(Deadline deadline) {
    std::byte probe{};
    auto n = when_ready(fd_.get(), POLLIN, deadline, name_, "recv", [&] {
        return ::recv(fd_.get(), &probe, 1, MSG_DONTWAIT | MSG_PEEK | MSG_TRUNC);
    });
    if (!n) {
        return explain_receive_error(std::move(n).error());
    }
    if (!n->has_value()) {
        return std::optional<std::size_t>();
    }
    return std::optional<std::size_t>(static_cast<std::size_t>(**n));
}

Result<std::optional<ReceivedMessage>> Socket::receive_with_fds(std::span<std::byte> buffer,
                                                                std::size_t max_fds,
                                                                Deadline deadline) {
    std::vector<char> control(control_space(max_fds), 0);
    iovec iov{buffer.data(), buffer.size()};
    msghdr msg{};
    // MSG_TRUNC on a message socket makes the kernel return the real length, so the error can
    // say how large the message was.
    const int flags =
        MSG_DONTWAIT | MSG_CMSG_CLOEXEC | (type_ == SocketType::Stream ? 0 : MSG_TRUNC);
    auto n = when_ready(fd_.get(), POLLIN, deadline, name_, "recvmsg", [&] {
        msg = msghdr{};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.data();
        msg.msg_controllen = control.size();
        return ::recvmsg(fd_.get(), &msg, flags);
    });
    if (!n) {
        return explain_receive_error(std::move(n).error());
    }
    if (!n->has_value()) {
        return std::optional<ReceivedMessage>();
    }
    // Take ownership of every descriptor that arrived before looking at anything else, so an
    // error below closes them all (A20: fd count before == after).
    ReceivedMessage m;
    m.size = static_cast<std::size_t>(**n);
    collect_ancillary(msg, m);
    if ((msg.msg_flags & MSG_CTRUNC) != 0) {
        const std::size_t got = m.fds.size();
        m.fds.clear();  // close what did arrive: a partial set is useless and would leak
        return Error(std::errc::message_size,
                     "recvmsg",
                     name_,
                     "ancillary data truncated: room for " + std::to_string(max_fds) +
                         " descriptors; the kernel dropped the rest and the " +
                         std::to_string(got) + " received were closed");
    }
    if (m.fds.size() > max_fds) {
        // CMSG_SPACE alignment (and the room kept for credentials) can let a few more in than
        // asked for; never hand out more than the caller said it can take.
        const std::size_t got = m.fds.size();
        m.fds.clear();
        return Error(std::errc::message_size,
                     "recvmsg",
                     name_,
                     "ancillary data truncated: the sender attached " + std::to_string(got) +
                         " descriptors, more than the " + std::to_string(max_fds) +
                         " asked for; all were closed");
    }
    if ((msg.msg_flags & MSG_TRUNC) != 0 || m.size > buffer.size()) {
        return truncated(name_, m.size, buffer.size());
    }
    if (type_ == SocketType::SeqPacket && m.size == 0 && !m.credentials) {
        // recvmsg returns 0 for an empty record and at the end alike; with SO_PASSCRED on (every
        // seqpacket socket ipckit makes) a record carries credentials and the end none.
        return Error(kEndOfConnection, "recvmsg", name_, "the peer closed the connection");
    }
    return std::optional<ReceivedMessage>(std::move(m));
}

Result<Credentials> Socket::peer_credentials() const {
    ucred uc{};
    socklen_t len = sizeof uc;
    IPCKIT_TRY(sys::call("getsockopt SO_PEERCRED", name_, [&] {
        return ::getsockopt(fd_.get(), SOL_SOCKET, SO_PEERCRED, &uc, &len);
    }));
    return Credentials{uc.pid, uc.uid, uc.gid};
}

Result<std::optional<UniqueFd>> Socket::peer_pidfd() const {
    int pidfd = -1;
    socklen_t len = sizeof pidfd;
    IPCKIT_TRY_ASSIGN(auto rc,
                      sys::call_maybe("getsockopt SO_PEERPIDFD", name_, {ENOPROTOOPT}, [&] {
                          return ::getsockopt(fd_.get(), SOL_SOCKET, SO_PEERPIDFD, &pidfd, &len);
                      }));
    if (!rc.has_value()) {
        return std::optional<UniqueFd>();  // kernel older than 6.5
    }
    return std::optional<UniqueFd>(UniqueFd(pidfd));  // the kernel creates it O_CLOEXEC
}

Result<void> Socket::set_pass_credentials(bool on) {
    if (!on && type_ == SocketType::SeqPacket) {
        return Error(std::errc::operation_not_supported,
                     "setsockopt SO_PASSCRED",
                     name_,
                     "a Unix seqpacket socket keeps credentials on: they tell an empty record "
                     "from the end of the connection");
    }
    const int v = on ? 1 : 0;
    IPCKIT_TRY(sys::call("setsockopt SO_PASSCRED", name_, [&] {
        return ::setsockopt(fd_.get(), SOL_SOCKET, SO_PASSCRED, &v, sizeof v);
    }));
    return {};
}

Result<void> Socket::set_no_delay(bool on) {
    const int v = on ? 1 : 0;
    IPCKIT_TRY(sys::call("setsockopt TCP_NODELAY", name_, [&] {
        return ::setsockopt(fd_.get(), IPPROTO_TCP, TCP_NODELAY, &v, sizeof v);
    }));
    return {};
}

Result<void> Socket::shutdown(ShutdownHow how) {
    const int h = how == ShutdownHow::Read    ? SHUT_RD
                  : how == ShutdownHow::Write ? SHUT_WR
                                              : SHUT_RDWR;
    IPCKIT_TRY(sys::call("shutdown", name_, [&] { return ::shutdown(fd_.get(), h); }));
    return {};
}

Result<void> Socket::close_gracefully(Deadline deadline) {
    IPCKIT_TRY(shutdown(ShutdownHow::Write));
    std::byte sink[4096];
    for (;;) {
        auto n = read_some(fd_.get(), sink, deadline, name_);
        if (!n) {
            fd_.reset();
            return std::move(n).error();
        }
        if (!n->has_value()) {
            fd_.reset();
            return Error(std::errc::timed_out,
                         "close",
                         name_,
                         "the peer did not close its side within the deadline");
        }
        if (**n == 0) {
            break;
        }
    }
    fd_.reset();
    return {};
}

Result<SocketAddress> Socket::local_address() const {
    return detail::sock_name(fd_.get(), name_, false);
}

Result<SocketAddress> Socket::peer_address() const {
    return detail::sock_name(fd_.get(), name_, true);
}

}  // namespace ipckit
