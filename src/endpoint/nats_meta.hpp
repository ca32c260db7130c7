// SPDX-License-Identifier: MIT
// Private to src/ (the nats:// endpoint and the bridge): the one NATS header that carries
// ipckit's metadata, `Ipckit: o=<origin>;s=<seq>;p=<pid>;P=<prio>;t=<type>;l=<lane>`. One header
// instead of one per field: libnats builds and parses a hash of headers per message, and its
// cost grows with their count (docs/design/bridge.md).
#pragma once

#include "ipckit/core/units.hpp"

#include <sys/types.h>

#include <climits>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ipckit::detail {

inline constexpr const char* kNatsMetaHeader = "Ipckit";
/// A longer value is not one of ours: ignored whole (and nothing is allocated from it).
inline constexpr std::size_t kMaxNatsMetaLength = 256;
/// An origin id longer than this, or with other than [0-9A-Za-z_-], is ignored.
inline constexpr std::size_t kMaxNatsOriginLength = 64;
inline constexpr std::int64_t kMaxNatsMqPriority = 32767;

/// The fields of one `Ipckit` header; each missing or malformed one is empty.
struct NatsMeta {
    std::string_view origin;  ///< a view into the parsed value
    std::optional<std::uint64_t> seq;
    std::optional<pid_t> pid;
    std::optional<unsigned> priority;
    std::optional<long> type;
    std::optional<std::uint32_t> lane;
};

/// Appends `key=n;` to `out`.
inline void append_nats_field(std::string& out, char key, std::uint64_t n) {
    char digits[20];
    std::size_t i = sizeof digits;
    do {
        digits[--i] = static_cast<char>('0' + n % 10);
        n /= 10;
    } while (n != 0);
    out += key;
    out += '=';
    out.append(digits + i, sizeof digits - i);
    out += ';';
}

inline bool valid_nats_origin(std::string_view o) {
    if (o.empty() || o.size() > kMaxNatsOriginLength) {
        return false;
    }
    for (const char c : o) {
        const bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
                        (c >= 'A' && c <= 'Z') || c == '-' || c == '_';
        if (!ok) {
            return false;
        }
    }
    return true;
}

/// The fields of `value`: `;`-separated `k=v`, each number parsed bounded; unknown keys,
/// malformed fields, and a value over kMaxNatsMetaLength (all of it) ignored. A repeated key:
/// the last valid one counts.
inline NatsMeta parse_nats_meta(std::string_view value) {
    NatsMeta m;
    if (value.size() > kMaxNatsMetaLength) {
        return m;
    }
    while (!value.empty()) {
        const std::size_t end = std::min(value.find(';'), value.size());
        const std::string_view field = value.substr(0, end);
        value.remove_prefix(std::min(end + 1, value.size()));
        if (field.size() < 2 || field[1] != '=') {
            continue;
        }
        const std::string_view v = field.substr(2);
        switch (field[0]) {
            case 'o':
                if (valid_nats_origin(v)) {
                    m.origin = v;
                }
                break;
            case 's':
                if (const auto n = parse_integer(v, 1, INT64_MAX)) {
                    m.seq = static_cast<std::uint64_t>(*n);
                }
                break;
            case 'p':
                if (const auto n = parse_integer(v, 1, INT_MAX)) {
                    m.pid = static_cast<pid_t>(*n);
                }
                break;
            case 'P':
                if (const auto n = parse_integer(v, 0, kMaxNatsMqPriority)) {
                    m.priority = static_cast<unsigned>(*n);
                }
                break;
            case 't':
                if (const auto n = parse_integer(v, 1, LONG_MAX)) {
                    m.type = static_cast<long>(*n);
                }
                break;
            case 'l':
                if (const auto n = parse_integer(v, 0, UINT32_MAX)) {
                    m.lane = static_cast<std::uint32_t>(*n);
                }
                break;
            default:
                break;  // a later version's field
        }
    }
    return m;
}

}  // namespace ipckit::detail
