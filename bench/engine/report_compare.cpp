// SPDX-License-Identifier: MIT
// --compare OLD.json: every figure of this run as a ratio to the same figure of an earlier run.
// The earlier file is input from anywhere: every field is type-checked, and nothing is sized
// from it.
#include "engine/report.hpp"

#include <cmath>
#include <fmt/core.h>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <tuple>

namespace ipckit::bench {

namespace {

using nlohmann::json;

/// (transport, size) -> figure name -> value.
using Figures = std::map<std::pair<std::string, std::uint64_t>, std::map<std::string, double>>;

struct Run {
    std::string generated;
    std::string cpu_model;
    Figures latency;
    Figures throughput;
    std::vector<std::string> names;  ///< transports in the order of the file
};

bool is_positive_number(const json& v) {
    return v.is_number() && std::isfinite(v.get<double>()) && v.get<double>() > 0;
}

std::string text_or_empty(const json& obj, const char* key) {
    const auto it = obj.find(key);
    return it != obj.end() && it->is_string() ? it->get<std::string>().substr(0, 200) : "";
}

/// Copies the "ok" entries of `list` (latency or throughput) into `out`.
void read_figures(const std::string& name,
                  const json& list,
                  const std::vector<const char*>& keys,
                  Figures& out) {
    if (!list.is_array()) {
        return;
    }
    for (const json& e : list) {
        if (!e.is_object() || !e.contains("size") || !e["size"].is_number_unsigned() ||
            text_or_empty(e, "status") != "ok") {
            continue;
        }
        auto& figures = out[{name, e["size"].get<std::uint64_t>()}];
        for (const char* k : keys) {
            if (e.contains(k) && is_positive_number(e[k])) {
                figures[k] = e[k].get<double>();
            }
        }
    }
}

Result<Run> read_run(std::string_view text, const std::string& what) {
    const json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) {
        return Error(std::errc::invalid_argument, "--compare", what, "not JSON");
    }
    const std::string schema = text_or_empty(j, "schema");
    if (schema != kBenchSchema && schema != kBenchSchemaV0) {
        return Error(
            std::errc::invalid_argument,
            "--compare",
            what,
            fmt::format(
                "not an ipckit bench report (schema '{}', expected {})", schema, kBenchSchema));
    }
    Run run;
    run.generated = text_or_empty(j, "generated");
    if (j.contains("machine") && j["machine"].is_object()) {
        run.cpu_model = text_or_empty(j["machine"], "cpu_model");
    }
    if (!j.contains("transports") || !j["transports"].is_array()) {
        return Error(std::errc::invalid_argument, "--compare", what, "no transports array");
    }
    for (const json& t : j["transports"]) {
        if (!t.is_object()) {
            continue;
        }
        const std::string name = text_or_empty(t, "name");
        if (name.empty()) {
            continue;
        }
        run.names.push_back(name);
        if (t.contains("latency")) {
            read_figures(name, t["latency"], {"p50_ns", "p99_ns", "p999_ns"}, run.latency);
        }
        if (t.contains("throughput")) {
            read_figures(name, t["throughput"], {"msgs_per_s"}, run.throughput);
        }
    }
    return run;
}

std::string size_text(std::uint64_t bytes) {
    if (bytes >= (std::uint64_t{1} << 20) && bytes % (std::uint64_t{1} << 20) == 0) {
        return fmt::format("{} MiB", bytes >> 20);
    }
    if (bytes >= 1024 && bytes % 1024 == 0) {
        return fmt::format("{} KiB", bytes >> 10);
    }
    return fmt::format("{} B", bytes);
}

/// One "now / before" cell: the ratio, or "-" when either side has no figure.
std::string ratio_cell(const std::map<std::string, double>& now,
                       const std::map<std::string, double>* before,
                       const std::string& key) {
    const auto a = now.find(key);
    if (before == nullptr || a == now.end()) {
        return "-";
    }
    const auto b = before->find(key);
    return b == before->end() ? "-" : fmt::format("{:.2f}x", a->second / b->second);
}

}  // namespace

Result<std::string> format_compare(std::string_view before_json,
                                   std::string_view now_json,
                                   const std::string& before_name) {
    IPCKIT_TRY_ASSIGN(const Run before, read_run(before_json, before_name));
    IPCKIT_TRY_ASSIGN(const Run now, read_run(now_json, "this run"));
    std::string out = fmt::format("Compared with {} ({}{}): this run / that run\n",
                                  before_name,
                                  before.generated.empty() ? "no date" : before.generated,
                                  before.cpu_model.empty() ? "" : ", " + before.cpu_model);
    out += "\nRound-trip latency (below 1.00x: faster now)\n";
    out += fmt::format(
        "  {:<18} {:>8} {:>9} {:>9} {:>9}\n", "mechanism", "size", "p50", "p99", "p99.9");
    for (const auto& [key, figures] : now.latency) {
        const auto it = before.latency.find(key);
        const auto* old = it == before.latency.end() ? nullptr : &it->second;
        out += fmt::format("  {:<18} {:>8} {:>9} {:>9} {:>9}\n",
                           key.first,
                           size_text(key.second),
                           ratio_cell(figures, old, "p50_ns"),
                           ratio_cell(figures, old, "p99_ns"),
                           ratio_cell(figures, old, "p999_ns"));
    }
    out += "\nOne-way throughput (above 1.00x: faster now)\n";
    out += fmt::format("  {:<18} {:>8} {:>9}\n", "mechanism", "size", "msgs/s");
    for (const auto& [key, figures] : now.throughput) {
        const auto it = before.throughput.find(key);
        const auto* old = it == before.throughput.end() ? nullptr : &it->second;
        out += fmt::format("  {:<18} {:>8} {:>9}\n",  // bytes/s: the same ratio
                           key.first,
                           size_text(key.second),
                           ratio_cell(figures, old, "msgs_per_s"));
    }
    const std::set<std::string> now_names(now.names.begin(), now.names.end());
    const std::set<std::string> before_names(before.names.begin(), before.names.end());
    std::string only_before;
    for (const auto& n : before_names) {
        if (!now_names.contains(n)) {
            only_before += (only_before.empty() ? "" : ", ") + n;
        }
    }
    if (!only_before.empty()) {
        out += "\nOnly in " + before_name + ": " + only_before + "\n";
    }
    out += "(- : no figure in one of the runs)\n";
    return out;
}

}  // namespace ipckit::bench
