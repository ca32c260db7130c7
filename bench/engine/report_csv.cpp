// SPDX-License-Identifier: MIT
// --csv: one line per transport, test and size, each carrying the machine facts.
#include "engine/report.hpp"
#include "engine/report_common.hpp"

#include <fmt/core.h>

namespace ipckit::bench {

namespace {

std::string csv_field(const std::string& s) {
    if (s.find_first_of(",\"\n") == std::string::npos) {
        return s;
    }
    std::string out = "\"";
    for (char ch : s) {
        out += ch == '"' ? std::string("\"\"") : std::string(1, ch);
    }
    return out + "\"";
}

/// `text` for a row that ran, else an empty cell.
std::string if_ok(bool ok, std::string text) {
    return ok ? std::move(text) : std::string();
}

std::string latency_csv(const TransportResult& r, const LatencyResult& l, const std::string& tail) {
    const bool ok = l.status == Status::Ok;
    return fmt::format("{},{},{},latency,{},{},{},{},{},{},{},{},,,{},{}\n",
                       r.name,
                       csv_field(r.title),
                       csv_field(to_string(r.group)),
                       l.size,
                       to_string(l.status),
                       if_ok(ok, fmt::format("{:.0f}", l.p50_ns)),
                       if_ok(ok, fmt::format("{:.0f}", l.p99_ns)),
                       if_ok(ok, fmt::format("{:.0f}", l.p999_ns)),
                       if_ok(ok, fmt::format("{:.0f}", l.max_ns)),
                       if_ok(ok, fmt::format("{:.1f}", l.spread_pct)),
                       if_ok(ok && l.ratio_to_floor > 0, fmt::format("{:.2f}", l.ratio_to_floor)),
                       csv_field(ok ? "" : (l.note.empty() ? r.error : l.note)),
                       tail);
}

std::string throughput_csv(const TransportResult& r,
                           const ThroughputResult& t,
                           const std::string& tail) {
    const bool ok = t.status == Status::Ok;
    return fmt::format("{},{},{},throughput,{},{},,,,,{},,{},{},{},{}\n",
                       r.name,
                       csv_field(r.title),
                       csv_field(to_string(r.group)),
                       t.size,
                       to_string(t.status),
                       if_ok(ok, fmt::format("{:.1f}", t.spread_pct)),
                       if_ok(ok, fmt::format("{:.0f}", t.msgs_per_s)),
                       if_ok(ok, fmt::format("{:.4f}", t.bytes_per_s / 1e9)),
                       csv_field(ok ? "" : (t.note.empty() ? r.error : t.note)),
                       tail);
}

}  // namespace

std::string format_csv(const Report& report) {
    std::string out =
        "mechanism,title,group,test,size_bytes,status,p50_ns,p99_ns,p999_ns,max_ns,spread_pct,"
        "ratio_to_floor,"
        "msgs_per_s,gb_per_s,error,cpu_model,cores,kernel,glibc\n";
    const auto& m = report.machine;
    const std::string tail = fmt::format(
        "{},{},{},{}", csv_field(m.cpu_model), m.cores, csv_field(m.kernel), csv_field(m.glibc));
    for (const auto& r : report.rows) {
        for (const auto& l : r.latency) {
            out += latency_csv(r, l, tail);
        }
        for (const auto& t : r.throughput) {
            out += throughput_csv(r, t, tail);
        }
    }
    return out;
}

}  // namespace ipckit::bench
