// SPDX-License-Identifier: MIT
// `ipckit bench --bridge`: the NATS bridge against raw libnats, measured in the same run.
#pragma once

#include <string>

namespace ipckit::cli {

/// Runs the bridge rows (sizes "64,1K"; empty: 64 and 1024) against a nats-server it starts on
/// 127.0.0.1 and stops by PID, prints them, and writes them as JSON to `json` when not empty.
/// A missing nats-server is a row saying so (exit 0), not a failure.
int run_bench_bridge(const std::string& sizes, bool quick, const std::string& json);

}  // namespace ipckit::cli
