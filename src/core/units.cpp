// SPDX-License-Identifier: MIT
#include "ipckit/core/units.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <system_error>

namespace ipckit {

namespace {

constexpr std::uint64_t kU64Max = std::numeric_limits<std::uint64_t>::max();
constexpr std::uint64_t kI64Max = std::numeric_limits<std::int64_t>::max();

int digit_value(char c, unsigned base) noexcept {
    int d = -1;
    if (c >= '0' && c <= '9') {
        d = c - '0';
    } else if (c >= 'a' && c <= 'f') {
        d = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
        d = c - 'A' + 10;
    }
    return d >= 0 && static_cast<unsigned>(d) < base ? d : -1;
}

/// The integer at the start of a text: sign, 0x, digits (whatever follows is the caller's).
struct ScannedInteger {
    bool negative = false;
    bool has_digits = false;
    bool overflow = false;  ///< beyond 64 bits; magnitude is then meaningless
    std::uint64_t magnitude = 0;
    std::size_t end = 0;  ///< where the number stops
};

ScannedInteger scan_integer(std::string_view s, NumberSyntax syntax) noexcept {
    ScannedInteger r;
    std::size_t i = 0;
    if (syntax.sign && i < s.size() && s[i] == '-') {
        r.negative = true;
        ++i;
    }
    unsigned base = 10;
    if (syntax.hex && s.size() - i >= 2 && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X')) {
        base = 16;
        i += 2;
    }
    const std::size_t first = i;
    for (; i < s.size(); ++i) {
        const int d = digit_value(s[i], base);
        if (d < 0) {
            break;
        }
        const auto digit = static_cast<std::uint64_t>(d);
        if (r.magnitude > (kU64Max - digit) / base) {
            r.overflow = true;  // keep scanning: the text may still be malformed further on
        } else {
            r.magnitude = r.magnitude * base + digit;
        }
    }
    r.has_digits = i > first;
    r.end = i;
    return r;
}

bool equal_ignoring_case(std::string_view a, std::string_view b) noexcept {
    const auto lower = [](char c) {
        return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
    };
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [&](char x, char y) {
               return lower(x) == lower(y);
           });
}

bool is_digit(char c) noexcept {
    return c >= '0' && c <= '9';
}

/// Where the decimal number at the start of `s` ends: digits and dots, then an exponent if one
/// with digits follows ("1e30", "2E-3"); the caller checks the shape.
std::size_t decimal_end(std::string_view s) noexcept {
    std::size_t i = 0;
    while (i < s.size() && (is_digit(s[i]) || s[i] == '.')) {
        ++i;
    }
    if (i == 0 || i + 1 >= s.size() || (s[i] != 'e' && s[i] != 'E')) {
        return i;
    }
    std::size_t j = i + 1;
    if (s[j] == '+' || s[j] == '-') {
        ++j;
    }
    if (j >= s.size() || !is_digit(s[j])) {
        return i;  // "1e", "1e+": the 'e' is left for the unit, which refuses it
    }
    while (j < s.size() && is_digit(s[j])) {
        ++j;
    }
    return j;
}

/// Whether a decimal that from_chars found out of range is too small rather than too large:
/// result_out_of_range means both. The power of ten of its first significant digit decides (out
/// of range it is past -300 or +300, so saturating a huge exponent changes nothing).
bool underflows(std::string_view number) noexcept {
    constexpr long long kFar = 1'000'000'000;
    const std::size_t e = number.find_first_of("eE");
    const std::string_view mantissa = number.substr(0, e);
    const std::size_t dot = std::min(mantissa.find('.'), mantissa.size());
    const std::size_t first = mantissa.find_first_of("123456789");
    if (first == std::string_view::npos) {
        return true;  // zero
    }
    long long power = first < dot ? static_cast<long long>(dot - first - 1)
                                  : -static_cast<long long>(first - dot);
    if (e != std::string_view::npos) {
        std::string_view exponent = number.substr(e + 1);
        const bool negative = exponent.starts_with('-');
        if (negative || exponent.starts_with('+')) {
            exponent.remove_prefix(1);
        }
        long long magnitude = 0;
        for (const char c : exponent) {
            magnitude = std::min(kFar, magnitude * 10 + (c - '0'));
        }
        power += negative ? -magnitude : magnitude;
    }
    return power < 0;
}

constexpr std::uint64_t kNanosPerSecond = 1'000'000'000;
constexpr Unit kDurationUnits[] = {
    {"", kNanosPerSecond},
    {"s", kNanosPerSecond},
    {"ms", 1'000'000},
    {"us", 1'000},
    {"ns", 1},
    {"m", 60 * kNanosPerSecond},
    {"min", 60 * kNanosPerSecond},
    {"h", 3600 * kNanosPerSecond},
};

}  // namespace

std::string_view describe(ParseError error) noexcept {
    switch (error) {
        case ParseError::Empty:
            return "is empty";
        case ParseError::Negative:
            return "must not be negative";
        case ParseError::NotANumber:
            return "is not a number";
        case ParseError::UnknownUnit:
            return "has an unknown unit";
        case ParseError::OutOfRange:
            return "is out of range";
    }
    return "is not valid";
}

Parsed<std::int64_t> parse_integer(std::string_view text,
                                   std::int64_t min,
                                   std::int64_t max,
                                   NumberSyntax syntax) noexcept {
    if (text.empty()) {
        return ParseError::Empty;
    }
    const ScannedInteger n = scan_integer(text, syntax);
    if (!n.has_digits || n.end != text.size()) {
        return ParseError::NotANumber;
    }
    // -2^63 is the one magnitude beyond kI64Max that fits (as a negative).
    if (n.overflow || n.magnitude > kI64Max + (n.negative ? 1 : 0)) {
        return ParseError::OutOfRange;
    }
    const std::int64_t value = !n.negative             ? static_cast<std::int64_t>(n.magnitude)
                               : n.magnitude > kI64Max ? std::numeric_limits<std::int64_t>::min()
                                                       : -static_cast<std::int64_t>(n.magnitude);
    if (value < min || value > max) {
        return ParseError::OutOfRange;
    }
    return value;
}

Parsed<std::uint64_t> parse_size(std::string_view text,
                                 std::span<const Unit> units,
                                 std::uint64_t max,
                                 NumberSyntax syntax) noexcept {
    if (text.empty()) {
        return ParseError::Empty;
    }
    const ScannedInteger n = scan_integer(text, syntax);
    if (!n.has_digits) {
        return ParseError::NotANumber;
    }
    const std::string_view suffix = text.substr(n.end);
    const auto unit = std::find_if(units.begin(), units.end(), [&](const Unit& u) {
        return equal_ignoring_case(u.suffix, suffix);
    });
    if (unit == units.end()) {
        return ParseError::UnknownUnit;
    }
    if (n.negative && (n.overflow || n.magnitude != 0)) {
        return ParseError::Negative;  // "-0" is zero
    }
    // Checked before multiplying, which would wrap ("18014398509481985K" is not 1024).
    if (n.overflow || unit->factor == 0 || n.magnitude > max / unit->factor) {
        return ParseError::OutOfRange;
    }
    return n.magnitude * unit->factor;
}

Parsed<std::chrono::nanoseconds> parse_duration(std::string_view text) noexcept {
    if (text.empty()) {
        return ParseError::Empty;
    }
    if (text.front() == '-') {
        return ParseError::Negative;
    }
    const std::size_t end = decimal_end(text);  // "1e30" is allowed: a huge value saturates below
    const std::string_view number = text.substr(0, end);
    const std::string_view suffix = text.substr(end);
    if (number.empty() || number.front() == '.' ||
        std::count(number.begin(), number.end(), '.') > 1) {
        return ParseError::NotANumber;
    }
    double value = 0;
    const auto [p, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
    if (p != number.data() + number.size() ||
        (ec != std::errc() && ec != std::errc::result_out_of_range)) {
        return ParseError::NotANumber;
    }
    const auto* unit = std::find_if(std::begin(kDurationUnits),
                                    std::end(kDurationUnits),
                                    [&](const Unit& u) { return u.suffix == suffix; });
    if (unit == std::end(kDurationUnits)) {
        return ParseError::UnknownUnit;
    }
    using Nanos = std::chrono::nanoseconds;
    if (ec == std::errc::result_out_of_range && underflows(number)) {
        return Nanos(0);  // "1e-400": less than a nanosecond, so poll once like "0"
    }
    const double ns =
        ec == std::errc::result_out_of_range ? HUGE_VAL : value * static_cast<double>(unit->factor);
    if (!std::isfinite(ns) || ns >= static_cast<double>(Nanos::max().count())) {
        return Nanos::max();  // saturates: "wait for ever"
    }
    return Nanos(static_cast<Nanos::rep>(ns));
}

}  // namespace ipckit
