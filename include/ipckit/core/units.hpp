// SPDX-License-Identifier: MIT
// Numbers, sizes and durations as people write them ("0x11eb", "64k", "1.5s"): the one parser
// behind URI options, the ipckit command's arguments and `ipckit bench --sizes`.
#pragma once

#include "ipckit/core/assert.hpp"
#include "ipckit/export.hpp"

#include <chrono>
#include <cstdint>
#include <span>
#include <string_view>

namespace ipckit {

/// Why a text was refused. The parsers word no message: a URI names its option, the command line
/// its flag, so each caller turns the reason into its own one-line error.
enum class ParseError : std::uint8_t {
    Empty,        ///< ""
    Negative,     ///< a '-' on a size or a duration
    NotANumber,   ///< no digits where the number must be, or characters the grammar lacks
    UnknownUnit,  ///< a number followed by a suffix that is none of the units
    OutOfRange,   ///< well formed, but outside the allowed range (or beyond 64 bits)
};

/// "is empty", "is not a number", ...: a default wording for callers with nothing better.
IPCKIT_API std::string_view describe(ParseError error) noexcept;

/// A parsed value, or why the text was refused. Parsing allocates nothing and builds no Error:
/// the caller knows what the text was (an option, a flag) and words the message.
template <class T>
class [[nodiscard]] Parsed {
public:
    // NOLINTBEGIN(google-explicit-constructor,hicpp-explicit-conversions): like Result's
    constexpr Parsed(T value) noexcept : value_(value) {}
    constexpr Parsed(ParseError error) noexcept : error_(error), ok_(false) {}
    // NOLINTEND(google-explicit-constructor,hicpp-explicit-conversions)

    [[nodiscard]] constexpr bool has_value() const noexcept { return ok_; }
    constexpr explicit operator bool() const noexcept { return ok_; }
    /// The value (a contract violation on a refused text).
    [[nodiscard]] constexpr const T& operator*() const noexcept {
        IPCKIT_ASSERT(ok_, "value of a refused Parsed");
        return value_;
    }
    [[nodiscard]] constexpr const T* operator->() const noexcept { return &**this; }
    /// The reason (meaningful only when !has_value()).
    [[nodiscard]] constexpr ParseError error() const noexcept { return error_; }

private:
    T value_{};
    ParseError error_ = ParseError::NotANumber;
    bool ok_ = true;
};

/// What an integer may be written with beyond decimal digits. Never a '+', blanks or separators.
struct IPCKIT_API NumberSyntax {
    bool sign = false;  ///< a leading '-' ("-3", "-0"); the range decides whether < 0 is allowed
    bool hex = false;   ///< "0x1f" / "0X1F" (after the sign: "-0x10")
};

/// One unit of a number with units: its suffix ("" for a bare number) and what it multiplies by.
struct IPCKIT_API Unit {
    std::string_view suffix;
    std::uint64_t factor = 1;
};

/// Size suffixes of one letter, binary: "", k, m, g in any case (URI options: `size=64k`).
inline constexpr Unit kSizeLetters[] = {
    {"", 1}, {"k", 1ULL << 10}, {"m", 1ULL << 20}, {"g", 1ULL << 30}};
/// Size units with a byte sign, binary, any case: "", B, K, KB, KiB, M, MB, MiB
/// (`ipckit bench --sizes 64,4K,1MiB`).
inline constexpr Unit kSizeBytes[] = {{"", 1},
                                      {"b", 1},
                                      {"k", 1ULL << 10},
                                      {"kb", 1ULL << 10},
                                      {"kib", 1ULL << 10},
                                      {"m", 1ULL << 20},
                                      {"mb", 1ULL << 20},
                                      {"mib", 1ULL << 20}};

/// The whole of `text` as an integer in [min, max]: decimal digits, with `syntax` also a sign and
/// 0x hex ("0x11eb", "-3"). Leading zeros are fine ("007"). Refused: Empty, NotANumber (no digits,
/// anything else in the text, blanks included), OutOfRange (outside [min, max] or 64 bits).
IPCKIT_API Parsed<std::int64_t> parse_integer(std::string_view text,
                                              std::int64_t min,
                                              std::int64_t max,
                                              NumberSyntax syntax = {}) noexcept;

/// A byte count: an integer (as parse_integer) and then one of `units`, matched in any case
/// ("64k", "4KiB"), at most `max` bytes once scaled ("-0" is 0). Refused: Empty, NotANumber (no
/// digits first), Negative, UnknownUnit, OutOfRange (beyond `max` or 64 bits).
IPCKIT_API Parsed<std::uint64_t> parse_size(std::string_view text,
                                            std::span<const Unit> units,
                                            std::uint64_t max,
                                            NumberSyntax syntax = {}) noexcept;

/// A duration: a decimal number (fraction and exponent allowed: "1.5", "1e3") and one of ns, us,
/// ms, s, m or min, h; a bare number is seconds, "0" is zero. Values too large for nanoseconds
/// saturate to nanoseconds::max(), which Deadline::after() turns into never() (no overflow);
/// values under 1 ns are 0 (fractions of a nanosecond are cut off). Refused: Empty, Negative (any
/// leading '-'), NotANumber, UnknownUnit (units are lower case).
IPCKIT_API Parsed<std::chrono::nanoseconds> parse_duration(std::string_view text) noexcept;

}  // namespace ipckit
