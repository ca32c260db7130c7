// SPDX-License-Identifier: MIT
// --svg: the self-contained chart (latency on a log axis, throughput as a heat map).
#include "engine/report.hpp"
#include "engine/report_common.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <fmt/core.h>

namespace ipckit::bench {

namespace {

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

/// Group colours (wrapped before the right edge), then what the marks mean on a line of its own.
/// Returns the y below the legend.
double legend(std::string& body, const Report& report, double y) {
    double x = kLabelX;
    std::vector<Group> seen;
    for (const auto& r : report.rows) {
        if (std::find(seen.begin(), seen.end(), r.group) == seen.end()) {
            seen.push_back(r.group);
        }
    }
    for (Group g : seen) {
        const auto s = style(g);
        const double w = 30 + 7.0 * static_cast<double>(std::string(s.label).size());
        if (x + w > kWidth - kLabelX) {
            x = kLabelX;
            y += 20;
        }
        body += fmt::format(
            "<circle cx=\"{}\" cy=\"{}\" r=\"5\" fill=\"{}\"/>"
            "<text x=\"{}\" y=\"{}\" font-size=\"12\" fill=\"#323f4b\">{}</text>\n",
            x + 6,
            y - 4,
            s.color,
            x + 17,
            y,
            s.label);
        x += w;
    }
    y += 22;
    x = kLabelX;
    body += fmt::format(
        "<rect x=\"{}\" y=\"{}\" width=\"30\" height=\"10\" rx=\"2\" fill=\"#323f4b\" "
        "fill-opacity=\"0.2\"/>"
        "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#323f4b\" stroke-width=\"1.5\"/>"
        "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#323f4b\" stroke-width=\"1.5\"/>"
        "<circle cx=\"{}\" cy=\"{}\" r=\"5\" fill=\"#323f4b\"/>"
        "<text x=\"{}\" y=\"{}\" font-size=\"12\" fill=\"#323f4b\">dot = median (p50) · "
        "whisker to p99 · shaded bar = run-to-run spread of the median</text>\n",
        x,
        y - 9,
        x + 15,
        y - 4,
        x + 50,
        y - 4,
        x + 50,
        y - 8,
        x + 50,
        y,
        x + 15,
        y - 4,
        x + 60,
        y);
    return y + 8;
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
        const double spread = std::clamp(l.spread_pct / 100.0, 0.0, 0.95);
        const double xs0 = axis.x(l.p50_ns * (1 - spread));
        const double xs1 = axis.x(l.p50_ns * (1 + spread));
        body += fmt::format(
            "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"12\" rx=\"2\" "
            "fill=\"{}\" fill-opacity=\"0.3\"/>\n",
            xs0,
            cy - 6,
            std::max(1.0, xs1 - xs0),
            s.color);
        body += fmt::format(
            "<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" "
            "stroke=\"#323f4b\" stroke-width=\"1.5\"/>"
            "<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" "
            "stroke=\"#323f4b\" stroke-width=\"1.5\"/>"
            "<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"5\" fill=\"{}\" stroke=\"#1f2933\" "
            "stroke-width=\"0.8\"/>\n",
            x50,
            cy,
            x99,
            cy,
            x99,
            cy - 4,
            x99,
            cy + 4,
            x50,
            cy,
            s.color);
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
        "<text x=\"{}\" y=\"{}\" font-size=\"12\" fill=\"#7b8794\">right: p50, p99 and p50 as "
        "a multiple of the busy-spin floor's</text>\n",
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
    // Column headers over the names, the plot and the figures on the right.
    y += 16;
    body += fmt::format(
        "<text x=\"{}\" y=\"{}\" font-size=\"11.5\" font-weight=\"600\" fill=\"#52606d\" "
        "text-anchor=\"end\">mechanism</text>"
        "<text x=\"{}\" y=\"{}\" font-size=\"11.5\" font-weight=\"600\" fill=\"#52606d\">"
        "round trip</text>"
        "<text x=\"{}\" y=\"{}\" font-size=\"11.5\" font-weight=\"600\" fill=\"#52606d\">"
        "p50</text>"
        "<text x=\"{}\" y=\"{}\" font-size=\"11.5\" font-weight=\"600\" fill=\"#52606d\">"
        "p99</text>"
        "<text x=\"{}\" y=\"{}\" font-size=\"11.5\" font-weight=\"600\" fill=\"#52606d\" "
        "text-anchor=\"end\">× floor</text>\n",
        kPlotX0 - 10,
        y,
        kPlotX0,
        y,
        kPlotX1 + 16,
        y,
        kPlotX1 + 82,
        y,
        kWidth - kLabelX,
        y);
    y += 10;
    const LogAxis axis{std::floor(std::log10(lo) - 0.05), std::ceil(std::log10(hi) + 0.05)};
    const double bottom = y + kRowH * static_cast<double>(rows.size());
    axis_lines(body, axis, y, bottom);
    body += fmt::format(
        "<text x=\"{:.1f}\" y=\"{}\" font-size=\"12\" fill=\"#52606d\" "
        "text-anchor=\"middle\">round-trip time (log scale; left is faster)</text>\n",
        (kPlotX0 + kPlotX1) / 2,
        bottom + 34);
    std::size_t index = 0;
    for (const auto* r : rows) {
        latency_row(body, *r, si, axis, y, index++ % 2 == 0);
        y += kRowH;
    }
    y += 66;
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

/// The throughput colour scale: viridis from `lo` to `hi` bytes/s, labelled at both ends.
void colour_bar(std::string& body, double lo, double hi, double y) {
    constexpr int kSteps = 40;
    constexpr double kBarW = 400;
    const double x0 = kPlotX0;
    for (int i = 0; i < kSteps; ++i) {
        body += fmt::format(
            "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"12\" fill=\"{}\"/>\n",
            x0 + kBarW * i / kSteps,
            y,
            kBarW / kSteps + 0.5,
            viridis((i + 0.5) / kSteps));
    }
    body += fmt::format(
        "<text x=\"{}\" y=\"{:.1f}\" font-size=\"11\" fill=\"#52606d\" "
        "text-anchor=\"end\">bytes/s</text>"
        "<text x=\"{}\" y=\"{:.1f}\" font-size=\"11\" fill=\"#52606d\">{}</text>"
        "<text x=\"{}\" y=\"{:.1f}\" font-size=\"11\" fill=\"#52606d\" "
        "text-anchor=\"end\">{}</text>\n",
        x0 - 10,
        y + 10,
        x0,
        y + 28,
        format_bandwidth(lo),
        x0 + kBarW,
        y + 28,
        format_bandwidth(hi));
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
        "brighter is more bytes/s (one scale for all sizes);"
        " every message checked by sequence number</text>\n",
        kLabelX,
        y + 18);
    y += 44;
    // One colour scale (bytes/s, log) for every size, so a colour means the same bandwidth in
    // every column; the colour bar below the map reads it.
    double lo = HUGE_VAL;
    double hi = 0;
    for (const auto* r : rows) {
        for (const auto& t : r->throughput) {
            if (t.status == Status::Ok && t.bytes_per_s > 0) {
                lo = std::min(lo, t.bytes_per_s);
                hi = std::max(hi, t.bytes_per_s);
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
            heat_cell(body, t, kPlotX0 + cell_w * static_cast<double>(k), y, cell_w, lo, hi);
        }
        y += kCellH;
    }
    if (hi > 0) {
        colour_bar(body, lo, hi, y + 14);
        y += 56;
    }
}

}  // namespace svg

std::string format_svg(const Report& report) {
    std::string body;
    // Text is placed element by element: renderers disagree on spaces between tspans.
    svg::title(body, report);
    double y = svg::legend(body, report, 100) + 20;
    for (std::size_t si = 0; si < report.config.latency_sizes.size(); ++si) {
        svg::latency_panel(body, report, si, y);
    }
    if (!report.config.throughput_sizes.empty()) {
        svg::throughput_map(body, report, y);
        y += 20;
    }
    body += fmt::format(
        "<text x=\"{0}\" y=\"{1}\" font-size=\"11\" fill=\"#9aa5b1\">Generated {2} by ipckit bench "
        "in {3:.0f} s.</text>\n"
        "<text x=\"{0}\" y=\"{4}\" font-size=\"11\" fill=\"#9aa5b1\">Leader and follower are "
        "separate processes pinned to different CPUs; figures from a busy machine are "
        "noisy.</text>\n",
        svg::kLabelX,
        y + 4,
        utc_now(),
        report.seconds,
        y + 20);
    y += 40;
    return fmt::format(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1:.0f}\" viewBox=\"0 0 "
        "{0} {1:.0f}\" {2}>\n"
        "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n{3}</svg>\n",
        svg::kWidth,
        y,
        svg::kFont,
        body);
}

}  // namespace ipckit::bench
