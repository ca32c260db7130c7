// SPDX-License-Identifier: MIT
#include "socket/socket_internal.hpp"

#include "sys/syscall.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace ipckit::detail {

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
    IPCKIT_TRY_ASSIGN(const int fd, sys::call("socket", object, [&] {
                          return ::socket(domain, native_type(type) | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
                      }));
    UniqueFd owned(fd);
    if (domain == AF_UNIX && type == SocketType::SeqPacket) {
        IPCKIT_TRY(pass_credentials(owned.get(), object));
    }
    return owned;
}

Result<void> pass_credentials(int fd, std::string_view object) {
    const int on = 1;
    IPCKIT_TRY(sys::call("setsockopt SO_PASSCRED", object, [&] {
        return ::setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &on, sizeof on);
    }));
    return {};
}

Result<bool> wait_ready(int fd, short events, Deadline deadline, std::string_view object) {
    for (;;) {
        pollfd p{fd, events, 0};
        // call_once: on EINTR, loop here so the timeout is recomputed from the deadline.
        auto rc = sys::call_once(
            "poll", object, [&] { return ::poll(&p, 1, deadline.to_poll_timeout_ms()); });
        if (!rc) {
            if (rc.error().code() == std::errc::interrupted) {
                continue;
            }
            return std::move(rc).error();
        }
        if (*rc > 0) {
            return true;
        }
        if (deadline.expired()) {
            return false;
        }
        // poll's millisecond rounding woke us a hair early: wait for the rest.
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
    auto rc = sys::call("connect", address.to_string(), [&] {
        return ::connect(fd->get(), address.native(), address.native_length());
    });
    if (rc) {
        return Probe::Live;
    }
    if (rc.error().code() == std::errc::connection_refused) {
        return Probe::Stale;
    }
    if (rc.error().code() == std::errc::no_such_file_or_directory) {
        return Probe::Gone;
    }
    return Probe::Live;  // EAGAIN (backlog full), EPROTOTYPE (other type), EACCES, ...: keep it
}

// Decides about an existing path that made bind fail with EADDRINUSE: an Error says why it is
// kept; success means it is gone (removed as stale, or vanished meanwhile) and bind may retry.
Result<void> clear_stale_path(const Error& in_use,
                              const SocketAddress& address,
                              SocketType type,
                              bool remove_stale_socket) {
    const std::string path = address.path();
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
        return {};  // vanished meanwhile: just retry the bind
    }
    if (!S_ISSOCK(st.st_mode)) {
        return in_use.with_detail("the path exists and is not a socket; ipckit never removes it");
    }
    if (st.st_uid != ::geteuid()) {
        return in_use.with_detail("a socket file owned by uid " + std::to_string(st.st_uid) +
                                  " is in the way; ipckit removes only its own user's");
    }
    if (!remove_stale_socket) {
        return in_use.with_detail("a socket file is in the way (stale removal is off)");
    }
    switch (probe(address, type)) {
        case Probe::Live:
            return in_use.with_detail("a server is listening on it");
        case Probe::Gone:
            return {};
        case Probe::Stale:
            break;
    }
    // Remove only the very file we probed (narrows the race with a server starting meanwhile).
    struct stat again {};
    if (::lstat(path.c_str(), &again) == 0 && again.st_ino == st.st_ino &&
        again.st_dev == st.st_dev) {
        ::unlink(path.c_str());
    }
    return {};
}

}  // namespace

Result<SocketPathLease> bind_address(int fd,
                                     const SocketAddress& address,
                                     SocketType type,
                                     bool remove_stale_socket) {
    const std::string object = address.to_string();
    for (int attempt = 0;; ++attempt) {
        auto rc = sys::call(
            "bind", object, [&] { return ::bind(fd, address.native(), address.native_length()); });
        if (rc) {
            break;
        }
        const Error& e = rc.error();
        if (e.code() != std::errc::address_in_use) {
            return e;
        }
        if (!address.is_path()) {
            return e.with_detail("another socket is bound to this address");
        }
        if (attempt > 0) {
            return e.with_detail("the socket file reappeared while binding (another server?)");
        }
        IPCKIT_TRY(clear_stale_path(e, address, type, remove_stale_socket));
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
    IPCKIT_TRY(sys::call(peer ? "getpeername" : "getsockname", object, [&] {
        return peer ? ::getpeername(fd, sa, &len) : ::getsockname(fd, sa, &len);
    }));
    return SocketAddress::from_native(sa, len);
}

}  // namespace ipckit::detail
