// SPDX-License-Identifier: MIT
// How a bench Report is shown: the table on stdout, --json, --csv and the --svg chart.
#pragma once

#include "engine/engine.hpp"

#include <string>

namespace ipckit::bench {

/// The readable table: latency sorted by p50 with the ratio to the floor, throughput per size,
/// then errors and notes.
std::string format_table(const Report& report);
/// Machine facts, config and every figure, for tools (schema "ipckit-bench/1").
std::string format_json(const Report& report);
/// One line per transport, test and size, each carrying the machine facts.
std::string format_csv(const Report& report);
/// A self-contained SVG: latency per mechanism on a log axis (p50 bar, p99 whisker, p99.9 dot),
/// then throughput per message size as a heat map.
std::string format_svg(const Report& report);

/// Writes `text` to `path` (atomically: a temporary file renamed into place).
Result<void> write_file(const std::string& path, const std::string& text);

/// "842 ns", "12.3 µs", "1.25 ms".
std::string format_ns(double ns);

}  // namespace ipckit::bench
