// SPDX-License-Identifier: MIT
// The one parser for every --timeout / duration argument of the ipckit command.
#pragma once

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <string>
#include <string_view>

#include "ipckit/core/result.hpp"

namespace ipckit::cli {

/// Parses "1.5s", "250ms", "10us", "100ns", "2m", "1h", "0" and a bare number of seconds ("1.5").
/// 0 means "poll once". Negative, empty, malformed or unit-less garbage is errc::invalid_argument
/// naming the text (exit 2); values too large for nanoseconds saturate to nanoseconds::max(),
/// which Deadline::after() turns into never() (A09: no timespec overflow).
inline Result<std::chrono::nanoseconds> parse_duration(std::string_view text) {
    const auto bad = [&](const char* why) {
        return Error(std::errc::invalid_argument, "duration", "'" + std::string(text.substr(0, 40)) + "'",
                     why);
    };
    std::string_view s = text;
    if (s.empty()) {
        return bad("is empty (e.g. 1.5s, 250ms, 0)");
    }
    if (s.front() == '-') {
        return bad("must not be negative");
    }
    std::size_t i = 0;
    while (i < s.size() && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.')) {
        ++i;
    }
    // An exponent ("1e30") is allowed: a huge value saturates below.
    if (i > 0 && i + 1 < s.size() && (s[i] == 'e' || s[i] == 'E')) {
        std::size_t j = i + 1;
        if (s[j] == '+' || s[j] == '-') {
            ++j;
        }
        if (j < s.size() && s[j] >= '0' && s[j] <= '9') {
            while (j < s.size() && s[j] >= '0' && s[j] <= '9') {
                ++j;
            }
            i = j;
        }
    }
    const std::string_view number = s.substr(0, i);
    const std::string_view unit = s.substr(i);
    if (number.empty() || number.front() == '.' || number.front() == 'e' ||
        std::count(number.begin(), number.end(), '.') > 1) {
        return bad("is not a number with a unit (e.g. 1.5s, 250ms, 0)");
    }
    double value = 0;
    auto [p, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
    if (p != number.data() + number.size() ||
        (ec != std::errc() && ec != std::errc::result_out_of_range)) {
        return bad("is not a number with a unit (e.g. 1.5s, 250ms, 0)");
    }
    double scale = 0;
    if (unit.empty() || unit == "s") {
        scale = 1e9;
    } else if (unit == "ms") {
        scale = 1e6;
    } else if (unit == "us") {
        scale = 1e3;
    } else if (unit == "ns") {
        scale = 1;
    } else if (unit == "m" || unit == "min") {
        scale = 60e9;
    } else if (unit == "h") {
        scale = 3600e9;
    } else {
        return bad("has an unknown unit (use ns, us, ms, s, m or h)");
    }
    const double ns = ec == std::errc::result_out_of_range ? HUGE_VAL : value * scale;
    if (!std::isfinite(ns) || ns >= static_cast<double>(std::chrono::nanoseconds::max().count())) {
        return std::chrono::nanoseconds::max();  // saturates: "wait forever"
    }
    return std::chrono::nanoseconds(static_cast<std::chrono::nanoseconds::rep>(ns));
}

}  // namespace ipckit::cli
