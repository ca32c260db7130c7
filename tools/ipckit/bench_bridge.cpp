// SPDX-License-Identifier: MIT
// `ipckit bench --bridge` (issue 19): the NATS bridge's own cost as ratios to raw libnats at the
// same sizes, measured in the same run against a nats-server this command starts on 127.0.0.1
// (a free port) and stops by PID:
//   throughput  chan -> bridge -> NATS -> bridge -> chan  vs  raw libnats publish -> subscribe
//   round trip  ping and pong, each chan -> bridge -> NATS -> bridge -> chan (four bridges)
//               vs  raw libnats request/reply (SendAsap responder: each reply written at once)
// The measurements are bench/engine/bridge_measure.cpp; bench/standalone/bridge_bench.cpp prints
// the longer form (libnats' default batching and --low-latency columns too).
#include "bench_bridge.hpp"

#include "cli.hpp"
#include "engine/bridge_measure.hpp"
#include "ipckit/core/units.hpp"

#include <cstdio>
#include <fmt/core.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace ipckit::cli {

namespace {

using bench::BridgeLatency;

struct Row {
    std::size_t size = 0;
    double raw_rate = 0;
    double bridge_rate = 0;
    BridgeLatency raw;
    BridgeLatency bridge;
};

std::vector<std::size_t> parse_sizes(const std::string& text) {
    if (text.empty()) {
        return {64, 1024};
    }
    std::vector<std::size_t> out;
    for (std::size_t pos = 0; pos <= text.size();) {
        const std::size_t comma = std::min(text.find(',', pos), text.size());
        const auto n =
            parse_size(std::string_view(text).substr(pos, comma - pos), kSizeBytes, 1U << 20);
        if (!n || *n == 0) {
            return {};
        }
        out.push_back(static_cast<std::size_t>(*n));
        pos = comma + 1;
    }
    return out;
}

std::string pair(const BridgeLatency& l) {
    return fmt::format("{:.0f}/{:.0f}", l.p50_us, l.p99_us);
}

double ratio(double a, double b) {
    return b > 0 ? a / b : 0;
}

nlohmann::json rows_json(const std::vector<Row>& rows) {
    nlohmann::json out = nlohmann::json::array();
    for (const Row& r : rows) {
        out.push_back({{"size", r.size},
                       {"raw_msgs_per_s", r.raw_rate},
                       {"bridge_msgs_per_s", r.bridge_rate},
                       {"throughput_ratio", ratio(r.bridge_rate, r.raw_rate)},
                       {"raw_p50_us", r.raw.p50_us},
                       {"raw_p99_us", r.raw.p99_us},
                       {"bridge_p50_us", r.bridge.p50_us},
                       {"bridge_p99_us", r.bridge.p99_us},
                       {"latency_ratio_p50", ratio(r.bridge.p50_us, r.raw.p50_us)},
                       {"latency_ratio_p99", ratio(r.bridge.p99_us, r.raw.p99_us)}});
    }
    return out;
}

int write_json(const std::string& path, const nlohmann::json& j) {
    if (path.empty()) {
        return kExitOk;
    }
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f << j.dump(2) << '\n';
    f.close();
    if (!f) {
        print_error("bench", Error(std::errc::io_error, "write", path));
        return kExitFailure;
    }
    fmt::print("JSON written to {}\n", path);
    return kExitOk;
}

}  // namespace

int run_bench_bridge(const std::string& sizes_text, bool quick, const std::string& json) {
    const std::vector<std::size_t> sizes = parse_sizes(sizes_text);
    if (sizes.empty()) {
        print_error("bench",
                    Error(std::errc::invalid_argument,
                          "--sizes",
                          sizes_text,
                          "each size is 1 B .. 1 MiB (64, 1K, 4KiB, ...)"));
        return kExitUsage;
    }
    const int count = quick ? 5'000 : 50'000;
    const int rounds = quick ? 300 : 3'000;
    nlohmann::json j = {{"schema", "ipckit.bench.bridge/1"}, {"count", count}, {"rounds", rounds}};
    const std::string binary = bench::find_nats_server();
    if (binary.empty()) {
        const std::string why =
            "nats-server not found (install the Debian package nats-server, or set "
            "IPCKIT_NATS_SERVER)";
        fmt::print("bridge (NATS): skipped: {}\n", why);
        j["skipped"] = why;
        return write_json(json, j);
    }
    try {
        const bench::BenchDir dir;
        const bench::NatsServerProcess server(binary);
        const std::string& url = server.url();
        j["server"] = url;
        fmt::print(
            "bridge (NATS, {}; {} messages, {} round trips): chan -> bridge -> NATS -> bridge -> "
            "chan vs raw libnats in the same run\n",
            url,
            count,
            rounds);
        fmt::print("{:>8} {:>12} {:>12} {:>6} {:>14} {:>14} {:>11}\n",
                   "size",
                   "raw msg/s",
                   "bridge msg/s",
                   "ratio",
                   "raw p50/p99us",
                   "bridge p50/p99",
                   "ratio p50/99");
        std::vector<Row> rows;
        for (const std::size_t size : sizes) {
            Row r;
            r.size = size;
            r.raw_rate = bench::raw_nats_throughput(url, size, count);
            r.bridge_rate = bench::bridge_throughput(url, dir.path(), size, count);
            r.raw = bench::raw_nats_request_reply(url, size, rounds, true);
            r.bridge = bench::bridge_round_trip(url, dir.path(), size, rounds, false);
            fmt::print("{:>8} {:>12.0f} {:>12.0f} {:>6.2f} {:>14} {:>14} {:>5.2f}/{:<5.2f}\n",
                       size,
                       r.raw_rate,
                       r.bridge_rate,
                       ratio(r.bridge_rate, r.raw_rate),
                       pair(r.raw),
                       pair(r.bridge),
                       ratio(r.bridge.p50_us, r.raw.p50_us),
                       ratio(r.bridge.p99_us, r.raw.p99_us));
            (void)std::fflush(stdout);
            rows.push_back(r);
        }
        j["rows"] = rows_json(rows);
    } catch (const std::exception& e) {
        print_error("bench", Error(std::errc::io_error, "bench --bridge", {}, e.what()));
        return kExitFailure;
    }
    return write_json(json, j);
}

}  // namespace ipckit::cli
