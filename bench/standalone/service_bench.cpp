// SPDX-License-Identifier: MIT
// Request/reply benchmark: a 64 B call through Client/Server against the channel's own
// ping-pong over two channels (busy-polling) and against a raw futex ping-pong (blocking), both
// sides of each ratio measured interleaved, in rounds, by the same two processes pinned to
// different CPUs.
//
//   build/release/bench/bench_service_bench [--quick] [--cpus A,B]
//
// Why interleaved: on a VM the cross-core cost moves by 1.5x when the host reschedules vCPUs;
// a ratio of two blocks measured minutes apart would compare two machines (channel_bench.cpp).
// Goals (issue 17): spin call p50 <= 1.2x the two-channel ping-pong; blocking call p50 <= 1.1x
// the futex floor. Each 64 B message is written and read whole on both sides of a ratio; a
// request/reply record also carries a 32-byte envelope, so it spans one more cache line.
#include "ipckit/channel/channel.hpp"
#include "ipckit/channel/publisher.hpp"
#include "ipckit/channel/subscriber.hpp"
#include "ipckit/service/client.hpp"
#include "ipckit/service/server.hpp"
#include "ipckit/service/service.hpp"
#include "pingpong.hpp"

#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <sched.h>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace {

using ipckit::ChannelConfig;
using ipckit::ChannelOptions;
using ipckit::Deadline;
using ipckit::Publisher;
using ipckit::Subscriber;
using ipckit::bench::pingpong::barrier;
using ipckit::bench::pingpong::Common;
using ipckit::bench::pingpong::futex_floor;
using ipckit::bench::pingpong::g_common;
using ipckit::bench::pingpong::g_parent;
using ipckit::bench::pingpong::interleaved;
using ipckit::bench::pingpong::measure;
using ipckit::bench::pingpong::pin;
using ipckit::bench::pingpong::relax;
using ipckit::bench::pingpong::serve;
using ipckit::bench::pingpong::Stats;

constexpr std::size_t kSize = 64;
constexpr std::uint32_t kSpinForever = 1'000'000'000U;

struct Shared {
    Common common;  // barrier and the futex floor
    alignas(64) std::atomic<std::uint64_t> bad;
};

Shared* g_sh = nullptr;

/// A 64 B message is written and read whole (the number i in every 8-byte word), on both
/// sides of each ratio: touching only its first bytes would hide the lines a message spans.
void write_message(std::byte* p, std::uint64_t i) {
    std::uint64_t words[kSize / 8];
    std::fill(std::begin(words), std::end(words), i);
    std::memcpy(p, words, kSize);
}

std::uint64_t read_message(const std::byte* p) {
    std::uint64_t words[kSize / 8];
    std::memcpy(words, p, kSize);
    for (const auto w : words) {
        if (w != words[0]) {
            return ~words[0];  // torn: never the expected number
        }
    }
    return words[0];
}

// ---- the channel's own ping-pong over two channels (parent: publish a, receive b)
ChannelConfig pair_config() {
    ChannelConfig c;
    c.max_message_size = kSize;
    c.lane_bytes = std::size_t{64} * 1024;
    c.max_publishers = 1;
    c.max_subscribers = 1;
    return c;
}

struct Pair {
    Subscriber sub;
    Publisher pub;
    bool spin;
};

Pair open_pair(const std::string& a, const std::string& b, bool spin) {
    ChannelOptions o;
    o.spin_polls = spin ? kSpinForever : 0;
    barrier();
    auto sub = Subscriber::open(g_parent ? b : a, o).value();
    barrier();
    auto pub = Publisher::open(g_parent ? a : b, o).value();
    return Pair{std::move(sub), std::move(pub), spin};
}

void pair_rtt(Pair& p, int iters, std::vector<std::uint64_t>& ns) {
    auto recv = [&]() {
        if (p.spin) {
            for (;;) {
                if (auto s = p.sub.try_receive().value()) {
                    return std::move(*s);
                }
                relax();
            }
        }
        return p.sub.receive().value();
    };
    auto send = [&](std::uint64_t i) {
        auto l = p.pub.loan(kSize).value();
        write_message(l.data(), i);
        p.pub.publish(std::move(l)).value();
    };
    if (g_parent) {
        measure(iters, ns, [&](std::uint64_t i) {
            send(i);
            auto s = recv();
            if (read_message(s.data()) != i) {
                g_sh->bad.fetch_add(1);
            }
        });
        return;
    }
    serve(iters, [&](std::uint64_t) {
        std::uint64_t got = 0;
        {
            auto s = recv();
            got = read_message(s.data());
        }
        send(got);
    });
}

// ---- request/reply (parent: the Client; child: the Server), zero-copy both ways
struct Service {
    std::optional<ipckit::Client> client;
    std::optional<ipckit::Server> server;
};

Service open_service(const std::string& name, bool spin) {
    Service s;
    ChannelOptions o;
    o.spin_polls = spin ? kSpinForever : 0;
    if (!g_parent) {
        ipckit::ServiceConfig c;
        c.max_request_size = kSize;
        c.max_response_size = kSize;
        c.max_clients = 1;
        c.options = o;
        s.server.emplace(ipckit::Server::create(name, c).value());
    }
    barrier();  // the server is up
    if (g_parent) {
        ipckit::ClientOptions co;
        co.options = o;
        co.busy_poll = spin;
        s.client.emplace(ipckit::Client::connect(name, co).value());
    }
    return s;
}

void service_rtt(Service& s, int iters, std::vector<std::uint64_t>& ns) {
    if (g_parent) {
        measure(iters, ns, [&](std::uint64_t i) {
            auto l = s.client->loan(kSize).value();
            write_message(l.data(), i);
            const auto id = s.client->send(std::move(l), Deadline::never()).value();
            auto r = s.client->receive(id, Deadline::never()).value();
            if (read_message(r.bytes().data()) != i) {
                g_sh->bad.fetch_add(1);
            }
        });
        return;
    }
    serve(iters, [&](std::uint64_t) {
        auto req = s.server->receive(Deadline::never()).value();
        const std::uint64_t got = read_message(req->payload().data());
        auto l = s.server->loan(*req, kSize).value();
        write_message(l.data(), got);
        s.server->respond(*req, std::move(l), true).value();
    });
}

/// "A,B": two CPU numbers.
bool parse_cpus(std::string_view text, int& a, int& b) {
    const auto comma = text.find(',');
    if (comma == std::string_view::npos) {
        return false;
    }
    auto one = [](std::string_view t, int& out) {
        const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), out);
        return ec == std::errc() && end == t.data() + t.size() && out >= 0;
    };
    return one(text.substr(0, comma), a) && one(text.substr(comma + 1), b);
}

int run(int argc, char** argv) {
    bool quick = false;
    int cpu_a = 0;
    int cpu_b = 1;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--quick") == 0) {
            quick = true;
        } else if (std::strcmp(argv[i], "--cpus") == 0 && i + 1 < argc &&
                   parse_cpus(argv[++i], cpu_a, cpu_b)) {
        } else {
            (void)std::fprintf(stderr, "usage: %s [--quick] [--cpus A,B]\n", argv[0]);
            return 2;
        }
    }
    void* mem =
        ::mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    g_sh = std::construct_at(static_cast<Shared*>(mem));
    g_common = &g_sh->common;
    const std::string base = "svcbench-" + std::to_string(::getpid());
    const std::string a = base + "-a";
    const std::string b = base + "-b";
    const std::string spin_srv = base + "-spin";
    const std::string block_srv = base + "-block";
    (void)ipckit::Channel::create(a, pair_config()).value();
    (void)ipckit::Channel::create(b, pair_config()).value();
    const int n_spin = quick ? 20000 : 200000;
    const int n_block = quick ? 5000 : 50000;
    constexpr int kRounds = 10;

    (void)std::fflush(stdout);
    const pid_t child = ::fork();
    g_parent = child != 0;
    pin(g_parent ? cpu_a : cpu_b);
    Stats pair{};
    Stats call_spin{};
    Stats fut{};
    Stats call_block{};
    {
        Pair p = open_pair(a, b, true);
        Service s = open_service(spin_srv, true);
        std::tie(pair, call_spin) = interleaved(
            kRounds,
            n_spin,
            [&](int n, auto& ns) { pair_rtt(p, n, ns); },
            [&](int n, auto& ns) { service_rtt(s, n, ns); },
            /*barriers=*/false);
        barrier();  // both done before the server closes
    }
    {
        Service s = open_service(block_srv, false);
        std::tie(fut, call_block) = interleaved(
            kRounds,
            n_block,
            futex_floor,
            [&](int n, auto& ns) { service_rtt(s, n, ns); },
            /*barriers=*/false);
        barrier();
    }
    if (!g_parent) {
        ::_exit(0);
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    (void)ipckit::Channel::remove(a);
    (void)ipckit::Channel::remove(b);
    (void)ipckit::Service::remove(spin_srv);
    (void)ipckit::Service::remove(block_srv);
    double load[3] = {0, 0, 0};
    (void)::getloadavg(load, 3);
    std::printf(
        "ipckit request/reply benchmark: client on cpu %d, server on cpu %d (%ld cpus online, "
        "load average %.2f at the end), 64 B, %d rounds interleaved\n",
        cpu_a,
        cpu_b,
        ::sysconf(_SC_NPROCESSORS_ONLN),
        load[0],
        kRounds);
    auto row = [](const char* what, Stats s) {
        std::printf("%-40s p50 %8.0f ns  p99 %8.0f ns\n", what, s.p50, s.p99);
    };
    row("channel ping-pong, two channels, spin", pair);
    row("request/reply call, busy-polling", call_spin);
    row("floor: raw futex ping-pong", fut);
    row("request/reply call, blocking", call_block);
    std::printf("ratios (goals in brackets):\n");
    std::printf("  spin call p50 / two-channel ping-pong p50 = %5.2f  [<= 1.2]\n",
                call_spin.p50 / pair.p50);
    std::printf("  blocking call p50 / futex floor p50       = %5.2f  [<= 1.1]\n",
                call_block.p50 / fut.p50);
    std::printf("  echo mismatches: %llu\n", static_cast<unsigned long long>(g_sh->bad.load()));
    return g_sh->bad.load() == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const std::exception& e) {
        (void)std::fprintf(stderr, "service_bench: %s\n", e.what());
    } catch (...) {
        (void)std::fprintf(stderr, "service_bench: unknown exception\n");
    }
    return 1;
}
