// SPDX-License-Identifier: MIT
// `ipckit bench`: every IPC mechanism measured side by side on this machine (bench/engine).
#include "bench_bridge.hpp"
#include "cli.hpp"
#include "engine/engine.hpp"
#include "engine/report.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <fmt/core.h>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>

namespace ipckit::cli {
namespace {

struct BenchOptions {
    std::string sizes;
    std::string cpus;
    std::vector<std::string> only;
    std::vector<std::string> exclude;
    bool quick = false;
    bool no_peers = false;
    bool peers = false;
    bool list = false;
    std::string json;
    std::string csv;
    std::string svg = "bench.svg";
    bool no_svg = false;
    std::vector<std::string> compare;  ///< OLD.json, and optionally NEW.json (then nothing runs)
    bool bridge = false;               ///< the NATS bridge rows instead (bench_bridge.cpp)
};

/// The largest report --compare reads (a full run's JSON is about 40 KiB).
constexpr std::size_t kMaxReportBytes = std::size_t{16} << 20;

/// A bench JSON file, at most kMaxReportBytes (a larger one is refused, not truncated).
Result<std::string> read_report(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return Error(std::error_code(errno, std::system_category()), "open", path);
    }
    std::string text(kMaxReportBytes + 1, '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<std::size_t>(in.gcount()));
    if (text.size() > kMaxReportBytes) {
        return Error(std::errc::file_too_large, "--compare", path, "larger than 16 MiB");
    }
    return text;
}

/// Prints the comparison of `now_json` with the report in o.compare[0]; an exit code.
int print_comparison(const BenchOptions& o, const std::string& before, const std::string& now) {
    auto text = ipckit::bench::format_compare(before, now, o.compare.front());
    if (!text) {
        print_error("bench", text.error());
        return kExitUsage;
    }
    fmt::print("\n{}", *text);
    return kExitOk;
}

std::vector<std::string> split_names(const std::vector<std::string>& items) {
    std::vector<std::string> out;
    for (const auto& item : items) {
        std::stringstream ss(item);
        for (std::string name; std::getline(ss, name, ',');) {
            if (!name.empty()) {
                out.push_back(name);
            }
        }
    }
    return out;
}

/// --compare: reads the earlier report into `before`. An exit code when the run is over already
/// (two reports compared, or a bad file), nothing when the bench is to run.
std::optional<int> load_compare(const BenchOptions& o, std::string& before) {
    if (o.compare.empty()) {
        return std::nullopt;
    }
    auto text = read_report(o.compare.front());
    if (!text) {
        print_error("bench", text.error());
        return text.error().code() == std::errc::file_too_large ? kExitUsage : kExitFailure;
    }
    before = std::move(*text);
    if (o.compare.size() == 2) {  // two reports: compare them, run nothing
        auto now = read_report(o.compare.back());
        if (!now) {
            print_error("bench", now.error());
            return kExitFailure;
        }
        return print_comparison(o, before, *now);
    }
    // Refuse a bad file now, not after a minute of measuring.
    if (auto check = ipckit::bench::format_compare(before, before, o.compare.front()); !check) {
        print_error("bench", check.error());
        return kExitUsage;
    }
    return std::nullopt;
}

/// --quick, --sizes and --cpus into `config`; false (after printing why) on a usage error.
bool apply_run_options(const BenchOptions& o, ipckit::bench::Config& config) {
    if (o.quick) {
        config.make_quick();
    }
    if (!o.sizes.empty()) {
        auto sizes = ipckit::bench::parse_sizes(o.sizes);
        if (!sizes) {
            print_error("bench", sizes.error());
            return false;
        }
        config.latency_sizes = *sizes;
        config.throughput_sizes = *sizes;
    }
    if (!o.cpus.empty()) {
        int a = -1;
        int b = -1;
        char comma = 0;
        std::istringstream in(o.cpus);
        const long ncpu = ::sysconf(_SC_NPROCESSORS_CONF);
        if (!(in >> a >> comma >> b) || comma != ',' || a < 0 || b < 0 || a >= ncpu || b >= ncpu ||
            !in.eof()) {
            print_error("bench",
                        Error(std::errc::invalid_argument,
                              "--cpus",
                              o.cpus,
                              fmt::format("expected two CPU numbers below {}, like 0,1", ncpu)));
            return false;
        }
        config.leader_cpu = a;
        config.follower_cpu = b;
    }
    return true;
}

int run_bench(const BenchOptions& o) {
    using namespace ipckit::bench;
    if (o.bridge) {
        return run_bench_bridge(o.sizes, o.quick, o.json);
    }
    if (o.list) {
        for (const auto& t : transports()) {
            fmt::print("{:<16} {:<15} {}\n", t.name, to_string(t.group), t.title);
        }
        return kExitOk;
    }
    std::string before;
    if (const auto done = load_compare(o, before)) {
        return *done;
    }
    Config config;
    if (!apply_run_options(o, config)) {
        return kExitUsage;
    }
    config.only = split_names(o.only);
    config.exclude = split_names(o.exclude);
    config.peers = !o.no_peers;
    config.progress = ::isatty(STDERR_FILENO) == 1;
    // On a terminal, each mechanism's figures on stderr as soon as it is measured (the first
    // within seconds); the sorted tables follow on stdout once every mechanism ran. Not when
    // stderr is a file or pipe: a script's stderr stays empty unless something went wrong.
    if (config.progress) {
        config.on_result = [](const TransportResult& row, std::size_t index, std::size_t count) {
            (void)std::fputs(format_live_row(row, index, count).c_str(), stderr);
        };
    }

    auto report = run(config);
    if (!report) {
        print_error("bench", report.error());
        return report.error() == std::errc::operation_canceled ? 130
               : report.error() == std::errc::invalid_argument ? kExitUsage
                                                               : kExitFailure;
    }
    // The table on stdout is best effort (as before); the report files below report their own errors.
    (void)std::fputs(format_table(*report).c_str(), stdout);
    (void)std::fflush(stdout);
    int rc = kExitOk;
    auto write = [&](const std::string& path, const std::string& text, const char* what) {
        if (path.empty()) {
            return;
        }
        if (auto r = write_file(path, text); !r) {
            print_error("bench", r.error());
            rc = kExitFailure;
        } else {
            fmt::print("{} written to {}\n", what, path);
        }
    };
    const std::string json = format_json(*report);
    write(o.json, json, "JSON");
    write(o.csv, format_csv(*report), "CSV");
    if (!o.no_svg) {
        write(o.svg, format_svg(*report), "Chart");
    }
    if (!before.empty()) {
        const int compared = print_comparison(o, before, json);
        rc = rc == kExitOk ? compared : rc;
    }
    return rc;
}

}  // namespace

void register_bench(CLI::App& root, std::vector<Command>& commands) {
    auto opts = std::make_shared<BenchOptions>();
    CLI::App* app = root.add_subcommand(
        "bench",
        "Measure every IPC mechanism on this machine side by side: round-trip latency (p50, p99, "
        "p99.9, max) and one-way throughput, leader and follower pinned to two CPUs, with the "
        "ratio "
        "to a busy-spin floor measured in the same run. Prints a table; writes a chart (bench.svg) "
        "and, on request, JSON and CSV. Ctrl-C stops cleanly, removing every IPC object.");
    app->add_option("--sizes",
                    opts->sizes,
                    "message sizes for latency and throughput, e.g. 64,4K,64K,1M (default: latency "
                    "64 B, throughput 64,4K,64K,1M)");
    app->add_option(
        "--cpus", opts->cpus, "leader and follower CPUs, e.g. 0,1 (default: the first two usable)");
    app->add_option("--only", opts->only, "only these transports (comma-separated; see --list)");
    app->add_option("--exclude", opts->exclude, "skip these transports (comma-separated)");
    app->add_flag("--quick",
                  opts->quick,
                  "a short run (under 10 s) for smoke tests; same transports and sizes");
    app->add_flag(
        "--peers", opts->peers, "include the peer libraries that are compiled in (the default)");
    app->add_flag(
        "--no-peers", opts->no_peers, "leave out the peer libraries (Boost, ZeroMQ, iceoryx)");
    app->add_flag("--list", opts->list, "list the transports in this build and exit");
    app->add_flag("--bridge",
                  opts->bridge,
                  "instead: the NATS bridge against raw libnats (starts its own nats-server)");
    app->add_option(
        "--json", opts->json, "write every figure and the machine facts as JSON to FILE");
    app->add_option("--csv", opts->csv, "write every figure and the machine facts as CSV to FILE");
    app->add_option("--svg", opts->svg, "write the chart to FILE (default bench.svg)");
    app->add_flag("--no-svg", opts->no_svg, "do not write the chart");
    app->add_option("--compare",
                    opts->compare,
                    "after the run, print every figure as a ratio to the same figure in OLD.json "
                    "(an earlier --json); with a second file NEW.json, compare the two and run "
                    "nothing")
        ->expected(1, 2)
        ->type_name("OLD.json [NEW.json]");
    app->footer(
        std::string("Exit codes: 0 success (rows that failed are listed in the table), 1 failure, "
                    "2 usage, 130 interrupted."));
    commands.push_back(Command{app, [opts] { return run_bench(*opts); }});
}

}  // namespace ipckit::cli
