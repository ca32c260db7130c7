// SPDX-License-Identifier: MIT
// bench_bridge_bench: the bridge's own cost, measured in one run against raw libnats at the same
// message sizes (issue 19, docs/design/bridge.md); the long form of `ipckit bench --bridge`, with
// libnats' default batching and the bridges' --low-latency as extra columns. The measurements
// are bench/engine/bridge_measure.cpp:
//   throughput  chan -> Bridge -> NATS -> Bridge -> chan   vs  raw libnats publish -> subscribe,
//               plain and as natsMsg with one header of the bridge's size (libnats' header path)
//   latency     a round trip through four bridges (ping and pong: chan -> NATS -> chan each way)
//               vs  raw libnats request/reply (natsConnection_Request to an echoing responder)
// Starts its own nats-server on 127.0.0.1 (a free port) unless given --server nats://HOST:PORT.
// Usage: bench_bridge_bench [--server URL] [--count N] [--rounds N] [--sizes 64,1024,...]
#include "engine/bridge_measure.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <optional>
#include <string>
#include <vector>

namespace {

namespace b = ipckit::bench;

struct Args {
    std::string server;
    int count = 100'000;  // messages per throughput run
    int rounds = 5'000;   // round trips per latency run
    std::vector<std::size_t> sizes{64, 1024, 16384};
};

[[noreturn]] void die(const std::string& why) {
    (void)std::fprintf(stderr, "bench_bridge_bench: %s\n", why.c_str());
    std::exit(2);
}

Args parse(int argc, char** argv) {
    Args a;
    const std::vector<std::string> v(argv + 1, argv + argc);
    for (std::size_t i = 0; i < v.size(); ++i) {
        auto value = [&] {
            if (i + 1 >= v.size()) {
                die(v[i] + " needs a value");
            }
            return v[++i];
        };
        if (v[i] == "--server") {
            a.server = value();
        } else if (v[i] == "--count") {
            a.count = static_cast<int>(
                std::clamp(std::strtol(value().c_str(), nullptr, 10), 1L, 100'000'000L));
        } else if (v[i] == "--rounds") {
            a.rounds = static_cast<int>(
                std::clamp(std::strtol(value().c_str(), nullptr, 10), 10L, 100'000'000L));
        } else if (v[i] == "--sizes") {
            a.sizes.clear();
            std::string s = value();
            for (std::size_t pos = 0; pos <= s.size();) {
                const std::size_t comma = std::min(s.find(',', pos), s.size());
                a.sizes.push_back(std::clamp<std::size_t>(
                    std::strtoull(s.substr(pos, comma - pos).c_str(), nullptr, 10), 1, 1U << 20));
                pos = comma + 1;
            }
        } else {
            die("unknown argument " + v[i] +
                " (usage: [--server nats://HOST:PORT] [--count N] [--rounds N] [--sizes 64,1024])");
        }
    }
    return a;
}

std::string pair(const b::BridgeLatency& l) {
    char buf[48];
    (void)std::snprintf(buf, sizeof buf, "%.0f/%.0f", l.p50_us, l.p99_us);
    return buf;
}

int run(const Args& a) {
    std::optional<b::NatsServerProcess> own;
    std::string url = a.server;
    if (url.empty()) {
        const std::string binary = b::find_nats_server();
        if (binary.empty()) {
            die("nats-server not found (install the Debian package nats-server) or pass --server");
        }
        own.emplace(binary);
        url = own->url();
    }
    b::wait_for_nats(url);
    const b::BenchDir dir;
    std::printf("# %s, %d messages per throughput run, %d round trips per latency run\n",
                url.c_str(),
                a.count,
                a.rounds);
    std::printf(
        "throughput (msg/s): raw libnats publish -> subscribe, the same as natsMsg with one\n"
        "header of the bridge's size (raw+hdr: libnats' header path), vs chan -> bridge -> NATS\n"
        "-> bridge -> chan; ratio = bridge/raw, hdr/raw = raw+hdr/raw, br/hdr = bridge/raw+hdr\n");
    std::printf("%8s %14s %14s %14s %7s %7s %7s\n",
                "size",
                "raw",
                "raw+hdr",
                "bridge",
                "ratio",
                "hdr/raw",
                "br/hdr");
    for (const std::size_t size : a.sizes) {
        const double raw = b::raw_nats_throughput(url, size, a.count);
        const double hdr = b::raw_nats_header_throughput(url, size, a.count);
        const double br = b::bridge_throughput(url, dir.path(), size, a.count);
        std::printf("%8zu %14.0f %14.0f %14.0f %7.2f %7.2f %7.2f\n",
                    size,
                    raw,
                    hdr,
                    br,
                    br / raw,
                    hdr / raw,
                    br / hdr);
        (void)std::fflush(stdout);
    }
    std::printf(
        "\nround trip (us, p50/p99): raw libnats request/reply (default, and SendAsap) vs "
        "4 bridges (ping and pong each chan -> NATS -> chan; default, and --low-latency)\n");
    std::printf("%8s %15s %15s %15s %15s %13s %13s\n",
                "size",
                "raw",
                "raw asap",
                "bridge",
                "bridge lowlat",
                "bridge/asap",
                "lowlat/asap");
    for (const std::size_t size : a.sizes) {
        const auto raw = b::raw_nats_request_reply(url, size, a.rounds, false);
        const auto raw_asap = b::raw_nats_request_reply(url, size, a.rounds, true);
        const auto br = b::bridge_round_trip(url, dir.path(), size, a.rounds, false);
        const auto br_fast = b::bridge_round_trip(url, dir.path(), size, a.rounds, true);
        std::printf("%8zu %15s %15s %15s %15s %6.2f/%-6.2f %6.2f/%-6.2f\n",
                    size,
                    pair(raw).c_str(),
                    pair(raw_asap).c_str(),
                    pair(br).c_str(),
                    pair(br_fast).c_str(),
                    br.p50_us / raw_asap.p50_us,
                    br.p99_us / raw_asap.p99_us,
                    br_fast.p50_us / raw_asap.p50_us,
                    br_fast.p99_us / raw_asap.p99_us);
        (void)std::fflush(stdout);
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const Args a = parse(argc, argv);
    try {
        return run(a);
    } catch (const std::exception& e) {
        (void)std::fprintf(stderr, "bench_bridge_bench: %s\n", e.what());
        return 1;
    }
}
