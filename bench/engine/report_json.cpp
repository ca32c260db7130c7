// SPDX-License-Identifier: MIT
// --json: machine facts, config and every figure (schema kBenchSchema, docs/bench-json.md).
#include "engine/report.hpp"
#include "engine/report_common.hpp"

#include <nlohmann/json.hpp>

namespace ipckit::bench {

namespace {

using nlohmann::json;

json machine_json(const Report& r) {
    return json{{"cpu_model", r.machine.cpu_model},
                {"cores", r.machine.cores},
                {"usable_cpus", r.machine.usable_cpus},
                {"kernel", r.machine.kernel},
                {"glibc", r.machine.glibc},
                {"hostname", r.machine.hostname},
                {"leader_cpu", r.leader_cpu},
                {"follower_cpu", r.follower_cpu}};
}

}  // namespace

std::string format_json(const Report& report) {
    json j;
    j["schema"] = kBenchSchema;
    j["generated"] = utc_now();
    j["machine"] = machine_json(report);
    const auto& c = report.config;
    j["config"] = {{"latency_sizes", c.latency_sizes},
                   {"throughput_sizes", c.throughput_sizes},
                   {"latency_warmup_ms", c.latency_warmup.count()},
                   {"latency_rep_ms", c.latency_rep.count()},
                   {"latency_reps", c.latency_reps},
                   {"throughput_warmup_ms", c.throughput_warmup.count()},
                   {"throughput_rep_ms", c.throughput_rep.count()},
                   {"throughput_reps", c.throughput_reps},
                   {"peers", c.peers}};
    j["seconds"] = report.seconds;
    j["notes"] = report.notes;
    json rows = json::array();
    for (const auto& r : report.rows) {
        json row{{"name", r.name},
                 {"title", r.title},
                 {"group", to_string(r.group)},
                 {"peer", r.peer},
                 {"seconds", r.seconds},
                 {"status", r.error.empty() ? "ok" : "error"}};
        if (!r.error.empty()) {
            row["error"] = r.error;
        }
        json lat = json::array();
        for (const auto& l : r.latency) {
            json e{{"size", l.size}, {"status", to_string(l.status)}};
            if (l.status == Status::Ok) {
                e.update({{"min_ns", l.min_ns},
                          {"p50_ns", l.p50_ns},
                          {"p99_ns", l.p99_ns},
                          {"p999_ns", l.p999_ns},
                          {"max_ns", l.max_ns},
                          {"mean_ns", l.mean_ns},
                          {"spread_pct", l.spread_pct},
                          {"samples", l.samples},
                          {"ratio_to_floor", l.ratio_to_floor}});
            } else if (!l.note.empty()) {
                e["note"] = l.note;
            }
            lat.push_back(e);
        }
        json tput = json::array();
        for (const auto& t : r.throughput) {
            json e{{"size", t.size}, {"status", to_string(t.status)}};
            if (t.status == Status::Ok) {
                e.update({{"msgs_per_s", t.msgs_per_s},
                          {"bytes_per_s", t.bytes_per_s},
                          {"gb_per_s", t.bytes_per_s / 1e9},
                          {"spread_pct", t.spread_pct},
                          {"messages", t.messages}});
            } else if (!t.note.empty()) {
                e["note"] = t.note;
            }
            tput.push_back(e);
        }
        row["latency"] = lat;
        row["throughput"] = tput;
        rows.push_back(row);
    }
    j["transports"] = rows;
    json ratios = json::array();
    for (const auto& cr : channel_ratios(report)) {
        if (cr.value > 0) {
            ratios.push_back({{"what", cr.what}, {"value", cr.value}, {"target", cr.target}});
        }
    }
    j["channel_ratios"] = ratios;
    return j.dump(2) + "\n";
}

}  // namespace ipckit::bench
