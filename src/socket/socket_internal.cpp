// SPDX-License-Identifier: MIT
#include "socket/socket_internal.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "sys/syscall.hpp"

namespace ipckit::socket_detail {

int native_type(SocketType type) noexcept {
    switch (type) {
        case SocketType::Stream:
            return SOCK_STREAM;
        case SocketType::Datagram:
            return SOCK_DGRAM;
        case SocketType::SeqPacket:
            return SOCK_SEQPACKET;
    }
    return SOCK_STREAM;
}

const char* type_name(SocketType type) noexcept {
    switch (type) {
        case SocketType::Stream:
            return "stream";
        case SocketType::Datagram:
            return "datagram";
        case SocketType::SeqPacket:
            return "seqpacket";
    }
    return "stream";
}

Result<UniqueFd> make_socket(int domain, SocketType type, std::string_view object) {
    auto fd = sys::call("socket", object, [&] {
        return ::socket(domain, native_type(type) | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    });
    if (!fd) {
        return std::move(fd).error();
    }
    return UniqueFd(*fd);
}

Result<bool> wait_ready(int fd, short events, Deadline deadline, std::string_view object) {
    for (;;) {
        pollfd p{fd, events, 0};
        const int rc = ::poll(&p, 1, deadline.to_poll_timeout_ms());
        if (rc > 0) {
            return true;
        }
        if (rc == 0) {
            if (deadline.expired()) {
                return false;
            }
            continue;  // poll's millisecond rounding woke us a hair early
        }
        if (errno != EINTR) {
            return sys::last_error("poll", object);
        }
    }
}

namespace {

enum class Probe { Stale, Live, Gone };

// Is anybody serving the socket file at `address`? A non-blocking connect of the same type:
// ECONNREFUSED means the file is a dead server's leftover.
Probe probe(const SocketAddress& address, SocketType type) {
    auto fd = make_socket(AF_UNIX, type, address.to_string());
    if (!fd) {
        return Probe::Live;  // cannot tell: keep the file
    }
    if (::connect(fd->get(), address.native(), address.native_length()) == 0) {
        return Probe::Live;
    }
    switch (errno) {
        case ECONNREFUSED:
            return Probe::Stale;
        case ENOENT:
            return Probe::Gone;
        default:
            return Probe::Live;  // EAGAIN (backlog full), EPROTOTYPE (other type), EACCES, ...
    }
}

}  // namespace

Result<SocketPathLease> bind_address(int fd,
                                     const SocketAddress& address,
                                     SocketType type,
                                     bool remove_stale_socket) {
    const std::string object = address.to_string();
    for (int attempt = 0;; ++attempt) {
        if (::bind(fd, address.native(), address.native_length()) == 0) {
            break;
        }
        const int err = errno;
        if (err != EADDRINUSE || !address.is_path() || attempt > 0) {
            std::string detail;
            if (err == EADDRINUSE && address.is_path()) {
                detail = "the socket file reappeared while binding (another server?)";
            } else if (err == EADDRINUSE) {
                detail = "another socket is bound to this address";
            }
            return Error::from_errno(err, "bind", object, detail);
        }
        // The path exists. Remove it only if it is a dead server's socket we own (D08).
        struct stat st {};
        if (::lstat(address.path().c_str(), &st) != 0) {
            continue;  // vanished meanwhile: just retry the bind
        }
        if (!S_ISSOCK(st.st_mode)) {
            return Error::from_errno(err, "bind", object,
                                     "the path exists and is not a socket; ipckit never removes it");
        }
        if (st.st_uid != ::geteuid()) {
            return Error::from_errno(err, "bind", object,
                                     "a socket file owned by uid " + std::to_string(st.st_uid) +
                                         " is in the way; ipckit removes only its own user's");
        }
        if (!remove_stale_socket) {
            return Error::from_errno(err, "bind", object,
                                     "a socket file is in the way (stale removal is off)");
        }
        switch (probe(address, type)) {
            case Probe::Live:
                return Error::from_errno(err, "bind", object, "a server is listening on it");
            case Probe::Gone:
                continue;
            case Probe::Stale:
                break;
        }
        // Re-check that the file we probed is the one we remove (narrows the race with a
        // server that starts meanwhile).
        struct stat again {};
        if (::lstat(address.path().c_str(), &again) == 0 && again.st_ino == st.st_ino &&
            again.st_dev == st.st_dev) {
            ::unlink(address.path().c_str());
        }
    }
    if (address.is_path()) {
        return SocketPathLease::adopt_bound(address.path());
    }
    return SocketPathLease();
}

Result<SocketAddress> sock_name(int fd, std::string_view object, bool peer) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    auto* sa = reinterpret_cast<sockaddr*>(&ss);  // NOLINT: the sockaddr API
    auto rc = sys::call(peer ? "getpeername" : "getsockname", object,
                        [&] { return peer ? ::getpeername(fd, sa, &len) : ::getsockname(fd, sa, &len); });
    if (!rc) {
        return std::move(rc).error();
    }
    return SocketAddress::from_native(sa, len);
}

}  // namespace ipckit::socket_detail
