// SPDX-License-Identifier: MIT
// Private to the URI parser (src/endpoint/uri*.cpp): the shared text parsers (escapes, numbers,
// options) and one address parser per scheme family. uri.cpp splits a URI into scheme, address
// and options and calls the family's parser; uri_text.cpp has the shared parts.
#pragma once

#include "ipckit/core/result.hpp"
#include "ipckit/endpoint/uri.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace ipckit::detail {

/// Printable, bounded rendering of user text for one-line errors.
std::string shown(std::string_view text, std::size_t limit = 96);

/// "a, b, c".
std::string join(const std::vector<std::string_view>& items);

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

/// %XX decoding; `what` names the part in errors ("path", "option mode").
Result<std::string> decode(std::string_view in, std::string_view what, const Failer& fail);

/// Only decimal digits, at least one.
bool all_digits(std::string_view s);

/// A decimal (or 0x hex, optionally negative) integer in [lo, hi]; `what` names it in errors.
Result<long long> parse_uri_integer(
    std::string_view s, long long lo, long long hi, std::string_view what, const Failer& fail);

/// A size with an optional binary suffix: 4096, 64k, 16M, 1G (at most 64 TiB).
Result<std::size_t> parse_uri_size(std::string_view s, std::string_view what, const Failer& fail);

/// The "?a=1&b" part: checked against the scheme's option list, then read by type.
class Options {
public:
    struct Item {
        std::string key;
        std::string value;
        bool has_value = false;
        bool used = false;
    };

    static Result<Options> parse(std::string_view query, UriScheme scheme, const Failer& fail);

    /// The raw value of `key` if given; a key given without '=' is an error unless `flag`.
    Result<std::optional<std::string>> raw(std::string_view key,
                                           const Failer& fail,
                                           bool flag = false);

    Result<void> read_bool(std::string_view key, bool& out, const Failer& fail);

    template <class T>
    Result<void> read_int(std::string_view key,
                          long long lo,
                          long long hi,
                          std::optional<T>& out,
                          const Failer& fail) {
        IPCKIT_TRY_ASSIGN(const auto v, raw(key, fail));
        if (v) {
            IPCKIT_TRY_ASSIGN(const long long n,
                              parse_uri_integer(*v, lo, hi, "option " + std::string(key), fail));
            out = static_cast<T>(n);
        }
        return {};
    }

    Result<void> read_size(std::string_view key,
                           std::optional<std::size_t>& out,
                           const Failer& fail);
    Result<void> read_mode(std::optional<Permissions>& out, const Failer& fail);
    Result<void> read_create(CreateOptions& out, const Failer& fail);

private:
    std::vector<Item> items_;
};

/// mq:/NAME, shm:/NAME, sem:/NAME: a decoded, validated POSIX name.
Result<PosixName> parse_posix_name(std::string_view addr, const Failer& fail);
/// KEY | ftok:PATH:ID | id:ID | private, without resolving anything (ftok runs at open).
Result<SysvAddress> parse_sysv_address(std::string_view addr, const Failer& fail);

// One parser per scheme family: the address (after "SCHEME:", before '?') and its options.
// uri_stream.cpp
Result<Uri::Address> parse_fifo(std::string_view addr, Options& opts, const Failer& fail);
// uri_message.cpp
Result<Uri::Address> parse_posix_mq(std::string_view addr, Options& opts, const Failer& fail);
Result<Uri::Address> parse_sysv_mq(std::string_view addr, Options& opts, const Failer& fail);
// uri_socket.cpp
Result<Uri::Address> parse_unix(UriScheme scheme,
                                std::string_view addr,
                                Options& opts,
                                const Failer& fail);
Result<Uri::Address> parse_inet(UriScheme scheme,
                                std::string_view addr,
                                Options& opts,
                                const Failer& fail);
/// `rest` is what follows "nats://" (nats takes no options).
Result<Uri::Address> parse_nats(std::string_view rest, const Failer& fail);
// uri_shm.cpp
Result<Uri::Address> parse_posix_shm(std::string_view addr, Options& opts, const Failer& fail);
Result<Uri::Address> parse_sysv_shm(std::string_view addr, Options& opts, const Failer& fail);
// uri_sync.cpp
Result<Uri::Address> parse_posix_sem(std::string_view addr, Options& opts, const Failer& fail);
Result<Uri::Address> parse_sysv_sem(std::string_view addr, Options& opts, const Failer& fail);
// uri_channel.cpp
Result<Uri::Address> parse_chan(std::string_view addr, Options& opts, const Failer& fail);
Result<Uri::Address> parse_event(std::string_view addr, Options& opts, const Failer& fail);
Result<Uri::Address> parse_srv(std::string_view addr, Options& opts, const Failer& fail);

}  // namespace ipckit::detail
