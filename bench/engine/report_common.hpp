// SPDX-License-Identifier: MIT
// What the report formats share (private to the engine): number formatting, row orders, cell
// texts and the channel's ratios. report.cpp defines them; report_<format>.cpp use them.
#pragma once

#include "engine/engine.hpp"

#include <string>
#include <vector>

namespace ipckit::bench {

std::string sig3(double v);

std::string format_rate(double per_s);

/// "3.92 GB/s", "710 MB/s", "4.5 MB/s": bytes per second in the unit that keeps 3 digits.
std::string format_bandwidth(double bytes_per_s);

/// Rows by p50 at `size_index` (failed and unsupported last, in registry order).
std::vector<const TransportResult*> by_latency(const Report& report, std::size_t size_index);

/// Rows by how close they come to the best mechanism of each size (geometric mean of
/// rate / best over the sizes they carry), best first.
std::vector<const TransportResult*> by_throughput(const Report& report);

std::string cell_text(Status s);

std::string utc_now();

/// The ipckit channel against its yardsticks (issue 8's performance section): what the ratio
/// is, its value (0: a figure is missing, `missing` says which) and the target ("" for none).
struct ChannelRatio {
    std::string what;
    double value = 0;
    std::string target;
    std::string missing;
};

std::vector<ChannelRatio> channel_ratios(const Report& report);

}  // namespace ipckit::bench
