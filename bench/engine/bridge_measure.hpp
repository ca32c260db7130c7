// SPDX-License-Identifier: MIT
// The NATS bridge's own cost against raw libnats at the same sizes (issue 19): the one set of
// measurements behind `ipckit bench --bridge` (tools/ipckit/bench_bridge.cpp) and
// bench/standalone/bridge_bench.cpp. A failed measurement throws std::runtime_error.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <sys/types.h>

namespace ipckit::bench {

struct BridgeLatency {
    double p50_us = 0;
    double p99_us = 0;
};

/// $IPCKIT_NATS_SERVER, else nats-server on PATH, /usr/sbin or /usr/bin; empty when missing.
std::string find_nats_server();

/// nats-server on 127.0.0.1 at a free port, its output discarded; answering once constructed.
/// Stopped by PID (SIGTERM, then SIGKILL after 5 s) and killed with this process.
class NatsServerProcess {
public:
    explicit NatsServerProcess(const std::string& binary);
    NatsServerProcess(const NatsServerProcess&) = delete;
    NatsServerProcess& operator=(const NatsServerProcess&) = delete;
    NatsServerProcess(NatsServerProcess&&) = delete;
    NatsServerProcess& operator=(NatsServerProcess&&) = delete;
    ~NatsServerProcess();
    [[nodiscard]] const std::string& url() const { return url_; }

private:
    pid_t pid_ = -1;
    std::string url_;
};

/// A private directory for the channel files (mkdtemp), removed with everything in it.
class BenchDir {
public:
    BenchDir();
    BenchDir(const BenchDir&) = delete;
    BenchDir& operator=(const BenchDir&) = delete;
    BenchDir(BenchDir&&) = delete;
    BenchDir& operator=(BenchDir&&) = delete;
    ~BenchDir();
    [[nodiscard]] const std::string& path() const { return path_; }

private:
    std::string path_;
};

/// Waits (10 s at most) until a server answers at `url`.
void wait_for_nats(const std::string& url);

/// Raw libnats publish -> subscribe: messages/s from the first publish to the last receive.
double raw_nats_throughput(const std::string& url, std::size_t size, int count);

/// The same where each message is a natsMsg carrying one header the size of the bridge's
/// (`Ipckit: o=ORIGIN;s=SEQ;p=PID;l=LANE`): natsMsg_Create, natsMsgHeader_Set,
/// natsConnection_PublishMsg and natsMsg_Destroy on the publishing side, natsMsgHeader_Get on the
/// receiving side, the libnats calls a bridge makes per message. Against raw_nats_throughput()
/// it is libnats' header path; against bridge_throughput() the bridge's own work.
double raw_nats_header_throughput(const std::string& url, std::size_t size, int count);

/// Raw libnats request/reply to an echoing responder; `asap`: both sides with SendAsap (every
/// publish written at once), else libnats' default batching.
BridgeLatency raw_nats_request_reply(const std::string& url, std::size_t size, int rounds, bool asap);

/// chan -> Bridge -> NATS -> Bridge -> chan (channels in `dir`): messages/s.
double bridge_throughput(const std::string& url, const std::string& dir, std::size_t size, int count);

/// Round trips through four bridges: ping (chan -> NATS -> chan), echoed into pong (chan ->
/// NATS -> chan). `low_latency`: the bridges' --low-latency (SendAsap), else adaptive flushing.
BridgeLatency bridge_round_trip(
    const std::string& url, const std::string& dir, std::size_t size, int rounds, bool low_latency);

}  // namespace ipckit::bench
