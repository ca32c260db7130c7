// SPDX-License-Identifier: MIT
// bench_bridge_bench: the bridge's own cost, measured in one run against raw libnats at the same
// message sizes (issue 19, docs/design/bridge.md):
//   throughput  chan -> Bridge -> NATS -> Bridge -> chan   vs  raw libnats publish -> subscribe
//   latency     a round trip through four bridges (ping and pong: chan -> NATS -> chan each way)
//               vs  raw libnats request/reply (natsConnection_Request to an echoing responder)
// Starts its own nats-server on 127.0.0.1 (a free port) unless given --server nats://HOST:PORT.
// Usage: bench_bridge_bench [--server URL] [--count N] [--rounds N] [--sizes 64,1024,...]
#include "ipckit/bridge/bridge.hpp"
#include "ipckit/channel/publisher.hpp"
#include "ipckit/channel/subscriber.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <nats/nats.h>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

struct Args {
    std::string server;
    int count = 100'000;  // messages per throughput run
    int rounds = 5'000;   // round trips per latency run
    std::vector<std::size_t> sizes{64, 1024, 16384};
};

struct Latency {
    double p50_us = 0;
    double p99_us = 0;
};

Latency percentiles(std::vector<double>& us) {
    std::sort(us.begin(), us.end());
    auto at = [&](double q) {
        return us[std::min(us.size() - 1,
                           static_cast<std::size_t>(q * static_cast<double>(us.size())))];
    };
    return {at(0.50), at(0.99)};
}

[[noreturn]] void die(const std::string& why) {
    (void)std::fprintf(stderr, "bench_bridge_bench: %s\n", why.c_str());
    std::exit(1);
}

void check(natsStatus s, const char* what) {
    if (s != NATS_OK) {
        die(std::string(what) + ": " + natsStatus_GetText(s));
    }
}

std::uint16_t free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    (void)::bind(fd,
                 reinterpret_cast<sockaddr*>(&a),
                 sizeof a);  // NOLINT(cppcoreguidelines-pro-type-reinterpret-cast)
    ::getsockname(fd,
                  reinterpret_cast<sockaddr*>(&a),
                  &len);  // NOLINT(cppcoreguidelines-pro-type-reinterpret-cast)
    ::close(fd);
    return ntohs(a.sin_port);
}

/// nats-server on 127.0.0.1:port, stopped by PID at exit.
class Server {
public:
    explicit Server(std::uint16_t port) {
        std::string bin = "/usr/sbin/nats-server";
        if (::access(bin.c_str(), X_OK) != 0) {
            die("nats-server not found (install the Debian package nats-server) or pass --server");
        }
        std::string p = std::to_string(port);
        std::vector<std::string> args{bin, "-a", "127.0.0.1", "-p", p, "-l", "/dev/null"};
        std::vector<char*> argv;
        argv.reserve(args.size() + 1);
        for (auto& a : args) {
            argv.push_back(a.data());
        }
        argv.push_back(nullptr);
        pid_ = ::fork();
        if (pid_ == 0) {
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);
            ::execv(argv[0], argv.data());
            ::_exit(127);
        }
    }
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;
    Server(Server&&) = delete;
    Server& operator=(Server&&) = delete;
    ~Server() {
        ::kill(pid_, SIGTERM);
        ::waitpid(pid_, nullptr, 0);
    }

private:
    pid_t pid_ = -1;
};

/// A connection with libnats' defaults, or with SendAsap (every publish written at once).
natsConnection* connect(const std::string& url, bool asap = false) {
    const auto deadline = Clock::now() + 10s;
    for (;;) {
        natsOptions* o = nullptr;
        check(natsOptions_Create(&o), "options");
        check(natsOptions_SetURL(o, url.c_str()), "options");
        check(natsOptions_SetSendAsap(o, asap), "options");
        natsConnection* nc = nullptr;
        const natsStatus s = natsConnection_Connect(&nc, o);
        natsOptions_Destroy(o);
        if (s == NATS_OK) {
            return nc;
        }
        if (Clock::now() > deadline) {
            die("no server at " + url);
        }
        std::this_thread::sleep_for(20ms);
    }
}

/// Raw libnats: messages/s from the first publish to the last message received.
double raw_throughput(const std::string& url, std::size_t size, int count) {
    natsConnection* pub = connect(url);
    natsConnection* sub = connect(url);
    natsSubscription* s = nullptr;
    check(natsConnection_SubscribeSync(&s, sub, "raw.tput"), "subscribe");
    check(natsSubscription_SetPendingLimits(s, -1, -1), "pending limits");
    check(natsConnection_Flush(sub), "flush");
    const std::string payload(size, 'x');
    const auto start = Clock::now();
    std::thread rx([&] {
        for (int i = 0; i < count; ++i) {
            natsMsg* m = nullptr;
            check(natsSubscription_NextMsg(&m, s, 10000), "raw receive");
            natsMsg_Destroy(m);
        }
    });
    for (int i = 0; i < count; ++i) {
        check(natsConnection_Publish(pub, "raw.tput", payload.data(), static_cast<int>(size)),
              "publish");
    }
    check(natsConnection_Flush(pub), "flush");
    rx.join();
    const double secs = std::chrono::duration<double>(Clock::now() - start).count();
    natsSubscription_Destroy(s);
    natsConnection_Destroy(sub);
    natsConnection_Destroy(pub);
    return count / secs;
}

void echo(natsConnection* nc, natsSubscription* /*sub*/, natsMsg* msg, void* /*closure*/) {
    natsConnection_Publish(
        nc, natsMsg_GetReply(msg), natsMsg_GetData(msg), natsMsg_GetDataLength(msg));
    natsMsg_Destroy(msg);
}

/// Raw libnats request/reply round trips.
Latency raw_request_reply(const std::string& url, std::size_t size, int rounds, bool asap) {
    natsConnection* server = connect(url, asap);
    natsConnection* client = connect(url, asap);
    natsSubscription* s = nullptr;
    check(natsConnection_Subscribe(&s, server, "raw.echo", echo, nullptr), "subscribe");
    check(natsConnection_Flush(server), "flush");
    const std::string payload(size, 'x');
    std::vector<double> us;
    us.reserve(static_cast<std::size_t>(rounds));
    for (int i = 0; i < rounds + rounds / 10; ++i) {  // the first tenth warms up
        natsMsg* reply = nullptr;
        const auto t0 = Clock::now();
        check(natsConnection_Request(
                  &reply, client, "raw.echo", payload.data(), static_cast<int>(size), 5000),
              "request");
        const auto t1 = Clock::now();
        natsMsg_Destroy(reply);
        if (i >= rounds / 10) {
            us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
        }
    }
    natsSubscription_Destroy(s);
    natsConnection_Destroy(client);
    natsConnection_Destroy(server);
    return percentiles(us);
}

/// A Bridge running on its own thread.
class Running {
public:
    Running(const std::string& from, const std::string& to, bool low_latency = false)
        : bridge_(ipckit::Bridge::open(ipckit::Uri::parse(from).value(),
                                       ipckit::Uri::parse(to).value(),
                                       options(low_latency))
                      .value())
        , thread_([this] { bridge_.run().value(); }) {}
    Running(const Running&) = delete;
    Running& operator=(const Running&) = delete;
    Running(Running&&) = delete;
    Running& operator=(Running&&) = delete;
    ~Running() {
        bridge_.stop();
        thread_.join();
    }

private:
    static ipckit::BridgeOptions options(bool low_latency) {
        ipckit::BridgeOptions o;
        o.low_latency = low_latency;
        return o;
    }
    ipckit::Bridge bridge_;
    std::thread thread_;
};

ipckit::ChannelConfig channel(const std::string& dir, std::size_t size) {
    ipckit::ChannelConfig c;
    c.options.dir = dir;
    c.max_message_size = std::max<std::size_t>(size, 64);
    c.lane_bytes = std::size_t{4} << 20;
    return c;
}

std::string chan(const std::string& name, const std::string& dir) {
    return "chan:" + name + "?dir=" + dir;
}

/// chan -> Bridge -> NATS -> Bridge -> chan: messages/s from the first send to the last receive.
double bridge_throughput(const std::string& url,
                         const std::string& dir,
                         std::size_t size,
                         int count) {
    auto pub = ipckit::Publisher::create("tin", channel(dir, size)).value();
    auto sub = ipckit::Subscriber::create("tout", channel(dir, size)).value();
    double rate = 0;
    {
        const Running in(url + "/br.tput", chan("tout", dir));
        const Running out(chan("tin", dir), url + "/br.tput");
        const std::string payload(size, 'x');
        const auto bytes = std::as_bytes(std::span(payload.data(), payload.size()));
        const auto start = Clock::now();
        std::thread rx([&] {
            std::vector<std::byte> buf;
            for (int i = 0; i < count; ++i) {
                if (!sub.receive_until(buf, ipckit::Deadline::after(10s)).value()) {
                    die("bridge throughput: a message did not arrive within 10 s");
                }
            }
        });
        for (int i = 0; i < count; ++i) {
            pub.send(bytes).value();
        }
        rx.join();
        rate = count / std::chrono::duration<double>(Clock::now() - start).count();
    }
    for (const char* f : {"tin", "tout"}) {
        std::filesystem::remove(dir + "/" + f + ".chan");
    }
    return rate;
}

/// Round trips through four bridges: ping (chan -> NATS -> chan), echoed into pong (chan ->
/// NATS -> chan).
Latency bridge_round_trip(const std::string& url,
                          const std::string& dir,
                          std::size_t size,
                          int rounds,
                          bool low_latency) {
    auto ping_out = ipckit::Publisher::create("pi_o", channel(dir, size)).value();
    auto ping_in = ipckit::Subscriber::create("pi_i", channel(dir, size)).value();
    auto pong_out = ipckit::Publisher::create("po_o", channel(dir, size)).value();
    auto pong_in = ipckit::Subscriber::create("po_i", channel(dir, size)).value();
    Latency lat;
    {
        const Running b1(url + "/br.ping", chan("pi_i", dir), low_latency);
        const Running b2(chan("pi_o", dir), url + "/br.ping", low_latency);
        const Running b3(url + "/br.pong", chan("po_i", dir), low_latency);
        const Running b4(chan("po_o", dir), url + "/br.pong", low_latency);
        const int total = rounds + rounds / 10;
        std::thread echoer([&] {
            std::vector<std::byte> buf;
            for (int i = 0; i < total; ++i) {
                auto r = ping_in.receive_until(buf, ipckit::Deadline::after(10s)).value();
                if (!r) {
                    die("bridge latency: a ping did not arrive within 10 s");
                }
                pong_out.send(std::span(buf.data(), r->size)).value();
            }
        });
        const std::string payload(size, 'x');
        const auto bytes = std::as_bytes(std::span(payload.data(), payload.size()));
        std::vector<double> us;
        std::vector<std::byte> buf;
        for (int i = 0; i < total; ++i) {
            const auto t0 = Clock::now();
            ping_out.send(bytes).value();
            if (!pong_in.receive_until(buf, ipckit::Deadline::after(10s)).value()) {
                die("bridge latency: a pong did not arrive within 10 s");
            }
            const auto t1 = Clock::now();
            if (i >= rounds / 10) {
                us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
            }
        }
        echoer.join();
        lat = percentiles(us);
    }
    for (const char* f : {"pi_o", "pi_i", "po_o", "po_i"}) {
        std::filesystem::remove(dir + "/" + f + ".chan");
    }
    return lat;
}

Args parse(int argc, char** argv) {
    Args a;
    const std::vector<std::string> v(argv + 1, argv + argc);
    for (std::size_t i = 0; i + 1 < v.size() + 1 && i < v.size(); ++i) {
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
                a.sizes.push_back(std::strtoull(s.substr(pos, comma - pos).c_str(), nullptr, 10));
                pos = comma + 1;
            }
        } else {
            die("unknown argument " + v[i] +
                " (usage: [--server nats://HOST:PORT] [--count N] [--rounds N] [--sizes 64,1024])");
        }
    }
    return a;
}

int run(int argc, char** argv) {
    const Args a = parse(argc, argv);
    std::optional<Server> own;
    std::string url = a.server;
    if (url.empty()) {
        const std::uint16_t port = free_port();
        own.emplace(port);
        url = "nats://127.0.0.1:" + std::to_string(port);
    }
    ::natsConnection_Destroy(connect(url));  // it answers
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "ipckit-bridge-bench-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
        die("mkdtemp failed");
    }
    const std::string dir = tmpl;
    std::printf("# %s, %d messages per throughput run, %d round trips per latency run\n",
                url.c_str(),
                a.count,
                a.rounds);
    std::printf(
        "throughput (msg/s): raw libnats publish -> subscribe vs chan -> bridge -> NATS -> "
        "bridge -> chan\n");
    std::printf("%8s %14s %14s %7s\n", "size", "raw", "bridge", "ratio");
    for (const std::size_t size : a.sizes) {
        const double raw = raw_throughput(url, size, a.count);
        const double br = bridge_throughput(url, dir, size, a.count);
        std::printf("%8zu %14.0f %14.0f %7.2f\n", size, raw, br, br / raw);
        (void)std::fflush(stdout);
    }
    std::printf(
        "\nround trip (us, p50/p99): raw libnats request/reply (default, and SendAsap) vs "
        "4 bridges (ping and pong each chan -> NATS -> chan; default, and --low-latency)\n");
    std::printf("%8s %15s %15s %15s %15s %13s\n",
                "size",
                "raw",
                "raw asap",
                "bridge",
                "bridge lowlat",
                "lowlat/asap");
    for (const std::size_t size : a.sizes) {
        const Latency raw = raw_request_reply(url, size, a.rounds, false);
        const Latency raw_asap = raw_request_reply(url, size, a.rounds, true);
        const Latency br = bridge_round_trip(url, dir, size, a.rounds, false);
        const Latency br_fast = bridge_round_trip(url, dir, size, a.rounds, true);
        auto pair = [](const Latency& l) {
            char buf[32];
            (void)std::snprintf(buf, sizeof buf, "%.0f/%.0f", l.p50_us, l.p99_us);
            return std::string(buf);
        };
        std::printf("%8zu %15s %15s %15s %15s %6.2f/%-6.2f\n",
                    size,
                    pair(raw).c_str(),
                    pair(raw_asap).c_str(),
                    pair(br).c_str(),
                    pair(br_fast).c_str(),
                    br_fast.p50_us / raw_asap.p50_us,
                    br_fast.p99_us / raw_asap.p99_us);
        (void)std::fflush(stdout);
    }
    std::filesystem::remove_all(dir);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const std::exception& e) {
        (void)std::fprintf(stderr, "bench_bridge_bench: %s\n", e.what());
        return 1;
    }
}
