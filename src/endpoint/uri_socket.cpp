// SPDX-License-Identifier: MIT
// URI addresses of sockets and the NATS bridge: unix:PATH | unix:@NAME (and unix-dgram:,
// unix-seqpacket:), tcp:HOST:PORT, udp:HOST:PORT, nats://HOST[:PORT]/SUBJECT. inet_pton only
// parses: no name is resolved here.
#include "endpoint/uri_parse.hpp"

#include <arpa/inet.h>

#include <cstdint>
#include <utility>

namespace ipckit::detail {

namespace {

constexpr std::size_t kMaxSunPath = 107;  // sizeof(sockaddr_un::sun_path) - 1 for the NUL

bool valid_hostname(std::string_view host) {
    if (host.empty() || host.size() > 253) {
        return false;
    }
    std::size_t label = 0;
    for (const char c : host) {
        if (c == '.') {
            if (label == 0) {
                return false;
            }
            label = 0;
            continue;
        }
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '-' || c == '_';
        if (!ok || ++label > 63) {
            return false;
        }
    }
    return true;
}

struct HostPort {
    std::string host;
    bool ipv6 = false;
    std::optional<std::uint16_t> port;
};

/// HOST:PORT or [V6]:PORT; `port_required` false lets nats default it.
Result<HostPort> parse_host_port(std::string_view addr, bool port_required, const Failer& fail) {
    HostPort hp;
    std::string_view port_text;
    bool has_port = false;
    if (addr.starts_with('[')) {
        const std::size_t close = addr.find(']');
        if (close == std::string_view::npos) {
            return fail("IPv6 address '" + shown(addr, 60) + "' has no closing ']'");
        }
        hp.host = std::string(addr.substr(1, close - 1));
        hp.ipv6 = true;
        in6_addr tmp{};
        if (::inet_pton(AF_INET6, hp.host.c_str(), &tmp) != 1) {
            return fail("'" + shown(hp.host, 60) + "' is not an IPv6 address");
        }
        const std::string_view after = addr.substr(close + 1);
        if (!after.empty()) {
            if (!after.starts_with(':')) {
                return fail("expected ':PORT' after ']', got '" + shown(after, 20) + "'");
            }
            port_text = after.substr(1);
            has_port = true;
        }
    } else {
        const std::size_t colon = addr.rfind(':');
        if (colon != std::string_view::npos) {
            hp.host = std::string(addr.substr(0, colon));
            port_text = addr.substr(colon + 1);
            has_port = true;
        } else {
            hp.host = std::string(addr);
        }
        if (hp.host.find(':') != std::string::npos) {
            return fail("an IPv6 address must be in brackets, e.g. [::1]:PORT");
        }
        if (hp.host.empty()) {
            return fail("host is empty (use 0.0.0.0 or [::] for every address)");
        }
        if (!valid_hostname(hp.host)) {
            return fail("host '" + shown(hp.host, 60) + "' is not a host name or IPv4 address");
        }
    }
    if (!has_port) {
        if (port_required) {
            return fail("missing ':PORT' (expected HOST:PORT)");
        }
        return hp;
    }
    if (!all_digits(port_text)) {
        return fail("port '" + shown(port_text, 20) + "' is not a number in [0, 65535]");
    }
    IPCKIT_TRY_ASSIGN(const long long port, parse_uri_integer(port_text, 0, 65535, "port", fail));
    hp.port = static_cast<std::uint16_t>(port);
    return hp;
}

Result<void> validate_nats_subject(std::string_view subject, const Failer& fail) {
    if (subject.empty()) {
        return fail("NATS subject is empty (expected nats://HOST:PORT/SUBJECT)");
    }
    std::size_t start = 0;
    while (true) {
        std::size_t dot = subject.find('.', start);
        const bool last = dot == std::string_view::npos;
        const std::string_view token =
            subject.substr(start, last ? std::string_view::npos : dot - start);
        if (token.empty()) {
            return fail("NATS subject '" + shown(subject, 60) + "' has an empty token");
        }
        for (char c : token) {
            if (c == ' ' || c == '\t' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
                return fail("NATS subject '" + shown(subject, 60) + "' contains white space");
            }
        }
        if (token.find('>') != std::string_view::npos && (token != ">" || !last)) {
            return fail("NATS subject '" + shown(subject, 60) +
                        "': '>' must be the whole last token");
        }
        if (token.find('*') != std::string_view::npos && token != "*") {
            return fail("NATS subject '" + shown(subject, 60) + "': '*' must be a whole token");
        }
        if (last) {
            return {};
        }
        start = dot + 1;
    }
}

}  // namespace

Result<Uri::Address> parse_unix(UriScheme scheme,
                                std::string_view addr,
                                Options& opts,
                                const Failer& fail) {
    UnixUri u;
    u.type = scheme == UriScheme::Unix        ? UnixUri::Type::Stream
             : scheme == UriScheme::UnixDgram ? UnixUri::Type::Datagram
                                              : UnixUri::Type::Seqpacket;
    u.abstract = addr.starts_with('@');
    IPCKIT_TRY_ASSIGN(std::string path,
                      decode(u.abstract ? addr.substr(1) : addr, "socket path", fail));
    if (path.empty()) {
        return fail(u.abstract ? "abstract socket name after '@' is empty"
                               : "socket path is empty");
    }
    if (path.size() > kMaxSunPath) {
        return fail(std::string(u.abstract ? "abstract name" : "socket path") + " is " +
                        std::to_string(path.size()) +
                        " bytes; a Unix socket address holds at most 107",
                    std::errc::filename_too_long);
    }
    u.path = std::move(path);
    IPCKIT_TRY(opts.read_mode(u.mode, fail));
    if (u.abstract && u.mode) {
        return fail("option mode has no effect on an abstract socket (no file)");
    }
    if (u.type == UnixUri::Type::Stream) {
        IPCKIT_TRY(opts.read_bool("raw", u.raw, fail));
    }
    return Uri::Address(std::move(u));
}

Result<Uri::Address> parse_inet(UriScheme scheme,
                                std::string_view addr,
                                Options& opts,
                                const Failer& fail) {
    IPCKIT_TRY_ASSIGN(HostPort hp, parse_host_port(addr, /*port_required=*/true, fail));
    InetUri u;
    u.protocol = scheme == UriScheme::Tcp ? InetUri::Protocol::Tcp : InetUri::Protocol::Udp;
    u.host = std::move(hp.host);
    u.ipv6_literal = hp.ipv6;
    u.port = *hp.port;
    if (scheme == UriScheme::Tcp) {
        IPCKIT_TRY(opts.read_bool("raw", u.raw, fail));
    }
    return Uri::Address(std::move(u));
}

Result<Uri::Address> parse_nats(std::string_view rest, const Failer& fail) {
    const std::size_t slash = rest.find('/');
    if (slash == std::string_view::npos) {
        return fail("missing '/SUBJECT' (expected nats://HOST:PORT/SUBJECT)");
    }
    IPCKIT_TRY_ASSIGN(HostPort hp,
                      parse_host_port(rest.substr(0, slash), /*port_required=*/false, fail));
    const std::string_view subject = rest.substr(slash + 1);
    IPCKIT_TRY(validate_nats_subject(subject, fail));
    NatsUri u;
    u.host = std::move(hp.host);
    u.ipv6_literal = hp.ipv6;
    if (hp.port) {
        if (*hp.port == 0) {
            return fail("port '0' cannot be connected to");
        }
        u.port = *hp.port;
    }
    u.subject = std::string(subject);
    return Uri::Address(std::move(u));
}

}  // namespace ipckit::detail
