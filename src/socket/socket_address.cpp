// SPDX-License-Identifier: MIT
#include "ipckit/socket/socket_address.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <cstring>

namespace ipckit {

static_assert(sizeof(sockaddr_un::sun_path) == SocketAddress::kMaxUnixPathLength + 1,
              "kMaxUnixPathLength must match sun_path");

namespace {

// offsetof(sockaddr_un, sun_path): the address length of an unnamed socket.
constexpr socklen_t kUnixHeader = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path));

template <class T>
T* as(sockaddr_storage& s) noexcept {
    return reinterpret_cast<T*>(&s);  // NOLINT: sockaddr_storage is sized and aligned for all
}
template <class T>
const T* as(const sockaddr_storage& s) noexcept {
    return reinterpret_cast<const T*>(&s);  // NOLINT: as above
}

}  // namespace

Result<SocketAddress> SocketAddress::unix_domain(std::string_view path_or_at_name) {
    if (!path_or_at_name.empty() && path_or_at_name.front() == '@') {
        return unix_abstract(path_or_at_name.substr(1));
    }
    const std::string object(path_or_at_name);
    if (path_or_at_name.empty()) {
        return Error(std::errc::invalid_argument,
                     "socket address",
                     object,
                     "a Unix socket path must not be empty");
    }
    if (path_or_at_name.find('\0') != std::string_view::npos) {
        return Error(std::errc::invalid_argument,
                     "socket address",
                     object,
                     "a Unix socket path must not contain NUL bytes");
    }
    if (path_or_at_name.size() > kMaxUnixPathLength) {
        return Error(std::errc::filename_too_long,
                     "socket address",
                     object,
                     "socket path is " + std::to_string(path_or_at_name.size()) +
                         " bytes; sun_path holds at most " + std::to_string(kMaxUnixPathLength) +
                         " (use a shorter path, chdir to its directory, or an @abstract name)");
    }
    SocketAddress a;
    auto* un = as<sockaddr_un>(a.storage_);
    un->sun_family = AF_UNIX;
    // storage_ is zeroed, so the path stays NUL-terminated.
    std::memcpy(un->sun_path, path_or_at_name.data(), path_or_at_name.size());
    a.length_ = kUnixHeader + static_cast<socklen_t>(path_or_at_name.size()) + 1;
    a.family_ = AddressFamily::Unix;
    return a;
}

Result<SocketAddress> SocketAddress::unix_abstract(std::string_view name) {
    const std::string object = "@" + std::string(name);
    if (name.empty()) {
        return Error(std::errc::invalid_argument,
                     "socket address",
                     object,
                     "an abstract socket name must not be empty (\"@\" alone names nothing)");
    }
    if (name.size() > kMaxAbstractNameLength) {
        return Error(std::errc::filename_too_long,
                     "socket address",
                     object,
                     "abstract name is " + std::to_string(name.size()) +
                         " bytes; sun_path holds at most " +
                         std::to_string(kMaxAbstractNameLength) + " after the leading NUL");
    }
    SocketAddress a;
    auto* un = as<sockaddr_un>(a.storage_);
    un->sun_family = AF_UNIX;
    un->sun_path[0] = '\0';
    std::memcpy(un->sun_path + 1, name.data(), name.size());
    // The length, not a terminator, ends an abstract name: NULs inside it are significant.
    a.length_ = kUnixHeader + 1 + static_cast<socklen_t>(name.size());
    a.family_ = AddressFamily::Unix;
    return a;
}

SocketAddress SocketAddress::unix_autobind() noexcept {
    SocketAddress a;
    as<sockaddr_un>(a.storage_)->sun_family = AF_UNIX;
    a.length_ = sizeof(sa_family_t);  // exactly the family: the kernel picks a name (unix(7))
    a.family_ = AddressFamily::Unix;
    return a;
}

Result<SocketAddress> SocketAddress::ipv4(std::string_view host, std::uint16_t port) {
    const std::string h(host);
    SocketAddress a;
    auto* in = as<sockaddr_in>(a.storage_);
    in->sin_family = AF_INET;
    in->sin_port = htons(port);
    if (::inet_pton(AF_INET, h.c_str(), &in->sin_addr) != 1) {
        return Error(std::errc::invalid_argument,
                     "socket address",
                     h,
                     "not a numeric IPv4 address (names are not resolved)");
    }
    a.length_ = sizeof(sockaddr_in);
    a.family_ = AddressFamily::Ipv4;
    return a;
}

Result<SocketAddress> SocketAddress::ipv6(std::string_view host, std::uint16_t port) {
    const std::string h(host);
    SocketAddress a;
    auto* in6 = as<sockaddr_in6>(a.storage_);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    if (::inet_pton(AF_INET6, h.c_str(), &in6->sin6_addr) != 1) {
        return Error(std::errc::invalid_argument,
                     "socket address",
                     h,
                     "not a numeric IPv6 address (names are not resolved)");
    }
    a.length_ = sizeof(sockaddr_in6);
    a.family_ = AddressFamily::Ipv6;
    return a;
}

SocketAddress SocketAddress::loopback_v4(std::uint16_t port) noexcept {
    SocketAddress a;
    auto* in = as<sockaddr_in>(a.storage_);
    in->sin_family = AF_INET;
    in->sin_port = htons(port);
    in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.length_ = sizeof(sockaddr_in);
    a.family_ = AddressFamily::Ipv4;
    return a;
}

SocketAddress SocketAddress::loopback_v6(std::uint16_t port) noexcept {
    SocketAddress a;
    auto* in6 = as<sockaddr_in6>(a.storage_);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    in6->sin6_addr = in6addr_loopback;
    a.length_ = sizeof(sockaddr_in6);
    a.family_ = AddressFamily::Ipv6;
    return a;
}

Result<SocketAddress> SocketAddress::from_native(const sockaddr* addr, socklen_t length) {
    if (length > sizeof(sockaddr_storage) || length < sizeof(sa_family_t)) {
        return Error(std::errc::invalid_argument,
                     "socket address",
                     {},
                     "address length " + std::to_string(length) + " out of range");
    }
    SocketAddress a;
    std::memcpy(&a.storage_, addr, length);
    a.length_ = length;
    switch (addr->sa_family) {
        case AF_UNIX:
            a.family_ = AddressFamily::Unix;
            break;
        case AF_INET:
            a.family_ = AddressFamily::Ipv4;
            break;
        case AF_INET6:
            a.family_ = AddressFamily::Ipv6;
            break;
        default:
            return Error(std::errc::address_family_not_supported,
                         "socket address",
                         {},
                         "family " + std::to_string(addr->sa_family));
    }
    return a;
}

bool SocketAddress::is_abstract() const noexcept {
    return family_ == AddressFamily::Unix && length_ > kUnixHeader &&
           as<sockaddr_un>(storage_)->sun_path[0] == '\0';
}

bool SocketAddress::is_path() const noexcept {
    return family_ == AddressFamily::Unix && length_ > kUnixHeader &&
           as<sockaddr_un>(storage_)->sun_path[0] != '\0';
}

bool SocketAddress::is_unnamed() const noexcept {
    return family_ == AddressFamily::Unix && length_ <= kUnixHeader;
}

std::string SocketAddress::path() const {
    if (!is_path()) {
        return {};
    }
    const auto* un = as<sockaddr_un>(storage_);
    const std::size_t max = length_ - kUnixHeader;
    return {un->sun_path, ::strnlen(un->sun_path, max)};
}

std::uint16_t SocketAddress::port() const noexcept {
    switch (family_) {
        case AddressFamily::Ipv4:
            return ntohs(as<sockaddr_in>(storage_)->sin_port);
        case AddressFamily::Ipv6:
            return ntohs(as<sockaddr_in6>(storage_)->sin6_port);
        case AddressFamily::Unix:
            break;
    }
    return 0;
}

int SocketAddress::domain() const noexcept {
    switch (family_) {
        case AddressFamily::Ipv4:
            return AF_INET;
        case AddressFamily::Ipv6:
            return AF_INET6;
        case AddressFamily::Unix:
            break;
    }
    return AF_UNIX;
}

std::string SocketAddress::to_string() const {
    switch (family_) {
        case AddressFamily::Ipv4: {
            char buf[INET_ADDRSTRLEN] = {};
            ::inet_ntop(AF_INET, &as<sockaddr_in>(storage_)->sin_addr, buf, sizeof buf);
            return std::string(buf) + ":" + std::to_string(port());
        }
        case AddressFamily::Ipv6: {
            char buf[INET6_ADDRSTRLEN] = {};
            ::inet_ntop(AF_INET6, &as<sockaddr_in6>(storage_)->sin6_addr, buf, sizeof buf);
            return "[" + std::string(buf) + "]:" + std::to_string(port());
        }
        case AddressFamily::Unix:
            break;
    }
    if (is_unnamed()) {
        return "(unnamed)";
    }
    if (is_path()) {
        return path();
    }
    const auto* un = as<sockaddr_un>(storage_);
    std::string name(un->sun_path + 1, length_ - kUnixHeader - 1);
    for (char& c : name) {
        if (c == '\0') {
            c = '@';  // the convention ss(8) and /proc/net/unix use for embedded NULs
        }
    }
    return "@" + name;
}

bool operator==(const SocketAddress& a, const SocketAddress& b) noexcept {
    return a.length_ == b.length_ && std::memcmp(&a.storage_, &b.storage_, a.length_) == 0;
}

}  // namespace ipckit
