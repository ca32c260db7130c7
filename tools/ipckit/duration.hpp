// SPDX-License-Identifier: MIT
// Every --timeout / duration argument of the ipckit command: ipckit::parse_duration
// (ipckit/core/units.hpp) with the command's one-line errors.
#pragma once

#include "ipckit/core/result.hpp"
#include "ipckit/core/units.hpp"

#include <chrono>
#include <fmt/core.h>
#include <string>
#include <string_view>

namespace ipckit::cli {

/// Parses "1.5s", "250ms", "10us", "100ns", "2m", "1h", "0" and a bare number of seconds ("1.5").
/// 0 means "poll once". Negative, empty, malformed or unit-less garbage is errc::invalid_argument
/// naming the text (exit 2); values too large for nanoseconds saturate to nanoseconds::max(),
/// which Deadline::after() turns into never() (A09: no timespec overflow).
inline Result<std::chrono::nanoseconds> parse_duration(std::string_view text) {
    const auto d = ipckit::parse_duration(text);
    if (d) {
        return *d;
    }
    const char* why = "is not a number with a unit (e.g. 1.5s, 250ms, 0)";
    switch (d.error()) {
        case ParseError::Empty:
            why = "is empty (e.g. 1.5s, 250ms, 0)";
            break;
        case ParseError::Negative:
            why = "must not be negative";
            break;
        case ParseError::UnknownUnit:
            why = "has an unknown unit (use ns, us, ms, s, m or h)";
            break;
        case ParseError::NotANumber:
        case ParseError::OutOfRange:  // never: a duration saturates
            break;
    }
    return Error(
        std::errc::invalid_argument, "duration", "'" + std::string(text.substr(0, 40)) + "'", why);
}

/// A duration for people, with its unit: "0.5 s", "2 s", "90 s", "250 us", "100 ns" (seconds
/// from 1 ms up, so "timed out after 0.5 s" reads the same whatever the user typed).
inline std::string format_duration(std::chrono::nanoseconds d) {
    using std::chrono::duration;
    if (d >= std::chrono::milliseconds(1)) {
        return fmt::format("{:g} s", duration<double>(d).count());
    }
    if (d >= std::chrono::microseconds(1)) {
        return fmt::format("{:g} us", duration<double, std::micro>(d).count());
    }
    return fmt::format("{} ns", d.count());
}

}  // namespace ipckit::cli
