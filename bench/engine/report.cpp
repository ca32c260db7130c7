// SPDX-License-Identifier: MIT
#include "engine/report.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <ctime>
#include <fmt/core.h>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

namespace ipckit::bench {
namespace {

using nlohmann::json;

std::string sig3(double v) {
    if (v >= 100) {
        return fmt::format("{:.0f}", v);
    }
    if (v >= 10) {
        return fmt::format("{:.1f}", v);
    }
    return fmt::format("{:.2f}", v);
}

std::string format_rate(double per_s) {
    if (per_s >= 1e9) {
        return sig3(per_s / 1e9) + "G";
    }
    if (per_s >= 1e6) {
        return sig3(per_s / 1e6) + "M";
    }
    if (per_s >= 1e3) {
        return sig3(per_s / 1e3) + "k";
    }
    return sig3(per_s);
}

/// "3.92 GB/s", "710 MB/s", "4.5 MB/s": bytes per second in the unit that keeps 3 digits.
std::string format_bandwidth(double bytes_per_s) {
    if (bytes_per_s >= 1e9) {
        return sig3(bytes_per_s / 1e9) + " GB/s";
    }
    if (bytes_per_s >= 1e6) {
        return sig3(bytes_per_s / 1e6) + " MB/s";
    }
    return sig3(bytes_per_s / 1e3) + " kB/s";
}

/// Axis labels: "100 ns", "1 µs", "10 ms".
std::string format_decade(double ns) {
    if (ns < 1e3) {
        return fmt::format("{:.0f} ns", ns);
    }
    if (ns < 1e6) {
        return fmt::format("{:.0f} µs", ns / 1e3);
    }
    if (ns < 1e9) {
        return fmt::format("{:.0f} ms", ns / 1e6);
    }
    return fmt::format("{:.0f} s", ns / 1e9);
}

/// Rows by p50 at `size_index` (failed and unsupported last, in registry order).
std::vector<const TransportResult*> by_latency(const Report& report, std::size_t size_index) {
    std::vector<const TransportResult*> rows;
    for (const auto& r : report.rows) {
        rows.push_back(&r);
    }
    auto key = [&](const TransportResult* r) {
        if (size_index < r->latency.size() && r->latency[size_index].status == Status::Ok) {
            return r->latency[size_index].p50_ns;
        }
        return HUGE_VAL;
    };
    std::stable_sort(
        rows.begin(), rows.end(), [&](const TransportResult* a, const TransportResult* b) {
            return key(a) < key(b);
        });
    return rows;
}

/// Rows by how close they come to the best mechanism of each size (geometric mean of
/// rate / best over the sizes they carry), best first.
std::vector<const TransportResult*> by_throughput(const Report& report) {
    std::vector<const TransportResult*> rows;
    std::vector<double> best(report.config.throughput_sizes.size(), 0);
    for (const auto& r : report.rows) {
        rows.push_back(&r);
        for (std::size_t k = 0; k < r.throughput.size() && k < best.size(); ++k) {
            if (r.throughput[k].status == Status::Ok) {
                best[k] = std::max(best[k], r.throughput[k].msgs_per_s);
            }
        }
    }
    auto key = [&](const TransportResult* r) {
        double sum = 0;
        int n = 0;
        for (std::size_t k = 0; k < r->throughput.size() && k < best.size(); ++k) {
            if (r->throughput[k].status == Status::Ok && best[k] > 0) {
                sum += std::log(r->throughput[k].msgs_per_s / best[k]);
                ++n;
            }
        }
        return n == 0 ? -HUGE_VAL : sum / n;
    };
    std::stable_sort(
        rows.begin(), rows.end(), [&](const TransportResult* a, const TransportResult* b) {
            return key(a) > key(b);
        });
    return rows;
}

std::string cell_text(Status s) {
    switch (s) {
        case Status::Unsupported:
            return "n/a";
        case Status::Error:
            return "error";
        case Status::NotRun:
            return "-";
        case Status::Ok:
            return "";
    }
    return "";
}

std::string utc_now() {
    std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    if (std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
        return "";  // cannot happen with this format and buffer
    }
    return buf;
}

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

std::string xml_escape(const std::string& s) {
    std::string out;
    for (char ch : s) {
        switch (ch) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            default:
                out += ch;
        }
    }
    return out;
}

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

/// p50 of row `name` at latency size `size`, or 0 if that figure was not measured.
double p50_of(const Report& report, const char* name, std::size_t size) {
    const auto& sizes = report.config.latency_sizes;
    const auto at = std::find(sizes.begin(), sizes.end(), size);
    if (at == sizes.end()) {
        return 0;
    }
    const auto si = static_cast<std::size_t>(at - sizes.begin());
    for (const auto& r : report.rows) {
        if (r.name == name && si < r.latency.size() && r.latency[si].status == Status::Ok) {
            return r.latency[si].p50_ns;
        }
    }
    return 0;
}

/// The ipckit channel against its yardsticks (issue 8's performance section): what the ratio
/// is, its value (0: a figure is missing, `missing` says which) and the target ("" for none).
constexpr const char* kIssueTargetsNote =
    "  (rows measured one after another; the spin floor here carries the payload. The channel's\n"
    "   targets against a one-line floor interleaved with it: build/release/bench/bench_channel_bench)\n";

struct ChannelRatio {
    std::string what;
    double value = 0;
    std::string target;
    std::string missing;
};

std::vector<ChannelRatio> channel_ratios(const Report& report) {
    const auto& sizes = report.config.latency_sizes;
    const std::size_t small = sizes.empty() ? 64 : *std::min_element(sizes.begin(), sizes.end());
    const std::string s = format_size(small);
    auto ratio = [](std::string what, double a, double b, std::string target, std::string why) {
        ChannelRatio r{std::move(what), a > 0 && b > 0 ? a / b : 0, std::move(target), {}};
        if (r.value == 0) {
            r.missing = std::move(why);
        }
        return r;
    };
    const double spin = p50_of(report, "channel-spin", small);
    const double block = p50_of(report, "channel-block", small);
    const double ice = p50_of(report, "iceoryx", small);
    const char* no_ice = "needs the iceoryx peer (built in, --peers)";
    return {
        // No targets here: issue 8's are defined against a one-line floor measured interleaved
        // with the channel and a blocking channel that never spins (bench_channel_bench). This
        // floor row carries the payload through slots, rows run one after another, and the
        // blocking row spins first; see kIssueTargetsNote.
        ratio("channel-spin / busy-spin floor, " + s,
              spin,
              p50_of(report, "spin-floor", small),
              "",
              "needs channel-spin and spin-floor"),
        ratio("channel-block / raw futex floor, " + s,
              block,
              p50_of(report, "futex-floor", small),
              "",
              "needs channel-block and futex-floor"),
        ratio(
            "channel-spin 1 MiB / " + s + " (copy in and out included)",
            p50_of(report, "channel-spin", std::size_t{1} << 20),
            spin,
            "",
            "needs channel-spin at " + s + " and 1 MiB: --sizes " + std::to_string(small) + ",1M"),
        ratio("channel-spin / iceoryx, " + s, spin, ice, "<= 1", no_ice),
        ratio("channel-block / iceoryx, " + s, block, ice, "", no_ice),
    };
}

}  // namespace

std::string format_ns(double ns) {
    if (ns < 1e3) {
        return fmt::format("{:.0f} ns", ns);
    }
    if (ns < 1e6) {
        return sig3(ns / 1e3) + " µs";
    }
    if (ns < 1e9) {
        return sig3(ns / 1e6) + " ms";
    }
    return sig3(ns / 1e9) + " s";
}

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
        out += "\nn/a: larger than the mechanism carries: " + unsupported + "\n";
    }
    for (const auto& n : report.notes) {
        out += "note: " + n + "\n";
    }
    out += fmt::format("\n{} mechanisms in {:.1f} s.\n", report.rows.size(), report.seconds);
    return out;
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

std::string format_json(const Report& report) {
    json j;
    j["schema"] = "ipckit-bench/1";
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

// ---------------------------------------------------------------------------- SVG

namespace {

struct GroupStyle {
    const char* color;
    const char* label;
};

GroupStyle style(Group g) {
    switch (g) {
        case Group::Floor:
            return {"#8d99ae", "floor"};
        case Group::Stream:
            return {"#4c78a8", "pipes"};
        case Group::Socket:
            return {"#72b7b2", "sockets"};
        case Group::Queue:
            return {"#b279a2", "message queues"};
        case Group::SharedMemory:
            return {"#54a24b", "shared memory"};
        case Group::Signal:
            return {"#f58518", "signals"};
        case Group::Channel:
            return {"#e45756", "ipckit channel"};
        case Group::Peer:
            return {"#9d755d", "peer libraries"};
    }
    return {"#888888", "?"};
}

/// Viridis, sampled: a colour scale people with colour-vision deficiencies can read.
std::string viridis(double t) {
    static constexpr std::array<std::array<double, 3>, 6> kStops{{{68, 1, 84},
                                                                  {65, 68, 135},
                                                                  {42, 120, 142},
                                                                  {34, 168, 132},
                                                                  {122, 209, 81},
                                                                  {253, 231, 37}}};
    t = std::clamp(t, 0.0, 1.0) * static_cast<double>(kStops.size() - 1);
    const auto i = std::min<std::size_t>(static_cast<std::size_t>(t), kStops.size() - 2);
    const double f = t - static_cast<double>(i);
    std::array<int, 3> c{};
    for (std::size_t k = 0; k < 3; ++k) {
        const auto& lo = kStops.at(i);
        const auto& hi = kStops.at(i + 1);
        c.at(k) = static_cast<int>(std::lround(lo.at(k) + (hi.at(k) - lo.at(k)) * f));
    }
    return fmt::format("#{:02x}{:02x}{:02x}", c[0], c[1], c[2]);
}

}  // namespace

namespace svg {
constexpr double kWidth = 1120;
constexpr double kLabelX = 24;
constexpr double kPlotX0 = 290;
constexpr double kPlotX1 = 840;
constexpr double kRowH = 24;
constexpr const char* kFont = "font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\"";

/// A log-scale x axis from 10^dlo to 10^dhi ns over the plot area.
struct LogAxis {
    double dlo;
    double dhi;
    [[nodiscard]] double x(double ns) const {
        return kPlotX0 + (std::log10(std::max(ns, 1.0)) - dlo) / (dhi - dlo) * (kPlotX1 - kPlotX0);
    }
};

void title(std::string& body, const Report& report) {
    const auto& m = report.machine;
    body += fmt::format(
        "<text x=\"{}\" y=\"44\" font-size=\"26\" font-weight=\"700\" fill=\"#1f2933\">"
        "How fast is IPC on this machine?</text>\n",
        kLabelX);
    body += fmt::format(
        "<text x=\"{}\" y=\"70\" font-size=\"13\" fill=\"#52606d\">{} · {} CPUs · Linux {} · glibc "
        "{}"
        " · leader CPU {}, follower CPU {} · ipckit bench</text>\n",
        kLabelX,
        xml_escape(m.cpu_model),
        m.cores,
        xml_escape(m.kernel),
        xml_escape(m.glibc),
        report.leader_cpu,
        report.follower_cpu);
}

void legend(std::string& body, const Report& report, double y) {
    double x = kLabelX;
    std::vector<Group> seen;
    for (const auto& r : report.rows) {
        if (std::find(seen.begin(), seen.end(), r.group) == seen.end()) {
            seen.push_back(r.group);
        }
    }
    for (Group g : seen) {
        const auto s = style(g);
        body += fmt::format(
            "<rect x=\"{}\" y=\"{}\" width=\"12\" height=\"12\" rx=\"3\" fill=\"{}\"/>"
            "<text x=\"{}\" y=\"{}\" font-size=\"12\" fill=\"#323f4b\">{}</text>\n",
            x,
            y - 10,
            s.color,
            x + 17,
            y,
            s.label);
        x += 30 + 7.0 * static_cast<double>(std::string(s.label).size());
    }
    body += fmt::format(
        "<rect x=\"{}\" y=\"{}\" width=\"26\" height=\"8\" rx=\"2\" fill=\"#9aa5b1\"/>"
        "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#323f4b\" "
        "stroke-width=\"1.5\"/>"
        "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#323f4b\" stroke-width=\"2\"/>"
        "<circle cx=\"{}\" cy=\"{}\" r=\"2.5\" fill=\"#323f4b\" fill-opacity=\"0.45\"/>"
        "<text x=\"{}\" y=\"{}\" font-size=\"12\" fill=\"#323f4b\">bar = p50 · whisker to p99 "
        "· dot = p99.9</text>\n",
        x + 10,
        y - 8,
        x + 36,
        y - 4,
        x + 56,
        y - 4,
        x + 56,
        y - 9,
        x + 56,
        y + 1,
        x + 66,
        y - 4,
        x + 78,
        y);
}

/// Decade lines and labels, with the 2..9 minor lines inside each decade.
void axis_lines(std::string& body, const LogAxis& axis, double top, double bottom) {
    const double dlo = axis.dlo;
    const double dhi = axis.dhi;
    const auto decades = static_cast<int>(std::lround(dhi - dlo));
    for (int step = 0; step <= decades; ++step) {
        const double d = dlo + step;
        const double x = axis.x(std::pow(10.0, d));
        body += fmt::format(
            "<line x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" y2=\"{2}\" stroke=\"#e4e7eb\"/>"
            "<text x=\"{0:.1f}\" y=\"{3}\" font-size=\"11\" fill=\"#7b8794\" "
            "text-anchor=\"middle\">{4}</text>\n",
            x,
            top - 4,
            bottom + 2,
            bottom + 16,
            format_decade(std::pow(10.0, d)));
        if (d + 1 <= dhi + 1e-9) {
            for (int k = 2; k < 10; ++k) {
                const double xm = axis.x(std::pow(10.0, d) * k);
                body += fmt::format(
                    "<line x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" y2=\"{2}\" "
                    "stroke=\"#f5f7fa\"/>\n",
                    xm,
                    top - 4,
                    bottom + 2);
            }
        }
    }
}

void latency_row(std::string& body,
                 const TransportResult& r,
                 std::size_t si,
                 const LogAxis& axis,
                 double y,
                 bool shaded) {
    const auto& l = r.latency.at(si);
    const double cy = y + kRowH / 2;
    if (shaded) {
        body +=
            fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"#f8f9fb\"/>\n",
                        kLabelX - 8,
                        y,
                        kWidth - 2 * kLabelX + 16,
                        kRowH);
    }
    body += fmt::format(
        "<text x=\"{}\" y=\"{:.1f}\" font-size=\"13\" fill=\"#1f2933\" "
        "text-anchor=\"end\"{}>{}</text>\n",
        kPlotX0 - 10,
        cy + 4.5,
        r.group == Group::Floor ? " font-style=\"italic\"" : "",
        xml_escape(r.title));
    if (l.status == Status::Ok) {
        const auto s = style(r.group);
        const double x50 = axis.x(l.p50_ns);
        const double x99 = axis.x(l.p99_ns);
        const double x999 = axis.x(l.p999_ns);
        body += fmt::format(
            "<rect x=\"{}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"14\" rx=\"3\" "
            "fill=\"{}\"/>\n",
            kPlotX0,
            cy - 7,
            std::max(2.0, x50 - kPlotX0),
            s.color);
        body += fmt::format(
            "<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" "
            "stroke=\"#323f4b\" stroke-width=\"1.5\"/>"
            "<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" "
            "stroke=\"#323f4b\" stroke-width=\"2\"/>"
            "<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"2.5\" fill=\"#323f4b\" "
            "fill-opacity=\"0.45\"/>\n",
            x50,
            cy,
            x99,
            cy,
            x99,
            cy - 5,
            x99,
            cy + 5,
            x999,
            cy);
        const std::string ratio =
            l.ratio_to_floor > 0 ? fmt::format("{:.1f}×", l.ratio_to_floor) : "";
        body += fmt::format(
            "<text x=\"{}\" y=\"{:.1f}\" font-size=\"12.5\" font-weight=\"600\" "
            "fill=\"#1f2933\">{}</text>"
            "<text x=\"{}\" y=\"{:.1f}\" font-size=\"12.5\" fill=\"#7b8794\">p99 {}</text>"
            "<text x=\"{}\" y=\"{:.1f}\" font-size=\"12.5\" fill=\"#52606d\" "
            "text-anchor=\"end\">{}</text>\n",
            kPlotX1 + 16,
            cy + 4.5,
            format_ns(l.p50_ns),
            kPlotX1 + 82,
            cy + 4.5,
            format_ns(l.p99_ns),
            kWidth - kLabelX,
            cy + 4.5,
            ratio);
    } else {
        std::string why = l.status == Status::Unsupported
                              ? "not supported at this size (" + l.note + ")"
                              : "error: " + r.error;
        if (why.size() > 110) {
            why = why.substr(0, 107) + "...";
        }
        body += fmt::format("<text x=\"{}\" y=\"{:.1f}\" font-size=\"12\" fill=\"{}\">{}</text>\n",
                            kPlotX0,
                            cy + 4,
                            l.status == Status::Unsupported ? "#7b8794" : "#c62828",
                            xml_escape(why));
    }
}

/// One latency panel (one message size), log axis shared by the panel's rows.
void latency_panel(std::string& body, const Report& report, std::size_t si, double& y) {
    const auto rows = by_latency(report, si);
    double lo = HUGE_VAL;
    double hi = 0;
    for (const auto* r : rows) {
        const auto& l = r->latency.at(si);
        if (l.status == Status::Ok) {
            lo = std::min(lo, l.p50_ns);
            hi = std::max(hi, std::max(l.p99_ns, l.p999_ns));
        }
    }
    body += fmt::format(
        "<text x=\"{}\" y=\"{}\" font-size=\"17\" font-weight=\"600\" fill=\"#1f2933\">"
        "Round-trip latency, {} messages</text>\n",
        kLabelX,
        y,
        format_size(report.config.latency_sizes.at(si)));
    body += fmt::format(
        "<text x=\"{}\" y=\"{}\" font-size=\"12\" fill=\"#7b8794\">log scale · shorter is "
        "better"
        " · right: p50, p99 and the ratio to the busy-spin floor</text>\n",
        kLabelX,
        y + 18);
    y += 34;
    if (hi <= 0) {
        body += fmt::format(
            "<text x=\"{}\" y=\"{}\" font-size=\"13\" fill=\"#c62828\">no mechanism produced a "
            "figure</text>\n",
            kLabelX,
            y + 16);
        y += 40;
        return;
    }
    const LogAxis axis{std::floor(std::log10(lo) - 0.05), std::ceil(std::log10(hi) + 0.05)};
    axis_lines(body, axis, y, y + kRowH * static_cast<double>(rows.size()));
    std::size_t index = 0;
    for (const auto* r : rows) {
        latency_row(body, *r, si, axis, y, index++ % 2 == 0);
        y += kRowH;
    }
    y += 50;
}

/// One heat-map cell: colour relative to the column's slowest (lo) and fastest (hi).
void heat_cell(std::string& body,
               const ThroughputResult& t,
               double x,
               double y,
               double cell_w,
               double lo,
               double hi) {
    constexpr double kCellH = 30;
    if (t.status == Status::Ok && hi > 0) {
        const double f = hi > lo ? (std::log10(t.bytes_per_s) - std::log10(lo)) /
                                       (std::log10(hi) - std::log10(lo))
                                 : 1.0;
        const std::string fill = viridis(f);
        const char* ink = f > 0.55 ? "#1f2933" : "#ffffff";
        body += fmt::format(
            "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{}\" rx=\"4\" "
            "fill=\"{}\"/>"
            "<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"12.5\" font-weight=\"600\" "
            "fill=\"{}\" text-anchor=\"end\">{}</text>"
            "<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"11\" fill=\"{}\" "
            "fill-opacity=\"0.85\">{} msg/s</text>\n",
            x + 2,
            y + 2,
            cell_w - 4,
            kCellH - 4,
            fill,
            x + cell_w / 2 + 4,
            y + kCellH / 2 + 4.5,
            ink,
            format_bandwidth(t.bytes_per_s),
            x + cell_w / 2 + 12,
            y + kCellH / 2 + 4,
            ink,
            format_rate(t.msgs_per_s));
    } else {
        body += fmt::format(
            "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{}\" rx=\"4\" "
            "fill=\"#f0f2f5\"/>"
            "<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"11.5\" fill=\"{}\" "
            "text-anchor=\"middle\">{}</text>\n",
            x + 2,
            y + 2,
            cell_w - 4,
            kCellH - 4,
            x + cell_w / 2,
            y + kCellH / 2 + 4,
            t.status == Status::Error ? "#c62828" : "#9aa5b1",
            t.status == Status::Unsupported ? "too large for it" : cell_text(t.status));
    }
}

/// Throughput heat map.
void throughput_map(std::string& body, const Report& report, double& y) {
    const auto rows = by_throughput(report);
    const auto& sizes = report.config.throughput_sizes;
    body += fmt::format(
        "<text x=\"{}\" y=\"{}\" font-size=\"17\" font-weight=\"600\" fill=\"#1f2933\">"
        "One-way throughput by message size</text>\n",
        kLabelX,
        y);
    body += fmt::format(
        "<text x=\"{}\" y=\"{}\" font-size=\"12\" fill=\"#7b8794\">bytes/s and messages/s; "
        "brighter is faster within each size;"
        " every message checked by sequence number</text>\n",
        kLabelX,
        y + 18);
    y += 44;
    // Colour is relative within each size (column): small messages are never "fast" in
    // GB/s, but which mechanism wins at 64 B is exactly what a reader looks for.
    std::vector<double> lo(sizes.size(), HUGE_VAL);
    std::vector<double> hi(sizes.size(), 0);
    for (const auto* r : rows) {
        for (std::size_t k = 0; k < r->throughput.size(); ++k) {
            const auto& t = r->throughput.at(k);
            if (t.status == Status::Ok && t.bytes_per_s > 0) {
                lo.at(k) = std::min(lo.at(k), t.bytes_per_s);
                hi.at(k) = std::max(hi.at(k), t.bytes_per_s);
            }
        }
    }
    const double cell_w = (kWidth - kPlotX0 - kLabelX) / static_cast<double>(sizes.size());
    for (std::size_t k = 0; k < sizes.size(); ++k) {
        body += fmt::format(
            "<text x=\"{:.1f}\" y=\"{}\" font-size=\"12.5\" font-weight=\"600\" "
            "fill=\"#52606d\" text-anchor=\"middle\">{}</text>\n",
            kPlotX0 + cell_w * (static_cast<double>(k) + 0.5),
            y - 6,
            format_size(sizes.at(k)));
    }
    constexpr double kCellH = 30;
    for (const auto* r : rows) {
        body += fmt::format(
            "<text x=\"{}\" y=\"{:.1f}\" font-size=\"13\" fill=\"#1f2933\" "
            "text-anchor=\"end\">{}</text>\n",
            kPlotX0 - 10,
            y + kCellH / 2 + 4.5,
            xml_escape(r->title));
        for (std::size_t k = 0; k < r->throughput.size(); ++k) {
            const auto& t = r->throughput.at(k);
            heat_cell(
                body, t, kPlotX0 + cell_w * static_cast<double>(k), y, cell_w, lo.at(k), hi.at(k));
        }
        y += kCellH;
    }
}

}  // namespace svg

std::string format_svg(const Report& report) {
    std::string body;
    // Text is placed element by element: renderers disagree on spaces between tspans.
    svg::title(body, report);
    double y = 100;
    svg::legend(body, report, y);
    y += 30;
    for (std::size_t si = 0; si < report.config.latency_sizes.size(); ++si) {
        svg::latency_panel(body, report, si, y);
    }
    if (!report.config.throughput_sizes.empty()) {
        svg::throughput_map(body, report, y);
        y += 20;
    }
    body += fmt::format(
        "<text x=\"{}\" y=\"{}\" font-size=\"11\" fill=\"#9aa5b1\">Generated {} by ipckit bench in "
        "{:.0f} s."
        " Leader and follower are separate processes pinned to different CPUs; figures from a busy"
        " machine are noisy.</text>\n",
        svg::kLabelX,
        y + 4,
        utc_now(),
        report.seconds);
    y += 24;
    return fmt::format(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1:.0f}\" viewBox=\"0 0 "
        "{0} {1:.0f}\" {2}>\n"
        "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n{3}</svg>\n",
        svg::kWidth,
        y,
        svg::kFont,
        body);
}

Result<void> write_file(const std::string& path, const std::string& text) {
    const std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out) {
            return Error::from_errno(errno, "open", tmp);
        }
        out << text;
        if (!out.flush()) {
            return Error::from_errno(errno, "write", tmp);
        }
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        const int err = errno;
        (void)std::remove(tmp.c_str());  // best-effort cleanup; the rename error is what matters
        return Error::from_errno(err, "rename", path);
    }
    return {};
}

}  // namespace ipckit::bench
