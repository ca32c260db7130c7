// SPDX-License-Identifier: MIT
// Plumbing shared by ipckit send, recv and sem: URI parsing with exit codes, numeric options.
#pragma once

#include "cli.hpp"
#include "duration.hpp"
#include "ipckit/core/deadline.hpp"
#include "ipckit/core/open_mode.hpp"
#include "ipckit/core/ownership.hpp"
#include "ipckit/core/units.hpp"
#include "ipckit/endpoint/uri.hpp"

#include <charconv>
#include <chrono>
#include <cstdint>
#include <fmt/core.h>
#include <limits>
#include <optional>
#include <pwd.h>
#include <string>
#include <string_view>
#include <vector>

namespace ipckit::cli {

/// A System V id that names nothing: IPC_STAT answers EINVAL (EIDRM if it was just removed).
/// The URI was well-formed and the object is missing, so it is a failure, not bad input.
inline bool is_missing_sysv_id(const Error& e) {
    const std::string_view op = e.op();
    return (e.code() == std::errc::invalid_argument || e.code() == std::errc::identifier_removed) &&
           (op == "msgctl" || op == "semctl(IPC_STAT)" || op == "shmctl(IPC_STAT)");
}

/// The exit code an error maps to: an untrusted owner 4, bad input 2, timeout 3, else 1.
inline int exit_code_for(const Error& e) {
    if (is_untrusted_owner(e)) {
        return kExitRefused;  // checked first: it also compares equal to permission_denied
    }
    if (is_missing_sysv_id(e)) {
        return kExitFailure;
    }
    if (e.code() == std::errc::invalid_argument || e.code() == std::errc::not_supported ||
        e.code() == std::errc::filename_too_long) {
        return kExitUsage;
    }
    if (e.code() == std::errc::timed_out) {
        return kExitTimeout;
    }
    return kExitFailure;
}

/// True for the "no such object" error of an open that --create would have created instead
/// (send, recv and sem take --create; a missing socket or a missing directory is not that).
inline bool create_would_help(std::string_view sub, const Error& e) {
    const std::string_view op = e.op();
    return (sub == "send" || sub == "recv" || sub == "sem") &&
           e.code() == std::errc::no_such_file_or_directory &&
           (op == "mq_open" || op == "msgget" || op == "sem_open" || op == "semget" ||
            (op == "open" && e.message().find(".chan:") != std::string::npos) ||
            (op == "lstat" && sub != "sem"));  // fifo:PATH
}

/// Prints the error (with a hint for an untrusted owner or a missing object) and returns its
/// exit code.
inline int fail(const char* sub, const Error& e) {
    if (create_would_help(sub, e)) {
        fmt::print(stderr, "ipckit {}: {} (use --create to create it)\n", sub, e.message());
        return exit_code_for(e);
    }
    print_error(sub, e);
    if (is_untrusted_owner(e)) {
        fmt::print(stderr,
                   "ipckit {}: refused: another user could have planted it; if you trust its "
                   "owner, pass --trust-owner USER\n",
                   sub);
    }
    return exit_code_for(e);
}

/// Prints "ipckit SUB: TEXT" and returns 2.
inline int usage(const char* sub, const std::string& text) {
    fmt::print(stderr, "ipckit {}: {}\n", sub, text);
    return kExitUsage;
}

/// The service of `ipckit call` / `serve`: srv:NAME[?dir=PATH] (a bare NAME means srv:NAME).
/// Another scheme, a bad name or option: printed, and the exit code (2) returned.
inline std::optional<int> parse_service_uri(const char* sub, const std::string& text, SrvUri& out) {
    auto uri = Uri::parse(text.find(':') == std::string::npos ? "srv:" + text : text);
    if (!uri) {
        return fail(sub, uri.error());
    }
    const auto* s = uri->get_if<SrvUri>();
    if (s == nullptr) {
        return usage(sub, "'" + text + "' is not a service (expected srv:NAME)");
    }
    out = *s;
    return std::nullopt;
}

/// A whole-string decimal integer ("12", "-3"); nullopt on anything else.
inline std::optional<long long> parse_integer(std::string_view s) {
    const auto n = ipckit::parse_integer(s,
                                         std::numeric_limits<std::int64_t>::min(),
                                         std::numeric_limits<std::int64_t>::max(),
                                         {.sign = true});
    return n ? std::optional<long long>(*n) : std::nullopt;
}

/// An octal mode <= 0777 ("0640", "640").
inline std::optional<Permissions> parse_mode(std::string_view s) {
    unsigned v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 8);
    if (s.empty() || ec != std::errc() || p != s.data() + s.size() || v > 0777) {
        return std::nullopt;
    }
    return Permissions(v);
}

/// The help text of --trust-owner (send, recv, sem).
inline constexpr const char* kTrustOwnerHelp =
    "Also accept an existing object owned by USER (a name or uid; repeatable). By default one "
    "owned by another user is refused with exit 4: it could be a squatter's";

/// --trust-owner values (user names or uids) -> the Ownership policy. An unknown name or a
/// malformed uid is errc::invalid_argument (exit 2).
inline Result<Ownership> trusted_owners(const std::vector<std::string>& users) {
    Ownership o;
    for (const std::string& u : users) {
        if (const auto id = parse_integer(u)) {
            if (*id < 0 || *id >= static_cast<long long>(static_cast<uid_t>(-1))) {
                return Error(std::errc::invalid_argument, "--trust-owner", u, "not a valid uid");
            }
            o.trust(static_cast<uid_t>(*id));
            continue;
        }
        std::vector<char> buf(16384);
        passwd pw{};
        passwd* found = nullptr;
        if (u.empty() || ::getpwnam_r(u.c_str(), &pw, buf.data(), buf.size(), &found) != 0 ||
            found == nullptr) {
            return Error(std::errc::invalid_argument, "--trust-owner", u, "no such user");
        }
        o.trust(found->pw_uid);
    }
    return o;
}

/// --timeout TEXT -> a deadline (0 = now, i.e. poll once). Not given: never. An empty TEXT
/// (`--timeout ''`) is bad input like any other malformed duration, never "wait for ever".
inline Result<Deadline> timeout_deadline(const std::optional<std::string>& text) {
    if (!text) {
        return Deadline::never();
    }
    IPCKIT_TRY_ASSIGN(const std::chrono::nanoseconds d, parse_duration(*text));
    return d.count() == 0 ? Deadline::now() : Deadline::after(d);
}

}  // namespace ipckit::cli
