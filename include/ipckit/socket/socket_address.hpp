// SPDX-License-Identifier: MIT
// SocketAddress: a validated socket address for AF_UNIX (paths and Linux abstract names), AF_INET
// and AF_INET6 (unix(7), ip(7), ipv6(7)).
#pragma once

#include "ipckit/core/result.hpp"
#include "ipckit/export.hpp"

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace ipckit {

/// The address families ipckit speaks.
enum class AddressFamily { Unix, Ipv4, Ipv6 };

/// A socket address, validated before any system call. Unix addresses are either a filesystem
/// path ("/run/app.sock", at most kMaxUnixPathLength bytes) or a Linux abstract name written
/// "@name" (no file, no permissions: F22; an empty abstract name is refused). Internet addresses
/// are numeric (no DNS: a name lookup could block past any deadline).
///
/// A value type: copyable, no kernel resources.
///
/// @code
///   auto a = SocketAddress::unix_domain("/tmp/app.sock");        // or "@app" for an abstract name
///   auto t = SocketAddress::ipv4("127.0.0.1", 0);          // port 0: pick an ephemeral port
/// @endcode
class IPCKIT_API SocketAddress {
public:
    /// sizeof(sockaddr_un::sun_path) minus the terminating NUL: 107 on Linux.
    static constexpr std::size_t kMaxUnixPathLength = 107;
    /// Abstract names use every byte of sun_path after the leading NUL: 107.
    static constexpr std::size_t kMaxAbstractNameLength = 107;

    /// "@name" -> abstract name, anything else -> filesystem path. Errors:
    /// errc::filename_too_long naming the length and the limit; errc::invalid_argument for an
    /// empty path, an empty abstract name ("@") or an embedded NUL.
    ///
    /// (Not called `unix`: GNU dialects predefine `unix` as a macro.)
    static Result<SocketAddress> unix_domain(std::string_view path_or_at_name);
    /// The abstract name `name` (without the '@').
    static Result<SocketAddress> unix_abstract(std::string_view name);
    /// Asks the kernel for a unique abstract name at bind time (unix(7) "autobind"): lets an
    /// otherwise anonymous datagram client receive replies.
    static SocketAddress unix_autobind() noexcept;
    /// A numeric IPv4 address ("127.0.0.1") and port (0 = ephemeral).
    static Result<SocketAddress> ipv4(std::string_view host, std::uint16_t port);
    /// A numeric IPv6 address ("::1") and port (0 = ephemeral).
    static Result<SocketAddress> ipv6(std::string_view host, std::uint16_t port);
    /// 127.0.0.1:port and [::1]:port.
    static SocketAddress loopback_v4(std::uint16_t port) noexcept;
    static SocketAddress loopback_v6(std::uint16_t port) noexcept;
    /// Wraps an address the kernel returned (accept, recvfrom, getsockname). Unknown families
    /// and lengths that do not fit are errc::address_family_not_supported / invalid_argument.
    static Result<SocketAddress> from_native(const sockaddr* addr, socklen_t length);

    [[nodiscard]] AddressFamily family() const noexcept { return family_; }
    [[nodiscard]] bool is_unix() const noexcept { return family_ == AddressFamily::Unix; }
    /// True for "@name" (and for kernel-assigned autobind names once read back).
    [[nodiscard]] bool is_abstract() const noexcept;
    /// True for a filesystem path socket.
    [[nodiscard]] bool is_path() const noexcept;
    /// True for an unnamed Unix socket (socketpair ends, unbound clients).
    [[nodiscard]] bool is_unnamed() const noexcept;
    /// The filesystem path (empty unless is_path()).
    [[nodiscard]] std::string path() const;
    /// The port of an internet address (0 for Unix addresses).
    [[nodiscard]] std::uint16_t port() const noexcept;

    /// "/tmp/app.sock", "@app", "(unnamed)", "127.0.0.1:5000", "[::1]:5000".
    [[nodiscard]] std::string to_string() const;

    [[nodiscard]] const sockaddr* native() const noexcept {
        return reinterpret_cast<const sockaddr*>(&storage_);  // NOLINT: the sockaddr API
    }
    [[nodiscard]] socklen_t native_length() const noexcept { return length_; }
    /// The socket(2) domain: AF_UNIX, AF_INET or AF_INET6.
    [[nodiscard]] int domain() const noexcept;

    friend IPCKIT_API bool operator==(const SocketAddress& a, const SocketAddress& b) noexcept;

private:
    SocketAddress() noexcept = default;
    sockaddr_storage storage_{};
    socklen_t length_ = 0;
    AddressFamily family_ = AddressFamily::Unix;
};

}  // namespace ipckit
