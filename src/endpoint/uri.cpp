// SPDX-License-Identifier: MIT
// The endpoint URI parser. Pure string work: nothing here touches the file system or the kernel
// (inet_pton only parses), so a hostile URI is refused before any object is opened (A22).
#include "ipckit/endpoint/uri.hpp"

#include "ipckit/core/units.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <climits>
#include <utility>

namespace ipckit {

namespace {

constexpr std::size_t kMaxUriLength = 8192;
constexpr std::size_t kMaxSunPath = 107;  // sizeof(sockaddr_un::sun_path) - 1 for the NUL
constexpr std::size_t kMaxPathLength = 4095;
constexpr std::size_t kMaxChanName = 200;  // as ipckit::Channel: name + ".chan" under NAME_MAX
constexpr long kHardMsgMax = 65536;        // HARD_MSGMAX (mq_overview(7))
constexpr long kHardMsgSizeMax = 16L * 1024 * 1024;  // HARD_MSGSIZEMAX
constexpr unsigned kMaxMqPriority = 32767;           // MQ_PRIO_MAX - 1 on Linux
constexpr long kMaxSemIndex = 31999;                 // SEMMSL max 32000
constexpr int kSemValueMax = 32767;                  // SEMVMX

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
};

/// Printable, bounded rendering of user text for one-line errors.
std::string shown(std::string_view text, std::size_t limit = 96) {
    std::string out;
    for (char c : text.substr(0, limit)) {
        if (c == '\0') {
            out += "\\0";
        } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
            out += '?';
        } else {
            out += c;
        }
    }
    if (text.size() > limit) {
        out += "...";
    }
    return out;
}

std::string join(const std::vector<std::string_view>& items) {
    std::string out;
    for (std::string_view s : items) {
        if (!out.empty()) {
            out += ", ";
        }
        out += s;
    }
    return out;
}

/// Builds the single error every parse failure returns: the URI as the object, the bad part in
/// the detail.
class Failer {
public:
    explicit Failer(std::string_view text) : text_(text) {}
    [[nodiscard]] Error operator()(std::string detail,
                                   std::errc code = std::errc::invalid_argument) const {
        return {code, "uri", "'" + shown(text_) + "'", std::move(detail)};
    }

private:
    std::string_view text_;
};

int hex_value(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/// %XX decoding; `what` names the part in errors ("path", "option mode").
Result<std::string> decode(std::string_view in, std::string_view what, const Failer& fail) {
    std::string out;
    out.reserve(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
        if (in[i] != '%') {
            out += in[i];
            continue;
        }
        const int hi = i + 1 < in.size() ? hex_value(in[i + 1]) : -1;
        const int lo = i + 2 < in.size() ? hex_value(in[i + 2]) : -1;
        if (hi < 0 || lo < 0) {
            return fail(std::string(what) + ": bad escape '" + shown(in.substr(i, 3)) +
                        "' (use %XX with two hex digits, %25 for '%')");
        }
        const char c = static_cast<char>(hi * 16 + lo);
        if (c == '\0') {
            return fail(std::string(what) + ": %00 (NUL) is not allowed");
        }
        out += c;
        i += 2;
    }
    return out;
}

bool all_digits(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

/// URI numbers may be negative (sysvmq type=-3) and hexadecimal (size=0x1000).
constexpr NumberSyntax kUriNumber{.sign = true, .hex = true};

/// A decimal (or 0x hex) integer in [lo, hi]; `what` names it in errors.
Result<long long> parse_integer(std::string_view s, long long lo, long long hi, std::string_view what,
                                const Failer& fail) {
    const auto n = ipckit::parse_integer(s, lo, hi, kUriNumber);
    if (n) {
        return static_cast<long long>(*n);
    }
    if (n.error() == ParseError::OutOfRange) {
        return fail(std::string(what) + " '" + shown(s) + "' is not in [" + std::to_string(lo) +
                    ", " + std::to_string(hi) + "]");
    }
    return fail(std::string(what) + " '" + shown(s) + "' is not a number");
}

/// A size with an optional binary suffix: 4096, 64k, 16M, 1G.
Result<std::size_t> parse_size(std::string_view s, std::string_view what, const Failer& fail) {
    constexpr std::uint64_t kMaxSize = std::uint64_t{1} << 46;  // 64 TiB: beyond any tmpfs
    const auto n = ipckit::parse_size(s, kSizeLetters, kMaxSize, kUriNumber);
    if (n) {
        return static_cast<std::size_t>(*n);
    }
    if (n.error() == ParseError::OutOfRange) {
        return fail(std::string(what) + " '" + shown(s) + "' is larger than 64 TiB");
    }
    return fail(std::string(what) + " '" + shown(s) + "' is not a size (e.g. 4096, 64k, 16M)");
}

Result<bool> parse_bool(std::string_view s, std::string_view what, const Failer& fail) {
    if (s == "1" || s == "true" || s == "yes" || s == "on") {
        return true;
    }
    if (s == "0" || s == "false" || s == "no" || s == "off") {
        return false;
    }
    return fail(std::string(what) + " '" + shown(s) + "' is not a boolean (1/0, true/false, yes/no)");
}

Result<Permissions> parse_mode(std::string_view s, const Failer& fail) {
    if (s.empty() || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '7'; })) {
        return fail("option mode '" + shown(s) + "' is not an octal mode such as 0600");
    }
    unsigned bits = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), bits, 8);
    if (ec != std::errc() || p != s.data() + s.size() || bits > 0777) {
        return fail("option mode '" + shown(s) + "' has bits outside 0777 (only permission bits)");
    }
    return Permissions(static_cast<mode_t>(bits));
}

/// The "?a=1&b" part: checked against the scheme's option list, then read by type.
class Options {
public:
    struct Item {
        std::string key;
        std::string value;
        bool has_value = false;
        bool used = false;
    };

    static Result<Options> parse(std::string_view query, UriScheme scheme, const Failer& fail) {
        Options o;
        const auto& known = Uri::known_options(scheme);
        std::size_t start = 0;
        while (start <= query.size()) {
            std::size_t amp = query.find('&', start);
            if (amp == std::string_view::npos) {
                amp = query.size();
            }
            const std::string_view part = query.substr(start, amp - start);
            start = amp + 1;
            const std::size_t eq = part.find('=');
            const std::string_view key = part.substr(0, eq);
            if (key.empty()) {
                return fail(part.empty() ? std::string("empty option (stray '&' or '?')")
                                         : "option '" + shown(part) + "' has no name");
            }
            if (std::find(known.begin(), known.end(), key) == known.end()) {
                std::string detail = "unknown option '" + shown(key, 40) + "' for " +
                                     std::string(scheme_name(scheme)) + ":";
                detail += known.empty() ? " (it takes no options)" : " (known: " + join(known) + ")";
                return fail(detail);
            }
            for (const Item& it : o.items_) {
                if (it.key == key) {
                    return fail("option '" + std::string(key) + "' given twice");
                }
            }
            Item item;
            item.key = std::string(key);
            if (eq != std::string_view::npos) {
                auto value = decode(part.substr(eq + 1), "option " + item.key, fail);
                if (!value) {
                    return std::move(value).error();
                }
                item.value = std::move(*value);
                item.has_value = true;
            }
            o.items_.push_back(std::move(item));
            if (amp == query.size()) {
                break;
            }
        }
        return o;
    }

    /// The raw value of `key` if given; a key given without '=' is an error unless `flag`.
    Result<std::optional<std::string>> raw(std::string_view key, const Failer& fail,
                                           bool flag = false) {
        for (Item& it : items_) {
            if (it.key == key) {
                it.used = true;
                if (!it.has_value && !flag) {
                    return fail("option '" + it.key + "' needs a value (" + it.key + "=...)");
                }
                if (it.has_value && it.value.empty()) {
                    return fail("option '" + it.key + "' has an empty value");
                }
                return std::optional<std::string>(it.has_value ? it.value : std::string("1"));
            }
        }
        return std::optional<std::string>();
    }

    Result<void> read_bool(std::string_view key, bool& out, const Failer& fail) {
        auto v = raw(key, fail, /*flag=*/true);
        if (!v) {
            return std::move(v).error();
        }
        if (*v) {
            auto b = parse_bool(**v, "option " + std::string(key), fail);
            if (!b) {
                return std::move(b).error();
            }
            out = *b;
        }
        return {};
    }

    template <class T>
    Result<void> read_int(std::string_view key, long long lo, long long hi, std::optional<T>& out,
                          const Failer& fail) {
        auto v = raw(key, fail);
        if (!v) {
            return std::move(v).error();
        }
        if (*v) {
            auto n = parse_integer(**v, lo, hi, "option " + std::string(key), fail);
            if (!n) {
                return std::move(n).error();
            }
            out = static_cast<T>(*n);
        }
        return {};
    }

    Result<void> read_size(std::string_view key, std::optional<std::size_t>& out, const Failer& fail) {
        auto v = raw(key, fail);
        if (!v) {
            return std::move(v).error();
        }
        if (*v) {
            auto n = parse_size(**v, "option " + std::string(key), fail);
            if (!n) {
                return std::move(n).error();
            }
            out = *n;
        }
        return {};
    }

    Result<void> read_mode(std::optional<Permissions>& out, const Failer& fail) {
        auto v = raw("mode", fail);
        if (!v) {
            return std::move(v).error();
        }
        if (*v) {
            auto m = parse_mode(**v, fail);
            if (!m) {
                return std::move(m).error();
            }
            out = *m;
        }
        return {};
    }

    Result<void> read_create(CreateOptions& out, const Failer& fail) {
        IPCKIT_TRY(read_mode(out.mode, fail));
        return read_bool("create", out.create, fail);
    }

private:
    std::vector<Item> items_;
};

Result<PosixName> parse_posix_name(std::string_view addr, const Failer& fail) {
    auto decoded = decode(addr, "name", fail);
    if (!decoded) {
        return std::move(decoded).error();
    }
    auto name = PosixName::make(*decoded);
    if (!name) {
        return fail("name '" + shown(*decoded, 64) + "' " + name.error().detail(),
                    name.error().code() == std::errc::filename_too_long
                        ? std::errc::filename_too_long
                        : std::errc::invalid_argument);
    }
    return name;
}

Result<SysvAddress> parse_sysv_address(std::string_view addr, const Failer& fail) {
    SysvAddress a;
    if (addr == "private") {
        a.kind = SysvAddress::Kind::Key;
        a.key = SysvKey::private_key();
        return a;
    }
    if (addr.starts_with("id:")) {
        auto id = parse_integer(addr.substr(3), 0, INT_MAX, "id", fail);
        if (!id) {
            return std::move(id).error();
        }
        a.kind = SysvAddress::Kind::Id;
        a.id = static_cast<int>(*id);
        return a;
    }
    if (addr.starts_with("ftok:")) {
        const std::string_view rest = addr.substr(5);
        const std::size_t colon = rest.rfind(':');
        if (colon == std::string_view::npos) {
            return fail("expected ftok:PATH:ID (missing ':ID')");
        }
        if (colon == 0) {
            return fail("ftok path is empty (expected ftok:PATH:ID)");
        }
        auto path = decode(rest.substr(0, colon), "ftok path", fail);
        if (!path) {
            return std::move(path).error();
        }
        const std::string_view id_text = rest.substr(colon + 1);
        if (!all_digits(id_text)) {
            return fail("ftok id '" + shown(id_text) + "' is not a number in [1, 255]");
        }
        auto id = parse_integer(id_text, 1, 255, "ftok id", fail);
        if (!id) {
            return fail("ftok id '" + shown(id_text) +
                        "' is not in [1, 255] (ftok keeps 8 bits; 0 is undefined)");
        }
        a.kind = SysvAddress::Kind::Ftok;
        a.ftok_path = std::move(*path);
        a.ftok_id = static_cast<int>(*id);
        return a;
    }
    auto key = SysvKey::parse(addr);  // numeric forms only here: no ftok, no file system
    if (!key) {
        return fail("key '" + shown(addr, 40) + "': " + key.error().detail() +
                    " (or ftok:PATH:ID, id:ID, private)");
    }
    a.kind = SysvAddress::Kind::Key;
    a.key = *key;
    return a;
}

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
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                        c == '-' || c == '_';
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
    auto port = parse_integer(port_text, 0, 65535, "port", fail);
    if (!port) {
        return std::move(port).error();
    }
    hp.port = static_cast<std::uint16_t>(*port);
    return hp;
}

Result<std::string> parse_chan_name(std::string_view addr, const Failer& fail) {
    auto name = decode(addr, "channel name", fail);
    if (!name) {
        return std::move(name).error();
    }
    if (name->size() > kMaxChanName) {
        return fail("channel name is " + std::to_string(name->size()) + " bytes; at most " +
                        std::to_string(kMaxChanName),
                    std::errc::filename_too_long);
    }
    if (name->front() == '.') {
        return fail("channel name '" + shown(*name, 40) + "' must not start with '.'");
    }
    for (char c : *name) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                        c == '.' || c == '_' || c == '-';
        if (!ok) {
            std::string bad = c == '/' ? "'/'" : "'" + shown(std::string_view(&c, 1)) + "'";
            return fail("channel name '" + shown(*name, 40) + "' contains " + bad +
                        " (allowed: letters, digits, '.', '_', '-')");
        }
    }
    return name;
}

Result<void> validate_nats_subject(std::string_view subject, const Failer& fail) {
    if (subject.empty()) {
        return fail("NATS subject is empty (expected nats://HOST:PORT/SUBJECT)");
    }
    std::size_t start = 0;
    while (true) {
        std::size_t dot = subject.find('.', start);
        const bool last = dot == std::string_view::npos;
        const std::string_view token = subject.substr(start, last ? std::string_view::npos : dot - start);
        if (token.empty()) {
            return fail("NATS subject '" + shown(subject, 60) + "' has an empty token");
        }
        for (char c : token) {
            if (c == ' ' || c == '\t' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
                return fail("NATS subject '" + shown(subject, 60) + "' contains white space");
            }
        }
        if (token.find('>') != std::string_view::npos && (token != ">" || !last)) {
            return fail("NATS subject '" + shown(subject, 60) + "': '>' must be the whole last token");
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

Result<Uri::Address> parse_fifo(std::string_view addr, Options& opts, const Failer& fail) {
    FifoUri u;
    auto path = decode(addr, "path", fail);
    if (!path) {
        return std::move(path).error();
    }
    if (path->size() > kMaxPathLength) {
        return fail("path is longer than 4095 bytes", std::errc::filename_too_long);
    }
    u.path = std::move(*path);
    IPCKIT_TRY(opts.read_create(u.create, fail));
    IPCKIT_TRY(opts.read_bool("raw", u.raw, fail));
    return Uri::Address(std::move(u));
}

Result<Uri::Address> parse_posix_mq(std::string_view addr, Options& opts, const Failer& fail) {
    auto name = parse_posix_name(addr, fail);
    if (!name) {
        return std::move(name).error();
    }
    PosixMqUri u{std::move(*name), {}, {}, {}, {}};
    IPCKIT_TRY(opts.read_int("maxmsg", 1, kHardMsgMax, u.max_messages, fail));
    IPCKIT_TRY(opts.read_int("msgsize", 1, kHardMsgSizeMax, u.max_message_size, fail));
    IPCKIT_TRY(opts.read_int("prio", 0, kMaxMqPriority, u.priority, fail));
    IPCKIT_TRY(opts.read_create(u.create, fail));
    return Uri::Address(std::move(u));
}

/// "KEY#INDEX": splits off and checks the semaphore index.
Result<std::pair<std::string_view, std::optional<unsigned>>> split_sem_index(std::string_view addr,
                                                                             const Failer& fail) {
    const std::size_t hash = addr.rfind('#');
    if (hash == std::string_view::npos) {
        return std::pair<std::string_view, std::optional<unsigned>>(addr, std::nullopt);
    }
    const std::string_view idx = addr.substr(hash + 1);
    if (!all_digits(idx)) {
        return fail("semaphore index '#" + shown(idx, 20) + "' is not a number in [0, " +
                    std::to_string(kMaxSemIndex) + "]");
    }
    auto n = parse_integer(idx, 0, kMaxSemIndex, "semaphore index", fail);
    if (!n) {
        return std::move(n).error();
    }
    if (hash == 0) {
        return fail("missing key before '#'");
    }
    return std::pair<std::string_view, std::optional<unsigned>>(addr.substr(0, hash),
                                                               static_cast<unsigned>(*n));
}

Result<Uri::Address> sysv_mq(SysvAddress address, Options& opts, const Failer& fail) {
    SysvMqUri u{std::move(address), {}, {}};
    IPCKIT_TRY(opts.read_int("type", LONG_MIN + 1, LONG_MAX, u.type, fail));
    IPCKIT_TRY(opts.read_create(u.create, fail));
    return Uri::Address(std::move(u));
}

Result<Uri::Address> sysv_shm(SysvAddress address, Options& opts, const Failer& fail) {
    SysvShmUri u{std::move(address), {}, {}};
    IPCKIT_TRY(opts.read_size("size", u.size, fail));
    if (u.size && *u.size == 0) {
        return fail("option size must be >= 1");
    }
    IPCKIT_TRY(opts.read_create(u.create, fail));
    return Uri::Address(std::move(u));
}

Result<Uri::Address> sysv_sem(SysvAddress address, std::optional<unsigned> index, Options& opts,
                              const Failer& fail) {
    SysvSemUri u{std::move(address), index, {}, {}, {}};
    IPCKIT_TRY(opts.read_int("nsems", 1, kMaxSemIndex + 1, u.nsems, fail));
    IPCKIT_TRY(opts.read_int("value", 0, kSemValueMax, u.value, fail));
    IPCKIT_TRY(opts.read_create(u.create, fail));
    if (u.nsems && u.index && *u.index >= static_cast<unsigned>(*u.nsems)) {
        return fail("semaphore index #" + std::to_string(*u.index) + " is not below nsems=" +
                    std::to_string(*u.nsems));
    }
    return Uri::Address(std::move(u));
}

Result<Uri::Address> parse_sysv(UriScheme scheme, std::string_view addr, Options& opts,
                                const Failer& fail) {
    std::optional<unsigned> index;
    std::string_view key_part = addr;
    if (scheme == UriScheme::SysvSem) {
        auto split = split_sem_index(addr, fail);
        if (!split) {
            return std::move(split).error();
        }
        key_part = split->first;
        index = split->second;
    }
    auto address = parse_sysv_address(key_part, fail);
    if (!address) {
        return std::move(address).error();
    }
    switch (scheme) {
        case UriScheme::SysvMq:
            return sysv_mq(std::move(*address), opts, fail);
        case UriScheme::SysvShm:
            return sysv_shm(std::move(*address), opts, fail);
        default:
            return sysv_sem(std::move(*address), index, opts, fail);
    }
}

Result<Uri::Address> parse_unix(UriScheme scheme, std::string_view addr, Options& opts,
                                const Failer& fail) {
    UnixUri u;
    u.type = scheme == UriScheme::Unix        ? UnixUri::Type::Stream
             : scheme == UriScheme::UnixDgram ? UnixUri::Type::Datagram
                                              : UnixUri::Type::Seqpacket;
    u.abstract = addr.starts_with('@');
    auto path = decode(u.abstract ? addr.substr(1) : addr, "socket path", fail);
    if (!path) {
        return std::move(path).error();
    }
    if (path->empty()) {
        return fail(u.abstract ? "abstract socket name after '@' is empty" : "socket path is empty");
    }
    if (path->size() > kMaxSunPath) {
        return fail(std::string(u.abstract ? "abstract name" : "socket path") + " is " +
                        std::to_string(path->size()) +
                        " bytes; a Unix socket address holds at most 107",
                    std::errc::filename_too_long);
    }
    u.path = std::move(*path);
    IPCKIT_TRY(opts.read_mode(u.mode, fail));
    if (u.abstract && u.mode) {
        return fail("option mode has no effect on an abstract socket (no file)");
    }
    if (u.type == UnixUri::Type::Stream) {
        IPCKIT_TRY(opts.read_bool("raw", u.raw, fail));
    }
    return Uri::Address(std::move(u));
}

Result<Uri::Address> parse_inet(UriScheme scheme, std::string_view addr, Options& opts,
                                const Failer& fail) {
    auto hp = parse_host_port(addr, /*port_required=*/true, fail);
    if (!hp) {
        return std::move(hp).error();
    }
    InetUri u;
    u.protocol = scheme == UriScheme::Tcp ? InetUri::Protocol::Tcp : InetUri::Protocol::Udp;
    u.host = std::move(hp->host);
    u.ipv6_literal = hp->ipv6;
    u.port = *hp->port;
    if (scheme == UriScheme::Tcp) {
        IPCKIT_TRY(opts.read_bool("raw", u.raw, fail));
    }
    return Uri::Address(std::move(u));
}

Result<Uri::Address> parse_chan(std::string_view addr, Options& opts, const Failer& fail) {
    auto name = parse_chan_name(addr, fail);
    if (!name) {
        return std::move(name).error();
    }
    ChanUri u;
    u.name = std::move(*name);
    auto dir = opts.raw("dir", fail);
    if (!dir) {
        return std::move(dir).error();
    }
    if (*dir) {
        if (!(*dir)->starts_with('/')) {
            return fail("option dir '" + shown(**dir, 60) + "' must be an absolute path");
        }
        u.dir = std::move(**dir);
    }
    IPCKIT_TRY(opts.read_size("capacity", u.capacity, fail));
    IPCKIT_TRY(opts.read_size("msgsize", u.max_message_size, fail));
    auto policy = opts.raw("policy", fail);
    if (!policy) {
        return std::move(policy).error();
    }
    if (*policy) {
        if (**policy == "overwrite") {
            u.overwrite = true;
        } else if (**policy != "block") {
            return fail("option policy '" + shown(**policy, 20) + "' must be block or overwrite");
        }
    }
    if (u.capacity && *u.capacity == 0) {
        return fail("option capacity must be >= 1");
    }
    if (u.max_message_size && *u.max_message_size == 0) {
        return fail("option msgsize must be >= 1");
    }
    IPCKIT_TRY(opts.read_create(u.create, fail));
    return Uri::Address(std::move(u));
}

Result<Uri::Address> parse_posix_shm(std::string_view addr, Options& opts, const Failer& fail) {
    auto name = parse_posix_name(addr, fail);
    if (!name) {
        return std::move(name).error();
    }
    PosixShmUri u{std::move(*name), {}, {}};
    IPCKIT_TRY(opts.read_size("size", u.size, fail));
    IPCKIT_TRY(opts.read_create(u.create, fail));
    return Uri::Address(std::move(u));
}

Result<Uri::Address> parse_posix_sem(std::string_view addr, Options& opts, const Failer& fail) {
    auto name = parse_posix_name(addr, fail);
    if (!name) {
        return std::move(name).error();
    }
    PosixSemUri u{std::move(*name), {}, {}};
    IPCKIT_TRY(opts.read_int("value", 0, INT_MAX, u.value, fail));  // SEM_VALUE_MAX
    IPCKIT_TRY(opts.read_create(u.create, fail));
    return Uri::Address(std::move(u));
}

Result<Uri::Address> parse_address(UriScheme scheme, std::string_view addr, Options& opts,
                                   const Failer& fail) {
    switch (scheme) {
        case UriScheme::Fifo:
            return parse_fifo(addr, opts, fail);
        case UriScheme::PosixMq:
            return parse_posix_mq(addr, opts, fail);
        case UriScheme::SysvMq:
        case UriScheme::SysvShm:
        case UriScheme::SysvSem:
            return parse_sysv(scheme, addr, opts, fail);
        case UriScheme::Unix:
        case UriScheme::UnixDgram:
        case UriScheme::UnixSeqpacket:
            return parse_unix(scheme, addr, opts, fail);
        case UriScheme::Tcp:
        case UriScheme::Udp:
            return parse_inet(scheme, addr, opts, fail);
        case UriScheme::Chan:
            return parse_chan(addr, opts, fail);
        case UriScheme::PosixShm:
            return parse_posix_shm(addr, opts, fail);
        case UriScheme::PosixSem:
            return parse_posix_sem(addr, opts, fail);
        case UriScheme::Nats:
            break;  // handled by parse_nats
    }
    return fail("internal: unhandled scheme");
}

Result<Uri::Address> parse_nats(std::string_view rest, const Failer& fail) {
    // rest is what follows "nats://"
    const std::size_t slash = rest.find('/');
    if (slash == std::string_view::npos) {
        return fail("missing '/SUBJECT' (expected nats://HOST:PORT/SUBJECT)");
    }
    auto hp = parse_host_port(rest.substr(0, slash), /*port_required=*/false, fail);
    if (!hp) {
        return std::move(hp).error();
    }
    const std::string_view subject = rest.substr(slash + 1);
    IPCKIT_TRY(validate_nats_subject(subject, fail));
    NatsUri u;
    u.host = std::move(hp->host);
    u.ipv6_literal = hp->ipv6;
    if (hp->port) {
        if (*hp->port == 0) {
            return fail("port '0' cannot be connected to");
        }
        u.port = *hp->port;
    }
    u.subject = std::string(subject);
    return Uri::Address(std::move(u));
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
    static const std::vector<std::string_view> chan{"dir", "capacity", "msgsize", "policy",
                                                          "create", "mode"};
    static const std::vector<std::string_view> shm{"size", "create", "mode"};
    static const std::vector<std::string_view> sem{"value", "create", "mode"};
    static const std::vector<std::string_view> sysvsem{"nsems", "value", "create", "mode"};
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
        auto address = parse_nats(rest, fail);
        if (!address) {
            return std::move(address).error();
        }
        return Uri(UriScheme::Nats, std::move(*address), std::string(text));
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
        auto parsed = Options::parse(query, entry->scheme, fail);
        if (!parsed) {
            return std::move(parsed).error();
        }
        opts = std::move(*parsed);
    }
    auto address = parse_address(entry->scheme, rest, opts, fail);
    if (!address) {
        return std::move(address).error();
    }
    return Uri(entry->scheme, std::move(*address), std::string(text));
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
            } else if constexpr (std::is_same_v<T, ChanUri>) {
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
