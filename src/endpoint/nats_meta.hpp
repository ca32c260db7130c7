// SPDX-License-Identifier: MIT
// Private to src/ (the nats:// endpoint and the bridge): the one NATS header that carries
// ipckit's metadata, `Ipckit: o=<origin>;s=<seq>;p=<pid>;P=<prio>;t=<type>;l=<lane>`. One header
// instead of one per field: libnats builds and parses a hash of headers per message, and its
// cost grows with their count (docs/design/bridge.md).
#pragma once

#include "ipckit/core/units.hpp"

#include <sys/types.h>

#include <algorithm>
#include <array>
#include <charconv>
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
    std::array<char, 20> digits{};
    const auto r = std::to_chars(digits.data(), digits.data() + digits.size(), n);
    out += key;
    out += '=';
    out.append(digits.data(), r.ptr);
    out += ';';
}

inline bool valid_nats_origin(std::string_view o) {
    return !o.empty() && o.size() <= kMaxNatsOriginLength && std::ranges::all_of(o, [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
               c == '-' || c == '_';
    });
}

/// The numeric fields: key and bounds; parse_nats_meta keeps them in this order.
struct NatsNumberField {
    char key;
    std::int64_t min;
    std::int64_t max;
};
inline constexpr std::array<NatsNumberField, 5> kNatsNumberFields{{
    {'s', 1, INT64_MAX},
    {'p', 1, INT_MAX},
    {'P', 0, kMaxNatsMqPriority},
    {'t', 1, LONG_MAX},
    {'l', 0, UINT32_MAX},
}};

template <typename T>
std::optional<T> narrowed(const std::optional<std::int64_t>& n) {
    return n ? std::optional<T>(static_cast<T>(*n)) : std::nullopt;
}

/// The fields of `value`: `;`-separated `k=v`, each number parsed bounded; unknown keys,
/// malformed fields, and a value over kMaxNatsMetaLength (all of it) ignored. A repeated key:
/// the last valid one counts. `only_origin_and_seq`: the other fields are left empty unparsed
/// (a bridge whose sink restores no metadata needs only these two, per message).
inline NatsMeta parse_nats_meta(std::string_view value, bool only_origin_and_seq = false) {
    NatsMeta m;
    if (value.size() > kMaxNatsMetaLength) {
        return m;
    }
    std::array<std::optional<std::int64_t>, kNatsNumberFields.size()> numbers{};
    while (!value.empty()) {
        const std::size_t end = std::min(value.find(';'), value.size());
        const std::string_view field = value.substr(0, end);
        value.remove_prefix(std::min(end + 1, value.size()));
        if (field.size() < 2 || field[1] != '=') {
            continue;
        }
        const std::string_view v = field.substr(2);
        if (field[0] == 'o') {
            if (valid_nats_origin(v)) {
                m.origin = v;
            }
            continue;
        }
        if (only_origin_and_seq && field[0] != 's') {
            continue;
        }
        for (std::size_t i = 0; i < kNatsNumberFields.size(); ++i) {
            const NatsNumberField& f = kNatsNumberFields.at(i);
            if (field[0] == f.key) {
                if (const auto n = parse_integer(v, f.min, f.max)) {
                    numbers.at(i) = *n;
                }
            }
        }  // any other key: a later version's field
    }
    m.seq = narrowed<std::uint64_t>(numbers[0]);
    m.pid = narrowed<pid_t>(numbers[1]);
    m.priority = narrowed<unsigned>(numbers[2]);
    m.type = narrowed<long>(numbers[3]);
    m.lane = narrowed<std::uint32_t>(numbers[4]);
    return m;
}

}  // namespace ipckit::detail
