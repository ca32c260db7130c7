// SPDX-License-Identifier: MIT
#include "bridge_measure.hpp"

#include "ipckit/bridge/bridge.hpp"
#include "ipckit/channel/publisher.hpp"
#include "ipckit/channel/subscriber.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <initializer_list>
#include <nats/nats.h>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace ipckit::bench {

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

[[noreturn]] void fail_with(const std::string& why) {
    throw std::runtime_error(why);
}

void check(natsStatus s, const char* what) {
    if (s != NATS_OK) {
        fail_with(std::string(what) + ": " + natsStatus_GetText(s));
    }
}

BridgeLatency percentiles(std::vector<double>& us) {
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

pid_t spawn_server(const std::string& binary, std::uint16_t port) {
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

void stop_server(pid_t pid) {
    ::kill(pid, SIGTERM);
    for (int i = 0; i < 500; ++i) {
        if (::waitpid(pid, nullptr, WNOHANG) == pid) {
            return;
        }
        std::this_thread::sleep_for(10ms);
    }
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
}

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

void echo(natsConnection* nc, natsSubscription* /*sub*/, natsMsg* msg, void* /*closure*/) {
    natsConnection_Publish(
        nc, natsMsg_GetReply(msg), natsMsg_GetData(msg), natsMsg_GetDataLength(msg));
    natsMsg_Destroy(msg);
}

/// A Bridge running on its own thread.
class Running {
public:
    Running(const std::string& from, const std::string& to, bool low_latency)
        : bridge_(Bridge::open(Uri::parse(from).value(), Uri::parse(to).value(), options(low_latency))
                      .value())
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
    static BridgeOptions options(bool low_latency) {
        BridgeOptions o;
        o.low_latency = low_latency;
        return o;
    }
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

}  // namespace

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

NatsServerProcess::NatsServerProcess(const std::string& binary) {
    const std::uint16_t port = free_port();
    pid_ = spawn_server(binary, port);
    url_ = "nats://127.0.0.1:" + std::to_string(port);
    try {
        wait_for_nats(url_);
        if (::waitpid(pid_, nullptr, WNOHANG) != 0) {
            fail_with("nats-server exited at start (" + binary + ")");
        }
    } catch (...) {
        stop_server(pid_);
        throw;
    }
}

NatsServerProcess::~NatsServerProcess() {
    stop_server(pid_);
}

BenchDir::BenchDir()
    : path_((std::filesystem::temp_directory_path() / "ipckit-bench-bridge-XXXXXX").string()) {
    if (::mkdtemp(path_.data()) == nullptr) {
        fail_with("mkdtemp " + path_ + ": " + std::generic_category().message(errno));
    }
}

BenchDir::~BenchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

void wait_for_nats(const std::string& url) {
    natsConnection_Destroy(connect(url));
}

namespace {

/// One publish of `payload` on raw.tput: plain, or (`header` not empty) as a natsMsg with the
/// header `Ipckit: HEADER`, made and freed as the bridge makes and frees it.
natsStatus raw_publish(natsConnection* pub, const std::string& payload, const std::string& header) {
    if (header.empty()) {
        return natsConnection_Publish(
            pub, "raw.tput", payload.data(), static_cast<int>(payload.size()));
    }
    natsMsg* m = nullptr;
    natsStatus st =
        natsMsg_Create(&m, "raw.tput", nullptr, payload.data(), static_cast<int>(payload.size()));
    if (st == NATS_OK) {
        st = natsMsgHeader_Set(m, "Ipckit", header.c_str());
    }
    if (st == NATS_OK) {
        st = natsConnection_PublishMsg(pub, m);
    }
    natsMsg_Destroy(m);
    return st;
}

double raw_nats_publish_subscribe(const std::string& url,
                                  std::size_t size,
                                  int count,
                                  const std::string& header) {
    natsConnection* pub = connect(url);
    natsConnection* sub = connect(url);
    natsSubscription* s = nullptr;
    check(natsConnection_SubscribeSync(&s, sub, "raw.tput"), "subscribe");
    check(natsSubscription_SetPendingLimits(s, -1, -1), "pending limits");
    check(natsConnection_Flush(sub), "flush");
    const std::string payload(size, 'x');
    const auto start = Clock::now();
    std::atomic<bool> lost = false;
    std::thread rx([&] {
        for (int i = 0; i < count; ++i) {
            natsMsg* m = nullptr;
            if (natsSubscription_NextMsg(&m, s, 10000) != NATS_OK) {
                lost = true;
                return;
            }
            const char* value = nullptr;
            if (!header.empty() && natsMsgHeader_Get(m, "Ipckit", &value) != NATS_OK) {
                lost = true;
            }
            natsMsg_Destroy(m);
        }
    });
    natsStatus st = NATS_OK;
    for (int i = 0; i < count && st == NATS_OK; ++i) {
        st = raw_publish(pub, payload, header);
    }
    if (st == NATS_OK) {
        st = natsConnection_Flush(pub);
    }
    rx.join();
    const double secs = std::chrono::duration<double>(Clock::now() - start).count();
    natsSubscription_Destroy(s);
    natsConnection_Destroy(sub);
    natsConnection_Destroy(pub);
    check(st, "publish");
    if (lost) {
        fail_with("raw throughput: a message did not arrive within 10 s (or without its header)");
    }
    return count / secs;
}

}  // namespace

double raw_nats_throughput(const std::string& url, std::size_t size, int count) {
    return raw_nats_publish_subscribe(url, size, count, {});
}

double raw_nats_header_throughput(const std::string& url, std::size_t size, int count) {
    // What a chan -> NATS bridge writes: a 16-digit origin, the sequence, the pid, the lane.
    const std::string header = "o=0123456789abcdef;s=" + std::to_string(count) +
                               ";p=" + std::to_string(::getpid()) + ";l=0";
    return raw_nats_publish_subscribe(url, size, count, header);
}

BridgeLatency raw_nats_request_reply(const std::string& url, std::size_t size, int rounds, bool asap) {
    natsConnection* server = connect(url, asap);
    natsConnection* client = connect(url, asap);
    natsSubscription* s = nullptr;
    check(natsConnection_Subscribe(&s, server, "raw.echo", echo, nullptr), "subscribe");
    check(natsConnection_Flush(server), "flush");
    const std::string payload(size, 'x');
    std::vector<double> us;
    us.reserve(static_cast<std::size_t>(rounds));
    natsStatus st = NATS_OK;
    for (int i = 0; i < rounds + rounds / 10 && st == NATS_OK; ++i) {  // the first tenth warms up
        natsMsg* reply = nullptr;
        const auto t0 = Clock::now();
        st = natsConnection_Request(&reply, client, "raw.echo", payload.data(), static_cast<int>(size), 5000);
        const auto t1 = Clock::now();
        natsMsg_Destroy(reply);
        if (i >= rounds / 10) {
            us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
        }
    }
    natsSubscription_Destroy(s);
    natsConnection_Destroy(client);
    natsConnection_Destroy(server);
    check(st, "request");
    return percentiles(us);
}

double bridge_throughput(const std::string& url, const std::string& dir, std::size_t size, int count) {
    auto pub = Publisher::create("tin", channel(dir, size)).value();
    auto sub = Subscriber::create("tout", channel(dir, size)).value();
    double rate = 0;
    std::atomic<bool> lost = false;
    {
        const Running in(url + "/br.tput", chan("tout", dir), false);
        const Running out(chan("tin", dir), url + "/br.tput", false);
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

BridgeLatency bridge_round_trip(
    const std::string& url, const std::string& dir, std::size_t size, int rounds, bool low_latency) {
    auto ping_out = Publisher::create("pi_o", channel(dir, size)).value();
    auto ping_in = Subscriber::create("pi_i", channel(dir, size)).value();
    auto pong_out = Publisher::create("po_o", channel(dir, size)).value();
    auto pong_in = Subscriber::create("po_i", channel(dir, size)).value();
    std::vector<double> us;
    bool lost = false;
    {
        const Running b1(url + "/br.ping", chan("pi_i", dir), low_latency);
        const Running b2(chan("pi_o", dir), url + "/br.ping", low_latency);
        const Running b3(url + "/br.pong", chan("po_i", dir), low_latency);
        const Running b4(chan("po_o", dir), url + "/br.pong", low_latency);
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

}  // namespace ipckit::bench
