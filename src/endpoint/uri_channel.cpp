// SPDX-License-Identifier: MIT
// URI addresses of zero-copy channels:
// chan:NAME?dir=..&capacity=..&msgsize=..&policy=block|overwrite&create&mode=..
#include "endpoint/uri_parse.hpp"

#include <utility>

namespace ipckit::detail {

namespace {

constexpr std::size_t kMaxChanName = 200;  // as ipckit::Channel: name + ".chan" under NAME_MAX

Result<std::string> parse_chan_name(std::string_view addr, const Failer& fail) {
    IPCKIT_TRY_ASSIGN(std::string name, decode(addr, "channel name", fail));
    if (name.size() > kMaxChanName) {
        return fail("channel name is " + std::to_string(name.size()) + " bytes; at most " +
                        std::to_string(kMaxChanName),
                    std::errc::filename_too_long);
    }
    if (name.front() == '.') {
        return fail("channel name '" + shown(name, 40) + "' must not start with '.'");
    }
    for (char c : name) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
        if (!ok) {
            std::string bad = c == '/' ? "'/'" : "'" + shown(std::string_view(&c, 1)) + "'";
            return fail("channel name '" + shown(name, 40) + "' contains " + bad +
                        " (allowed: letters, digits, '.', '_', '-')");
        }
    }
    return name;
}

}  // namespace

Result<Uri::Address> parse_chan(std::string_view addr, Options& opts, const Failer& fail) {
    ChanUri u;
    IPCKIT_TRY_ASSIGN(u.name, parse_chan_name(addr, fail));
    IPCKIT_TRY_ASSIGN(std::optional<std::string> dir, opts.raw("dir", fail));
    if (dir) {
        if (!dir->starts_with('/')) {
            return fail("option dir '" + shown(*dir, 60) + "' must be an absolute path");
        }
        u.dir = std::move(*dir);
    }
    IPCKIT_TRY(opts.read_size("capacity", u.capacity, fail));
    IPCKIT_TRY(opts.read_size("msgsize", u.max_message_size, fail));
    IPCKIT_TRY_ASSIGN(const std::optional<std::string> policy, opts.raw("policy", fail));
    if (policy) {
        if (*policy == "overwrite") {
            u.overwrite = true;
        } else if (*policy != "block") {
            return fail("option policy '" + shown(*policy, 20) + "' must be block or overwrite");
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

}  // namespace ipckit::detail
