// SPDX-License-Identifier: MIT
// What every report format shares (report_common.hpp), format_ns and write_file.
#include "engine/report.hpp"

#include "engine/report_common.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <fmt/core.h>
#include <fstream>

namespace ipckit::bench {
namespace {

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

}  // namespace

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
        // No "channel-block / raw futex floor": channel-block spins before it sleeps, so in a
        // ping-pong it never reaches the futex and the ratio (0.008x) measures nothing (issue 20).
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
