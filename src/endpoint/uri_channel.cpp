// SPDX-License-Identifier: MIT
// URI addresses of zero-copy channels and of the services built on them:
// chan:NAME?dir=..&capacity=..&msgsize=..&policy=block|overwrite&group=G&create&mode=..
// srv:NAME?dir=..
#include "endpoint/uri_parse.hpp"

#include <utility>

namespace ipckit::detail {

namespace {

constexpr std::size_t kMaxChanName = 200;  // as ipckit::Channel: name + ".chan" under NAME_MAX
constexpr std::size_t kMaxSrvName = 180;   // as ipckit::Server: room for ".srv-rsp255"
constexpr std::size_t kMaxGroupName = 63;  // as ipckit::GroupConsumer (the file's name field)

bool name_char(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
}

/// `what` is "channel name" or "service name" (the same rules: a service is channels).
Result<std::string> parse_chan_name(std::string_view addr,
                                    const Failer& fail,
                                    const std::string& what = "channel name",
                                    std::size_t max = kMaxChanName) {
    IPCKIT_TRY_ASSIGN(std::string name, decode(addr, what, fail));
    if (name.size() > max) {
        return fail(
            what + " is " + std::to_string(name.size()) + " bytes; at most " + std::to_string(max),
            std::errc::filename_too_long);
    }
    if (name.front() == '.') {
        return fail(what + " '" + shown(name, 40) + "' must not start with '.'");
    }
    for (char c : name) {
        if (!name_char(c)) {
            std::string msg = what;
            msg += " '" + shown(name, 40) + "' contains ";
            msg += c == '/' ? "'/'" : "'" + shown(std::string_view(&c, 1)) + "'";
            msg += " (allowed: letters, digits, '.', '_', '-')";
            return fail(msg);
        }
    }
    return name;
}

/// ?dir=PATH (absolute) into `out`.
Result<void> read_dir(Options& opts, const Failer& fail, std::optional<std::string>& out) {
    IPCKIT_TRY_ASSIGN(std::optional<std::string> dir, opts.raw("dir", fail));
    if (dir) {
        if (!dir->starts_with('/')) {
            return fail("option dir '" + shown(*dir, 60) + "' must be an absolute path");
        }
        out = std::move(*dir);
    }
    return {};
}

/// ?group=G (a work-queue group name, as GroupConsumer's) into `out`.
Result<void> read_group(Options& opts, const Failer& fail, std::optional<std::string>& out) {
    IPCKIT_TRY_ASSIGN(std::optional<std::string> group, opts.raw("group", fail));
    if (!group) {
        return {};
    }
    if (group->empty() || group->size() > kMaxGroupName) {
        return fail("option group '" + shown(*group, 70) + "' must be 1.." +
                    std::to_string(kMaxGroupName) + " characters");
    }
    for (char c : *group) {
        if (!name_char(c)) {
            return fail("option group '" + shown(*group, 70) + "' contains '" +
                        shown(std::string_view(&c, 1)) +
                        "' (allowed: letters, digits, '.', '_', '-')");
        }
    }
    out = std::move(*group);
    return {};
}

}  // namespace

Result<Uri::Address> parse_chan(std::string_view addr, Options& opts, const Failer& fail) {
    ChanUri u;
    IPCKIT_TRY_ASSIGN(u.name, parse_chan_name(addr, fail));
    IPCKIT_TRY(read_dir(opts, fail, u.dir));
    IPCKIT_TRY(read_group(opts, fail, u.group));
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

Result<Uri::Address> parse_srv(std::string_view addr, Options& opts, const Failer& fail) {
    SrvUri u;
    IPCKIT_TRY_ASSIGN(u.name, parse_chan_name(addr, fail, "service name", kMaxSrvName));
    IPCKIT_TRY(read_dir(opts, fail, u.dir));
    return Uri::Address(std::move(u));
}

}  // namespace ipckit::detail
