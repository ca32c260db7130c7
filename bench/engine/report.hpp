// SPDX-License-Identifier: MIT
// How a bench Report is shown: the table on stdout, --json, --csv and the --svg chart.
#pragma once

#include "engine/engine.hpp"

#include <string>
#include <string_view>

namespace ipckit::bench {

/// The readable table: latency sorted by p50 with the ratio to the floor, throughput per size,
/// then errors and notes.
std::string format_table(const Report& report);

/// One line for a mechanism just measured ("[ 3/25] name  64 B p50 ... "), printed as the run goes.
std::string format_live_row(const TransportResult& row, std::size_t index, std::size_t count);
/// The schema id of --json (docs/bench-json.md); ids are "ipckit.<tool>/<version>" like
/// `ipckit ls --json`'s "ipckit.ls/1".
inline constexpr const char* kBenchSchema = "ipckit.bench/1";
/// The same schema under its first name; --compare still reads it.
inline constexpr const char* kBenchSchemaV0 = "ipckit-bench/1";

/// Machine facts, config and every figure, for tools (schema kBenchSchema).
std::string format_json(const Report& report);
/// Every latency and throughput figure of `now_json` as a ratio to the same figure (transport
/// and size) in `before_json`, both bench JSON reports. errc::invalid_argument naming
/// `before_name` when a document is not one.
Result<std::string> format_compare(std::string_view before_json,
                                   std::string_view now_json,
                                   const std::string& before_name);
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
