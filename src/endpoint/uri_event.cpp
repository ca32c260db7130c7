// SPDX-License-Identifier: MIT
// URI addresses of event files: event:NAME?dir=PATH (names as channel names: the file is
// NAME.event beside the channels).
#include "endpoint/uri_parse.hpp"

#include <utility>

namespace ipckit::detail {

namespace {
constexpr std::size_t kMaxEventName = 200;  // as ipckit::Event: name + ".event" under NAME_MAX
}  // namespace

Result<Uri::Address> parse_event(std::string_view addr, Options& opts, const Failer& fail) {
    EventUri u;
    IPCKIT_TRY_ASSIGN(u.name, decode(addr, "event name", fail));
    if (u.name.size() > kMaxEventName) {
        return fail("event name is " + std::to_string(u.name.size()) + " bytes; at most " +
                        std::to_string(kMaxEventName),
                    std::errc::filename_too_long);
    }
    if (u.name.front() == '.') {
        return fail("event name '" + shown(u.name, 40) + "' must not start with '.'");
    }
    for (char c : u.name) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
        if (!ok) {
            return fail("event name '" + shown(u.name, 40) + "' contains '" +
                        shown(std::string_view(&c, 1)) +
                        "' (allowed: letters, digits, '.', '_', '-')");
        }
    }
    IPCKIT_TRY_ASSIGN(std::optional<std::string> dir, opts.raw("dir", fail));
    if (dir) {
        if (!dir->starts_with('/')) {
            return fail("option dir '" + shown(*dir, 60) + "' must be an absolute path");
        }
        u.dir = std::move(*dir);
    }
    return Uri::Address(std::move(u));
}

}  // namespace ipckit::detail
