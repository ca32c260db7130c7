// SPDX-License-Identifier: MIT
// The endpoint URI parser. Pure string work: nothing here touches the file system or the kernel
// (inet_pton only parses), so a hostile URI is refused before any object is opened (A22).
// This file splits "SCHEME:ADDRESS?OPTIONS" and hands the address to its scheme family's parser
// (uri_stream, uri_message, uri_socket, uri_shm, uri_sync, uri_channel); uri_text.cpp has the
// parsers they share.
#include "ipckit/endpoint/uri.hpp"

#include "endpoint/uri_parse.hpp"

#include <utility>

namespace ipckit {

namespace {

using detail::Failer;
using detail::join;
using detail::Options;
using detail::shown;

constexpr std::size_t kMaxUriLength = 8192;

struct SchemeEntry {
    std::string_view name;
    UriScheme scheme;
};

constexpr SchemeEntry kSchemes[] = {
    {"fifo", UriScheme::Fifo},
    {"mq", UriScheme::PosixMq},
    {"sysvmq", UriScheme::SysvMq},
    {"unix", UriScheme::Unix},
    {"unix-dgram", UriScheme::UnixDgram},
    {"unix-seqpacket", UriScheme::UnixSeqpacket},
    {"tcp", UriScheme::Tcp},
    {"udp", UriScheme::Udp},
    {"chan", UriScheme::Chan},
    {"shm", UriScheme::PosixShm},
    {"sysvshm", UriScheme::SysvShm},
    {"sem", UriScheme::PosixSem},
    {"sysvsem", UriScheme::SysvSem},
    {"nats", UriScheme::Nats},
    {"event", UriScheme::Event},
    {"srv", UriScheme::Srv},
};

Result<Uri::Address> parse_address(UriScheme scheme, std::string_view addr, Options& opts,
                                   const Failer& fail) {
    switch (scheme) {
        case UriScheme::Fifo:
            return detail::parse_fifo(addr, opts, fail);
        case UriScheme::PosixMq:
            return detail::parse_posix_mq(addr, opts, fail);
        case UriScheme::SysvMq:
            return detail::parse_sysv_mq(addr, opts, fail);
        case UriScheme::SysvShm:
            return detail::parse_sysv_shm(addr, opts, fail);
        case UriScheme::SysvSem:
            return detail::parse_sysv_sem(addr, opts, fail);
        case UriScheme::Unix:
        case UriScheme::UnixDgram:
        case UriScheme::UnixSeqpacket:
            return detail::parse_unix(scheme, addr, opts, fail);
        case UriScheme::Tcp:
        case UriScheme::Udp:
            return detail::parse_inet(scheme, addr, opts, fail);
        case UriScheme::Chan:
            return detail::parse_chan(addr, opts, fail);
        case UriScheme::PosixShm:
            return detail::parse_posix_shm(addr, opts, fail);
        case UriScheme::PosixSem:
            return detail::parse_posix_sem(addr, opts, fail);
        case UriScheme::Event:
            return detail::parse_event(addr, opts, fail);
        case UriScheme::Srv:
            return detail::parse_srv(addr, opts, fail);
        case UriScheme::Nats:
            break;  // handled by parse_nats
    }
    return fail("internal: unhandled scheme");
}

std::string host_string(const std::string& host, bool ipv6) {
    return ipv6 ? "[" + host + "]" : host;
}

}  // namespace

std::string_view scheme_name(UriScheme scheme) noexcept {
    for (const SchemeEntry& e : kSchemes) {
        if (e.scheme == scheme) {
            return e.name;
        }
    }
    return "?";
}

Result<SysvKey> SysvAddress::resolve_key() const {
    switch (kind) {
        case Kind::Key:
            return key;
        case Kind::Ftok:
            return SysvKey::from_path(ftok_path, ftok_id);
        case Kind::Id:
            break;
    }
    return Error(std::errc::invalid_argument, "sysv key", to_string(),
                 "addressed by id: there is no key to resolve");
}

std::string SysvAddress::to_string() const {
    switch (kind) {
        case Kind::Key:
            return key.to_string();
        case Kind::Ftok:
            return "ftok:" + ftok_path + ":" + std::to_string(ftok_id);
        case Kind::Id:
            return "id:" + std::to_string(id);
    }
    return {};
}

const std::vector<std::string_view>& Uri::known_schemes() {
    static const std::vector<std::string_view> names = [] {
        std::vector<std::string_view> v;
        for (const SchemeEntry& e : kSchemes) {
            v.push_back(e.name);
        }
        return v;
    }();
    return names;
}

const std::vector<std::string_view>& Uri::known_options(UriScheme scheme) {
    static const std::vector<std::string_view> fifo{"create", "mode", "raw"};
    static const std::vector<std::string_view> mq{"maxmsg", "msgsize", "prio", "create", "mode"};
    static const std::vector<std::string_view> sysvmq{"type", "create", "mode"};
    static const std::vector<std::string_view> unix_stream{"mode", "raw"};
    static const std::vector<std::string_view> unix_other{"mode"};
    static const std::vector<std::string_view> tcp{"raw"};
    static const std::vector<std::string_view> none{};
    static const std::vector<std::string_view> chan{
        "dir", "capacity", "msgsize", "policy", "create", "mode", "group"};
    static const std::vector<std::string_view> shm{"size", "create", "mode"};
    static const std::vector<std::string_view> sem{"value", "create", "mode"};
    static const std::vector<std::string_view> sysvsem{"nsems", "value", "create", "mode"};
    static const std::vector<std::string_view> event{"dir"};
    switch (scheme) {
        case UriScheme::Fifo:
            return fifo;
        case UriScheme::PosixMq:
            return mq;
        case UriScheme::SysvMq:
            return sysvmq;
        case UriScheme::Unix:
            return unix_stream;
        case UriScheme::UnixDgram:
        case UriScheme::UnixSeqpacket:
            return unix_other;
        case UriScheme::Tcp:
            return tcp;
        case UriScheme::Udp:
        case UriScheme::Nats:
            return none;
        case UriScheme::Chan:
            return chan;
        case UriScheme::PosixShm:
        case UriScheme::SysvShm:
            return shm;
        case UriScheme::PosixSem:
            return sem;
        case UriScheme::SysvSem:
            return sysvsem;
        case UriScheme::Event:
        case UriScheme::Srv:
            return event;  // dir only
    }
    return none;
}

Result<Uri> Uri::parse(std::string_view text) {
    const Failer fail(text);
    if (text.empty()) {
        return fail("empty URI (expected SCHEME:ADDRESS, e.g. mq:/jobs)");
    }
    if (text.size() > kMaxUriLength) {
        return fail("URI is longer than 8192 bytes", std::errc::filename_too_long);
    }
    if (text.find('\0') != std::string_view::npos) {
        return fail("contains a NUL byte");
    }
    if (text.starts_with("nats:")) {
        if (!text.starts_with("nats://")) {
            return fail("expected nats://HOST:PORT/SUBJECT");
        }
        std::string_view rest = text.substr(7);
        if (rest.find('?') != std::string_view::npos) {
            return fail("nats: takes no options");
        }
        IPCKIT_TRY_ASSIGN(Address address, detail::parse_nats(rest, fail));
        return Uri(UriScheme::Nats, std::move(address), std::string(text));
    }
    const std::size_t colon = text.find(':');
    if (colon == std::string_view::npos || colon == 0) {
        return fail("missing scheme (expected SCHEME:ADDRESS, e.g. mq:/jobs; schemes: " +
                    join(known_schemes()) + ")");
    }
    const std::string_view name = text.substr(0, colon);
    const SchemeEntry* entry = nullptr;
    for (const SchemeEntry& e : kSchemes) {
        if (e.name == name) {
            entry = &e;
        }
    }
    if (entry == nullptr) {
        return fail("unknown scheme '" + shown(name, 32) + "' (known: " + join(known_schemes()) + ")");
    }
    std::string_view rest = text.substr(colon + 1);
    std::string_view query;
    bool has_query = false;
    if (const std::size_t q = rest.find('?'); q != std::string_view::npos) {
        query = rest.substr(q + 1);
        rest = rest.substr(0, q);
        has_query = true;
    }
    if (rest.empty()) {
        return fail("nothing after '" + std::string(entry->name) + ":' (expected " +
                    std::string(entry->name) + ":ADDRESS)");
    }
    if (entry->scheme == UriScheme::SysvSem && query.find('#') != std::string_view::npos) {
        return fail("the '#INDEX' must come before the '?options'");
    }
    Options opts;
    if (has_query) {
        IPCKIT_TRY_ASSIGN(opts, Options::parse(query, entry->scheme, fail));
    }
    IPCKIT_TRY_ASSIGN(Address address, parse_address(entry->scheme, rest, opts, fail));
    return Uri(entry->scheme, std::move(address), std::string(text));
}

std::string Uri::object_string() const {
    const std::string scheme(scheme_name());
    return std::visit(
        [&](const auto& a) -> std::string {
            using T = std::decay_t<decltype(a)>;
            if constexpr (std::is_same_v<T, FifoUri>) {
                return scheme + ":" + a.path;
            } else if constexpr (std::is_same_v<T, PosixMqUri> || std::is_same_v<T, PosixShmUri> ||
                                 std::is_same_v<T, PosixSemUri>) {
                return scheme + ":" + a.name.str();
            } else if constexpr (std::is_same_v<T, SysvMqUri> || std::is_same_v<T, SysvShmUri>) {
                return scheme + ":" + a.address.to_string();
            } else if constexpr (std::is_same_v<T, SysvSemUri>) {
                return scheme + ":" + a.address.to_string() +
                       (a.index ? "#" + std::to_string(*a.index) : std::string());
            } else if constexpr (std::is_same_v<T, UnixUri>) {
                return scheme + ":" + (a.abstract ? "@" : "") + a.path;
            } else if constexpr (std::is_same_v<T, InetUri>) {
                return scheme + ":" + host_string(a.host, a.ipv6_literal) + ":" +
                       std::to_string(a.port);
            } else if constexpr (std::is_same_v<T, ChanUri> || std::is_same_v<T, EventUri> ||
                                 std::is_same_v<T, SrvUri>) {
                return scheme + ":" + a.name;
            } else {
                static_assert(std::is_same_v<T, NatsUri>);
                return "nats://" + host_string(a.host, a.ipv6_literal) + ":" +
                       std::to_string(a.port) + "/" + a.subject;
            }
        },
        address_);
}

Result<long> validate_sysv_send_type(long type) {
    if (type < 1) {
        return Error(std::errc::invalid_argument, "sysv message type", std::to_string(type),
                     "a send type must be >= 1; 0 and negative types only select on receive");
    }
    return type;
}

std::string channel_file_name(std::string_view name) {
    return std::string(name) + std::string(kChannelFileSuffix);
}

}  // namespace ipckit
