// SPDX-License-Identifier: MIT
// The benchmark engine behind `ipckit bench`: for each selected transport the supervisor (the
// ipckit process) creates the kernel objects, forks a follower and a leader pinned to two
// different CPUs, watches them against a deadline, collects what the leader measured from a
// shared page, and removes every object again, also on error and on Ctrl-C.
#pragma once

#include "engine/machine.hpp"
#include "engine/transport.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace ipckit::bench {

/// Everything a run is parameterised by (the CLI fills it in).
struct TransportResult;

struct Config {
    std::vector<std::size_t> latency_sizes{64};
    std::vector<std::size_t> throughput_sizes{64, 4096, 65536, 1U << 20};
    int leader_cpu = -1;  ///< -1: the first two CPUs this process may run on
    int follower_cpu = -1;
    std::chrono::milliseconds latency_warmup{100};
    std::chrono::milliseconds latency_rep{150};
    int latency_reps = 5;
    std::chrono::milliseconds throughput_warmup{30};
    std::chrono::milliseconds throughput_rep{80};
    int throughput_reps = 3;
    std::size_t max_samples_per_rep = 200'000;
    std::vector<std::string> only;     ///< transport names; empty means all
    std::vector<std::string> exclude;  ///< transport names
    bool peers = true;                 ///< include third-party libraries
    bool progress = false;             ///< a progress line on stderr
    /// Called with each mechanism's result as soon as it is measured (index, count): the CLI
    /// prints it at once, so the first figure shows in seconds, not after the whole run.
    std::function<void(const TransportResult&, std::size_t, std::size_t)> on_result;

    /// The --quick settings: every transport and size, a fraction of the time.
    void make_quick();
};

/// How a measurement ended.
enum class Status { Ok, Unsupported, Error, NotRun };
const char* to_string(Status s);

struct LatencyResult {
    std::size_t size = 0;
    Status status = Status::NotRun;
    std::string note;  ///< the error, or why the size is not supported
    double min_ns = 0, p50_ns = 0, p99_ns = 0, p999_ns = 0, max_ns = 0, mean_ns = 0;
    double spread_pct = 0;  ///< half the range of the repetitions' medians, in % of their median
    std::uint64_t samples = 0;
    double ratio_to_floor = 0;  ///< p50 / the spin floor's p50 at this size (0: no floor)
};

struct ThroughputResult {
    std::size_t size = 0;
    Status status = Status::NotRun;
    std::string note;
    double msgs_per_s = 0;
    double bytes_per_s = 0;
    double spread_pct = 0;
    std::uint64_t messages = 0;  ///< in the measured repetitions, each checked by sequence number
};

struct TransportResult {
    std::string name;
    std::string title;
    Group group = Group::Stream;
    bool peer = false;
    std::string error;  ///< set when the transport failed (setup, attach, a child crashed)
    std::vector<LatencyResult> latency;
    std::vector<ThroughputResult> throughput;
    double seconds = 0;
};

struct Report {
    Machine machine;
    Config config;
    int leader_cpu = -1;
    int follower_cpu = -1;
    std::vector<TransportResult> rows;
    double seconds = 0;
    std::vector<std::string> notes;  ///< e.g. "peers: iceoryx not compiled in"
};

/// The transports a config selects, in order. Unknown names in only/exclude are an error
/// (errc::invalid_argument naming them).
Result<std::vector<const TransportInfo*>> select(const Config& config);

/// Runs the benchmark. Returns errc::interrupted... (errc::operation_canceled) when the user
/// pressed Ctrl-C; every IPC object and child is gone by then either way.
Result<Report> run(const Config& config);

/// Parses "64,4K,64K,1M" (binary units); sizes below 16 bytes (the sequence header) are refused.
Result<std::vector<std::size_t>> parse_sizes(const std::string& text);
/// "64 B", "4 KiB", "1 MiB".
std::string format_size(std::size_t bytes);
const char* to_string(Group g);

}  // namespace ipckit::bench
