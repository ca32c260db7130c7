// SPDX-License-Identifier: MIT
// The readable table on stdout: latency per size, throughput, the channel's ratios, errors.
#include "engine/report.hpp"
#include "engine/report_common.hpp"

#include <algorithm>
#include <fmt/core.h>

namespace ipckit::bench {

namespace {

constexpr const char* kIssueTargetsNote =
    "  (rows measured one after another; the spin floor here carries the payload. The channel's\n"
    "   targets against a one-line floor interleaved with it: build/release/bench/bench_channel_bench)\n";

std::string latency_row(const TransportResult& r, std::size_t si, std::size_t name_w) {
    const auto& l = r.latency.at(si);
    if (l.status != Status::Ok) {
        return fmt::format("  {:<{}}  {:>9}   {}\n",
                           r.title,
                           name_w,
                           cell_text(l.status),
                           l.status == Status::Unsupported ? l.note : std::string());
    }
    return fmt::format("  {:<{}}  {:>9} {:>9} {:>9} {:>9} {:>7} {:>8}\n",
                       r.title,
                       name_w,
                       format_ns(l.p50_ns),
                       format_ns(l.p99_ns),
                       format_ns(l.p999_ns),
                       format_ns(l.max_ns),
                       fmt::format("±{:.0f}%", l.spread_pct),
                       l.ratio_to_floor > 0 ? fmt::format("{:.1f}x", l.ratio_to_floor) : "-");
}

/// The latency table of one message size (index `si`), sorted by p50.
std::string latency_table(const Report& report, std::size_t si, std::size_t name_w) {
    std::string out = fmt::format(
        "\nRound-trip latency, {} (sorted by p50; x floor = p50 / busy-spin floor p50)\n",
        format_size(report.config.latency_sizes.at(si)));
    out += fmt::format("  {:<{}}  {:>9} {:>9} {:>9} {:>9} {:>7} {:>8}\n",
                       "mechanism",
                       name_w,
                       "p50",
                       "p99",
                       "p99.9",
                       "max",
                       "spread",
                       "x floor");
    for (const auto* r : by_latency(report, si)) {
        out += latency_row(*r, si, name_w);
    }
    return out;
}

std::string throughput_table(const Report& report, std::size_t name_w) {
    if (report.config.throughput_sizes.empty()) {
        return {};
    }
    std::string out =
        "\nOne-way throughput (messages/s and GB/s; every message checked by sequence "
        "number)\n";
    out += fmt::format("  {:<{}} ", "mechanism", name_w);
    for (std::size_t s : report.config.throughput_sizes) {
        out += fmt::format("  {:>18}", format_size(s));
    }
    out += "\n";
    for (const auto* r : by_throughput(report)) {
        out += fmt::format("  {:<{}} ", r->title, name_w);
        for (const auto& t : r->throughput) {
            out += t.status == Status::Ok ? fmt::format("  {:>6}/s {:>9}",
                                                        format_rate(t.msgs_per_s),
                                                        format_bandwidth(t.bytes_per_s))
                                          : fmt::format("  {:>18}", cell_text(t.status));
        }
        out += "\n";
    }
    return out;
}

std::string channel_ratio_lines(const Report& report) {
    if (std::none_of(report.rows.begin(), report.rows.end(), [](const TransportResult& r) {
            return r.group == Group::Channel;
        })) {
        return {};
    }
    std::string out = "\nipckit channel ratios (p50 / p50; lower is better)\n";
    for (const auto& c : channel_ratios(report)) {
        if (c.value > 0) {
            out += fmt::format("  {:<60} {:>7.3g}x{}\n",
                               c.what,
                               c.value,
                               c.target.empty() ? "" : "  [target " + c.target + "]");
        } else {
            out += fmt::format("  {:<60} {:>8}  ({})\n", c.what, "-", c.missing);
        }
    }
    return out + kIssueTargetsNote;
}

/// Errors, sizes larger than a mechanism carries, notes and the run's duration.
std::string table_footer(const Report& report) {
    std::string out;
    std::string errors;
    std::string unsupported;
    for (const auto& r : report.rows) {
        if (!r.error.empty()) {
            errors += fmt::format("  {}: {}\n", r.name, r.error);
        }
        const auto t = std::find_if(r.throughput.begin(), r.throughput.end(), [](const auto& x) {
            return x.status == Status::Unsupported;
        });
        if (t != r.throughput.end()) {
            unsupported +=
                fmt::format("{}{} ({})", unsupported.empty() ? "" : ", ", r.name, t->note);
        }
    }
    if (!errors.empty()) {
        out += "\nErrors (the other mechanisms ran normally):\n" + errors;
    }
    if (!unsupported.empty()) {
        out += "\nn/a: not measured (larger than the mechanism carries, or round trips only): " +
               unsupported + "\n";
    }
    for (const auto& n : report.notes) {
        out += "note: " + n + "\n";
    }
    out += fmt::format("\n{} mechanisms in {:.1f} s.\n", report.rows.size(), report.seconds);
    return out;
}

}  // namespace

std::string format_live_row(const TransportResult& row, std::size_t index, std::size_t count) {
    std::string out = fmt::format("[{:>2}/{}] {:<16}", index + 1, count, row.name);
    if (!row.error.empty()) {
        return out + " error: " + row.error + "\n";
    }
    // The first latency size and the first throughput size: enough to see the run is sane.
    if (!row.latency.empty()) {
        const auto& l = row.latency.front();
        out += l.status == Status::Ok ? fmt::format("  {} round trip p50 {:>9} p99 {:>9}",
                                                    format_size(l.size),
                                                    format_ns(l.p50_ns),
                                                    format_ns(l.p99_ns))
                                      : fmt::format("  {} round trip {}",
                                                    format_size(l.size),
                                                    cell_text(l.status));
    }
    if (!row.throughput.empty()) {
        const auto& t = row.throughput.front();
        out += t.status == Status::Ok ? fmt::format("  {} one way {:>6}/s",
                                                    format_size(t.size),
                                                    format_rate(t.msgs_per_s))
                                      : "";
    }
    return out + "\n";
}

std::string format_table(const Report& report) {
    const auto& m = report.machine;
    std::string out = fmt::format(
        "ipckit bench: {} · {} CPUs · Linux {} · glibc {} · leader on CPU {}, follower on CPU {}\n",
        m.cpu_model,
        m.cores,
        m.kernel,
        m.glibc,
        report.leader_cpu,
        report.follower_cpu);
    std::size_t name_w = 10;
    for (const auto& r : report.rows) {
        name_w = std::max(name_w, r.title.size());
    }
    for (std::size_t si = 0; si < report.config.latency_sizes.size(); ++si) {
        out += latency_table(report, si, name_w);
    }
    out += throughput_table(report, name_w);
    out += channel_ratio_lines(report);
    out += table_footer(report);
    return out;
}

}  // namespace ipckit::bench
