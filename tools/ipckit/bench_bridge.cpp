// SPDX-License-Identifier: MIT
// `ipckit bench --bridge` (issue 19): the NATS bridge's own cost as ratios to raw libnats at the
// same sizes, measured in the same run against a nats-server this command starts on 127.0.0.1
// (a free port) and stops by PID:
//   throughput  chan -> bridge -> NATS -> bridge -> chan  vs  raw libnats publish -> subscribe
//   round trip  ping and pong, each chan -> bridge -> NATS -> bridge -> chan (four bridges)
//               vs  raw libnats request/reply (SendAsap responder: each reply written at once)
// bench/standalone/bridge_bench.cpp has the longer form (libnats' default batching and
// --low-latency columns too).
#include "bench_bridge.hpp"

#include "cli.hpp"
#include "ipckit/bridge/bridge.hpp"
#include "ipckit/channel/publisher.hpp"
#include "ipckit/channel/subscriber.hpp"
#include "ipckit/core/units.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fmt/core.h>
#include <fstream>
#include <initializer_list>
#include <nats/nats.h>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace ipckit::cli {

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

struct Latency {
    double p50_us = 0;
    double p99_us = 0;
};

struct Row {
    std::size_t size = 0;
    double raw_rate = 0;
    double bridge_rate = 0;
    Latency raw;
    Latency bridge;
};

/// A failure of the measurement itself (the CLI's edge: caught in run_bench_bridge).
[[noreturn]] void fail_with(const std::string& why) {
    throw std::runtime_error(why);
}

void check(natsStatus s, const char* what) {
    if (s != NATS_OK) {
        fail_with(std::string(what) + ": " + natsStatus_GetText(s));
    }
}

Latency percentiles(std::vector<double>& us) {
    if (us.empty()) {
        return {};
    }
    std::sort(us.begin(), us.end());
    auto at = [&](double q) {
        return us[std::min(us.size() - 1,
                           static_cast<std::size_t>(q * static_cast<double>(us.size())))];
    };
    return {at(0.50), at(0.99)};
}

/// $IPCKIT_NATS_SERVER, else nats-server on PATH, /usr/sbin or /usr/bin; empty when missing.
std::string find_nats_server() {
    if (const char* env = std::getenv("IPCKIT_NATS_SERVER"); env != nullptr && *env != '\0') {
        return ::access(env, X_OK) == 0 ? std::string(env) : std::string();
    }
    std::vector<std::string> dirs;
    if (const char* path = std::getenv("PATH"); path != nullptr) {
        std::string p(path);
        for (std::size_t pos = 0; pos <= p.size();) {
            const std::size_t colon = std::min(p.find(':', pos), p.size());
            dirs.push_back(p.substr(pos, colon - pos));
            pos = colon + 1;
        }
    }
    dirs.emplace_back("/usr/sbin");
    dirs.emplace_back("/usr/bin");
    for (const auto& d : dirs) {
        std::string candidate = (d.empty() ? std::string(".") : d) + "/nats-server";
        if (::access(candidate.c_str(), X_OK) == 0) {
            return candidate;
        }
    }
    return {};
}

/// A free TCP port on 127.0.0.1 (the kernel's pick; the server binds it right after).
std::uint16_t free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        fail_with("socket failed");
    }
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    auto* sa = reinterpret_cast<sockaddr*>(&a);  // NOLINT(cppcoreguidelines-pro-type-reinterpret-cast)
    const bool ok = ::bind(fd, sa, sizeof a) == 0 && ::getsockname(fd, sa, &len) == 0;
    ::close(fd);
    if (!ok) {
        fail_with("no free port on 127.0.0.1");
    }
    return ntohs(a.sin_port);
}

/// nats-server on 127.0.0.1:port, its output discarded; stopped by PID (SIGTERM, then SIGKILL
/// after 5 s) and killed with this process (PR_SET_PDEATHSIG).
class Server {
public:
    Server(const std::string& binary, std::uint16_t port) : pid_(spawn(binary, port)) {}
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;
    Server(Server&&) = delete;
    Server& operator=(Server&&) = delete;
    ~Server() {
        ::kill(pid_, SIGTERM);
        for (int i = 0; i < 500; ++i) {
            if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
                return;
            }
            std::this_thread::sleep_for(10ms);
        }
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
    /// False once the server has exited (it could not bind, ...).
    [[nodiscard]] bool running() const { return ::waitpid(pid_, nullptr, WNOHANG) == 0; }

private:
    static pid_t spawn(const std::string& binary, std::uint16_t port) {
        std::string p = std::to_string(port);
        std::vector<std::string> args{binary, "-a", "127.0.0.1", "-p", p};
        std::vector<char*> argv;
        argv.reserve(args.size() + 1);
        for (auto& a : args) {
            argv.push_back(a.data());
        }
        argv.push_back(nullptr);
        const pid_t parent = ::getpid();
        const pid_t pid = ::fork();
        if (pid < 0) {
            fail_with("fork failed");
        }
        if (pid == 0) {
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (::getppid() != parent) {
                ::_exit(127);
            }
            const int null = ::open("/dev/null", O_RDWR);
            if (null >= 0) {
                ::dup2(null, STDOUT_FILENO);
                ::dup2(null, STDERR_FILENO);
            }
            ::execv(argv[0], argv.data());
            ::_exit(127);
        }
        return pid;
    }

    pid_t pid_ = -1;
};

/// A libnats connection (SendAsap: every publish written at once), retried until `deadline`.
natsConnection* connect(const std::string& url, bool asap, Clock::time_point deadline) {
    for (;;) {
        natsOptions* o = nullptr;
        check(natsOptions_Create(&o), "nats options");
        check(natsOptions_SetURL(o, url.c_str()), "nats options");
        check(natsOptions_SetSendAsap(o, asap), "nats options");
        natsConnection* nc = nullptr;
        const natsStatus s = natsConnection_Connect(&nc, o);
        natsOptions_Destroy(o);
        if (s == NATS_OK) {
            return nc;
        }
        if (Clock::now() > deadline) {
            fail_with("no nats-server answered at " + url);
        }
        std::this_thread::sleep_for(20ms);
    }
}

natsConnection* connect(const std::string& url, bool asap = false) {
    return connect(url, asap, Clock::now() + 10s);
}

double raw_throughput(const std::string& url, std::size_t size, int count) {
    natsConnection* pub = connect(url);
    natsConnection* sub = connect(url);
    natsSubscription* s = nullptr;
    check(natsConnection_SubscribeSync(&s, sub, "raw.tput"), "subscribe");
    check(natsSubscription_SetPendingLimits(s, -1, -1), "pending limits");
    check(natsConnection_Flush(sub), "flush");
    const std::string payload(size, 'x');
    const auto start = Clock::now();
    bool lost = false;
    std::thread rx([&] {
        for (int i = 0; i < count; ++i) {
            natsMsg* m = nullptr;
            if (natsSubscription_NextMsg(&m, s, 10000) != NATS_OK) {
                lost = true;
                return;
            }
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
    if (lost) {
        fail_with("raw throughput: a message did not arrive within 10 s");
    }
    return count / secs;
}

void echo(natsConnection* nc, natsSubscription* /*sub*/, natsMsg* msg, void* /*closure*/) {
    natsConnection_Publish(
        nc, natsMsg_GetReply(msg), natsMsg_GetData(msg), natsMsg_GetDataLength(msg));
    natsMsg_Destroy(msg);
}

Latency raw_request_reply(const std::string& url, std::size_t size, int rounds) {
    natsConnection* server = connect(url, true);
    natsConnection* client = connect(url, true);
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

/// A Bridge (default options: adaptive flushing) running on its own thread.
class Running {
public:
    Running(const std::string& from, const std::string& to)
        : bridge_(Bridge::open(Uri::parse(from).value(), Uri::parse(to).value()).value())
        , thread_([this] { result_ = bridge_.run(); }) {}
    Running(const Running&) = delete;
    Running& operator=(const Running&) = delete;
    Running(Running&&) = delete;
    Running& operator=(Running&&) = delete;
    ~Running() {
        bridge_.stop();
        thread_.join();
    }

private:
    Bridge bridge_;
    Result<void> result_;
    std::thread thread_;
};

ChannelConfig channel(const std::string& dir, std::size_t size) {
    ChannelConfig c;
    c.options.dir = dir;
    c.max_message_size = std::max<std::size_t>(size, 64);
    c.lane_bytes = std::size_t{4} << 20;
    return c;
}

std::string chan(const std::string& name, const std::string& dir) {
    return "chan:" + name + "?dir=" + dir;
}

/// Removes the channel files `names` of `dir` (the next size creates them afresh).
void remove_channels(const std::string& dir, std::initializer_list<const char*> names) {
    std::error_code ec;
    for (const char* n : names) {
        std::filesystem::remove(dir + "/" + n + ".chan", ec);
    }
}

std::span<const std::byte> bytes_of(const std::string& s) {
    return std::as_bytes(std::span(s.data(), s.size()));
}

double bridge_throughput(const std::string& url, const std::string& dir, std::size_t size, int count) {
    auto pub = Publisher::create("tin", channel(dir, size)).value();
    auto sub = Subscriber::create("tout", channel(dir, size)).value();
    double rate = 0;
    bool lost = false;
    {
        const Running in(url + "/br.tput", chan("tout", dir));
        const Running out(chan("tin", dir), url + "/br.tput");
        const std::string payload(size, 'x');
        const auto start = Clock::now();
        std::thread rx([&] {
            std::vector<std::byte> buf;
            for (int i = 0; i < count; ++i) {
                auto r = sub.receive_until(buf, Deadline::after(10s));
                if (!r || !*r) {
                    lost = true;
                    return;
                }
            }
        });
        for (int i = 0; i < count; ++i) {
            pub.send(bytes_of(payload)).value();
        }
        rx.join();
        rate = count / std::chrono::duration<double>(Clock::now() - start).count();
    }
    remove_channels(dir, {"tin", "tout"});
    if (lost) {
        fail_with("bridge throughput: a message did not arrive within 10 s");
    }
    return rate;
}

Latency bridge_round_trip(const std::string& url, const std::string& dir, std::size_t size, int rounds) {
    auto ping_out = Publisher::create("pi_o", channel(dir, size)).value();
    auto ping_in = Subscriber::create("pi_i", channel(dir, size)).value();
    auto pong_out = Publisher::create("po_o", channel(dir, size)).value();
    auto pong_in = Subscriber::create("po_i", channel(dir, size)).value();
    std::vector<double> us;
    bool lost = false;
    {
        const Running b1(url + "/br.ping", chan("pi_i", dir));
        const Running b2(chan("pi_o", dir), url + "/br.ping");
        const Running b3(url + "/br.pong", chan("po_i", dir));
        const Running b4(chan("po_o", dir), url + "/br.pong");
        const int total = rounds + rounds / 10;
        std::thread echoer([&] {
            std::vector<std::byte> buf;
            for (int i = 0; i < total; ++i) {
                auto r = ping_in.receive_until(buf, Deadline::after(10s));
                if (!r || !*r) {
                    return;  // the pinger notices the missing pong
                }
                if (!pong_out.send(std::span(buf.data(), (*r)->size))) {
                    return;
                }
            }
        });
        const std::string payload(size, 'x');
        std::vector<std::byte> buf;
        for (int i = 0; i < total && !lost; ++i) {
            const auto t0 = Clock::now();
            ping_out.send(bytes_of(payload)).value();
            auto r = pong_in.receive_until(buf, Deadline::after(10s));
            lost = !r || !*r;
            if (!lost && i >= rounds / 10) {
                us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
            }
        }
        echoer.join();
    }
    remove_channels(dir, {"pi_o", "pi_i", "po_o", "po_i"});
    if (lost) {
        fail_with("bridge round trip: a pong did not arrive within 10 s");
    }
    return percentiles(us);
}

std::vector<std::size_t> parse_sizes(const std::string& text) {
    if (text.empty()) {
        return {64, 1024};
    }
    std::vector<std::size_t> out;
    for (std::size_t pos = 0; pos <= text.size();) {
        const std::size_t comma = std::min(text.find(',', pos), text.size());
        const auto n =
            parse_size(std::string_view(text).substr(pos, comma - pos), kSizeBytes, 1U << 20);
        if (!n || *n == 0) {
            return {};
        }
        out.push_back(static_cast<std::size_t>(*n));
        pos = comma + 1;
    }
    return out;
}

std::string pair(const Latency& l) {
    return fmt::format("{:.0f}/{:.0f}", l.p50_us, l.p99_us);
}

double ratio(double a, double b) {
    return b > 0 ? a / b : 0;
}

nlohmann::json to_json(const std::vector<Row>& rows) {
    nlohmann::json out = nlohmann::json::array();
    for (const Row& r : rows) {
        out.push_back({{"size", r.size},
                       {"raw_msgs_per_s", r.raw_rate},
                       {"bridge_msgs_per_s", r.bridge_rate},
                       {"throughput_ratio", ratio(r.bridge_rate, r.raw_rate)},
                       {"raw_p50_us", r.raw.p50_us},
                       {"raw_p99_us", r.raw.p99_us},
                       {"bridge_p50_us", r.bridge.p50_us},
                       {"bridge_p99_us", r.bridge.p99_us},
                       {"latency_ratio_p50", ratio(r.bridge.p50_us, r.raw.p50_us)},
                       {"latency_ratio_p99", ratio(r.bridge.p99_us, r.raw.p99_us)}});
    }
    return out;
}

int write_json(const std::string& path, const nlohmann::json& j) {
    if (path.empty()) {
        return kExitOk;
    }
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f << j.dump(2) << '\n';
    f.close();
    if (!f) {
        print_error("bench", Error(std::errc::io_error, "write", path));
        return kExitFailure;
    }
    fmt::print("JSON written to {}\n", path);
    return kExitOk;
}

}  // namespace

int run_bench_bridge(const std::string& sizes_text, bool quick, const std::string& json) {
    const std::vector<std::size_t> sizes = parse_sizes(sizes_text);
    if (sizes.empty()) {
        print_error("bench",
                    Error(std::errc::invalid_argument,
                          "--sizes",
                          sizes_text,
                          "each size is 1 B .. 1 MiB (64, 1K, 4KiB, ...)"));
        return kExitUsage;
    }
    const int count = quick ? 5'000 : 50'000;
    const int rounds = quick ? 300 : 3'000;
    nlohmann::json j = {{"schema", "ipckit.bench.bridge/1"}, {"count", count}, {"rounds", rounds}};
    const std::string binary = find_nats_server();
    if (binary.empty()) {
        const std::string why =
            "nats-server not found (install the Debian package nats-server, or set "
            "IPCKIT_NATS_SERVER)";
        fmt::print("bridge (NATS): skipped: {}\n", why);
        j["skipped"] = why;
        return write_json(json, j);
    }
    std::string tmpl = (std::filesystem::temp_directory_path() / "ipckit-bench-bridge-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
        print_error("bench", Error(std::error_code(errno, std::system_category()), "mkdtemp", tmpl));
        return kExitFailure;
    }
    const std::string dir = tmpl;
    std::vector<Row> rows;
    int rc = kExitOk;
    try {
        const std::uint16_t port = free_port();
        const Server server(binary, port);
        const std::string url = "nats://127.0.0.1:" + std::to_string(port);
        natsConnection_Destroy(connect(url));  // it answers
        if (!server.running()) {
            fail_with("nats-server exited at start (" + binary + ")");
        }
        j["server"] = url;
        fmt::print(
            "bridge (NATS, {}; {} messages, {} round trips): chan -> bridge -> NATS -> bridge -> "
            "chan vs raw libnats in the same run\n",
            url,
            count,
            rounds);
        fmt::print("{:>8} {:>12} {:>12} {:>6} {:>14} {:>14} {:>11}\n",
                   "size",
                   "raw msg/s",
                   "bridge msg/s",
                   "ratio",
                   "raw p50/p99us",
                   "bridge p50/p99",
                   "ratio p50/99");
        for (const std::size_t size : sizes) {
            Row r;
            r.size = size;
            r.raw_rate = raw_throughput(url, size, count);
            r.bridge_rate = bridge_throughput(url, dir, size, count);
            r.raw = raw_request_reply(url, size, rounds);
            r.bridge = bridge_round_trip(url, dir, size, rounds);
            fmt::print("{:>8} {:>12.0f} {:>12.0f} {:>6.2f} {:>14} {:>14} {:>5.2f}/{:<5.2f}\n",
                       size,
                       r.raw_rate,
                       r.bridge_rate,
                       ratio(r.bridge_rate, r.raw_rate),
                       pair(r.raw),
                       pair(r.bridge),
                       ratio(r.bridge.p50_us, r.raw.p50_us),
                       ratio(r.bridge.p99_us, r.raw.p99_us));
            (void)std::fflush(stdout);
            rows.push_back(r);
        }
        j["rows"] = to_json(rows);
    } catch (const std::exception& e) {
        print_error("bench", Error(std::errc::io_error, "bench --bridge", {}, e.what()));
        rc = kExitFailure;
    }
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    if (rc != kExitOk) {
        return rc;
    }
    return write_json(json, j);
}

}  // namespace ipckit::cli
