// SPDX-License-Identifier: MIT
// The URI parser's shared text work: rendering user text in errors, %XX escapes, numbers, sizes,
// booleans, modes, the option list, POSIX names and System V addresses.
#include "endpoint/uri_parse.hpp"
#include "ipckit/core/units.hpp"

#include <algorithm>
#include <charconv>
#include <climits>
#include <cstdint>
#include <utility>

namespace ipckit::detail {

namespace {

/// URI numbers may be negative (sysvmq type=-3) and hexadecimal (size=0x1000).
constexpr NumberSyntax kUriNumber{.sign = true, .hex = true};

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

Result<bool> parse_bool(std::string_view s, std::string_view what, const Failer& fail) {
    if (s == "1" || s == "true" || s == "yes" || s == "on") {
        return true;
    }
    if (s == "0" || s == "false" || s == "no" || s == "off") {
        return false;
    }
    return fail(std::string(what) + " '" + shown(s) +
                "' is not a boolean (1/0, true/false, yes/no)");
}

Result<Permissions> parse_mode(std::string_view s, const Failer& fail) {
    if (s.empty() ||
        !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '7'; })) {
        return fail("option mode '" + shown(s) + "' is not an octal mode such as 0600");
    }
    unsigned bits = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), bits, 8);
    if (ec != std::errc() || p != s.data() + s.size() || bits > 0777) {
        return fail("option mode '" + shown(s) + "' has bits outside 0777 (only permission bits)");
    }
    return Permissions(static_cast<mode_t>(bits));
}

}  // namespace

std::string shown(std::string_view text, std::size_t limit) {
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
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

Result<long long> parse_uri_integer(
    std::string_view s, long long lo, long long hi, std::string_view what, const Failer& fail) {
    const auto n = parse_integer(s, lo, hi, kUriNumber);
    if (n) {
        return static_cast<long long>(*n);
    }
    if (n.error() == ParseError::OutOfRange) {
        return fail(std::string(what) + " '" + shown(s) + "' is not in [" + std::to_string(lo) +
                    ", " + std::to_string(hi) + "]");
    }
    return fail(std::string(what) + " '" + shown(s) + "' is not a number");
}

Result<std::size_t> parse_uri_size(std::string_view s, std::string_view what, const Failer& fail) {
    constexpr std::uint64_t kMaxSize = std::uint64_t{1} << 46;  // 64 TiB: beyond any tmpfs
    const auto n = parse_size(s, kSizeLetters, kMaxSize, kUriNumber);
    if (n) {
        return static_cast<std::size_t>(*n);
    }
    if (n.error() == ParseError::OutOfRange) {
        return fail(std::string(what) + " '" + shown(s) + "' is larger than 64 TiB");
    }
    return fail(std::string(what) + " '" + shown(s) + "' is not a size (e.g. 4096, 64k, 16M)");
}

Result<Options> Options::parse(std::string_view query, UriScheme scheme, const Failer& fail) {
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
            IPCKIT_TRY_ASSIGN(item.value, decode(part.substr(eq + 1), "option " + item.key, fail));
            item.has_value = true;
        }
        o.items_.push_back(std::move(item));
        if (amp == query.size()) {
            break;
        }
    }
    return o;
}

Result<std::optional<std::string>> Options::raw(std::string_view key,
                                                const Failer& fail,
                                                bool flag) {
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

Result<void> Options::read_bool(std::string_view key, bool& out, const Failer& fail) {
    IPCKIT_TRY_ASSIGN(const auto v, raw(key, fail, /*flag=*/true));
    if (v) {
        IPCKIT_TRY_ASSIGN(out, parse_bool(*v, "option " + std::string(key), fail));
    }
    return {};
}

Result<void> Options::read_size(std::string_view key,
                                std::optional<std::size_t>& out,
                                const Failer& fail) {
    IPCKIT_TRY_ASSIGN(const auto v, raw(key, fail));
    if (v) {
        IPCKIT_TRY_ASSIGN(out, parse_uri_size(*v, "option " + std::string(key), fail));
    }
    return {};
}

Result<void> Options::read_mode(std::optional<Permissions>& out, const Failer& fail) {
    IPCKIT_TRY_ASSIGN(const auto v, raw("mode", fail));
    if (v) {
        IPCKIT_TRY_ASSIGN(out, parse_mode(*v, fail));
    }
    return {};
}

Result<void> Options::read_create(CreateOptions& out, const Failer& fail) {
    IPCKIT_TRY(read_mode(out.mode, fail));
    return read_bool("create", out.create, fail);
}

Result<PosixName> parse_posix_name(std::string_view addr, const Failer& fail) {
    IPCKIT_TRY_ASSIGN(const std::string decoded, decode(addr, "name", fail));
    auto name = PosixName::make(decoded);
    if (!name) {
        return fail("name '" + shown(decoded, 64) + "' " + name.error().detail(),
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
        IPCKIT_TRY_ASSIGN(const long long id,
                          parse_uri_integer(addr.substr(3), 0, INT_MAX, "id", fail));
        a.kind = SysvAddress::Kind::Id;
        a.id = static_cast<int>(id);
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
        IPCKIT_TRY_ASSIGN(std::string path, decode(rest.substr(0, colon), "ftok path", fail));
        const std::string_view id_text = rest.substr(colon + 1);
        if (!all_digits(id_text)) {
            return fail("ftok id '" + shown(id_text) + "' is not a number in [1, 255]");
        }
        auto id = parse_uri_integer(id_text, 1, 255, "ftok id", fail);
        if (!id) {
            return fail("ftok id '" + shown(id_text) +
                        "' is not in [1, 255] (ftok keeps 8 bits; 0 is undefined)");
        }
        a.kind = SysvAddress::Kind::Ftok;
        a.ftok_path = std::move(path);
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

}  // namespace ipckit::detail
