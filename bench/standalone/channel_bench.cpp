// SPDX-License-Identifier: MIT
// Channel benchmark: two processes pinned to different cores, floors and the channel in one run.
//
//   build/release/bench/bench_channel_bench [--quick]
//   build/release/bench/bench_channel_bench --patterns [--quick] [--cpus LIST]
//
// Floors: a raw busy-spin ping-pong over one shared cache line, and a raw futex ping-pong. Two
// more rows split the spin ratio: the same ping-pong with request and reply in different lines
// (what any pair of channels must do), and a raw ring of channel-shaped records (no library).
// Channel: 64 B round trip in spin mode (subscribers poll try_receive) and blocking mode (no
// spin: every wait sleeps on the futex), a 1 MiB zero-copy round trip, and one-way throughput
// for 64 B, 4 KiB and 1 MiB messages with every message checked by sequence number (written at
// the start and the end of the payload; the payload is otherwise not touched: zero-copy).
//
// Each ratio's two sides are measured interleaved, in rounds (floor block, channel block, ...),
// by the same two pinned processes. On a VM the cross-core cost moves by 1.5x when the host
// reschedules the vCPUs (measured here: a busy-spin round trip of 190 ns in one run, 310 ns in
// the next); measuring the floor once and the channel later would compare two machines.
//
// --patterns: the work queue (a GroupConsumer group of 1 vs 2 consumers, one-way 64 B
// throughput, every message counted once) and fan-out (one publisher to 1, 2, 4, 8 subscribers,
// p50/p99 of the time until the LAST subscriber has the message; one message in flight at a
// time). Processes are pinned round-robin over --cpus (default: every CPU this process may use;
// the publisher on the first), so the same command measures a larger machine unchanged. A peer
// alone on its CPU busy-polls; peers that share a CPU spin briefly and then sleep on the futex.
#include "ipckit/channel/channel.hpp"
#include "ipckit/channel/group_consumer.hpp"
#include "ipckit/channel/publisher.hpp"
#include "ipckit/channel/subscriber.hpp"
#include "ipckit/core/mapping.hpp"
#include "ipckit/sync/futex.hpp"
#include "pingpong.hpp"

#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <sched.h>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

namespace {

using ipckit::ChannelConfig;
using ipckit::ChannelOptions;
using ipckit::ChannelPolicy;
using ipckit::Publisher;
using ipckit::Subscriber;
using ipckit::bench::pingpong::barrier;
using ipckit::bench::pingpong::Block;
using ipckit::bench::pingpong::Clock;
using ipckit::bench::pingpong::Common;
using ipckit::bench::pingpong::futex_floor;
using ipckit::bench::pingpong::g_common;
using ipckit::bench::pingpong::g_parent;
using ipckit::bench::pingpong::measure;
using ipckit::bench::pingpong::pin;
using ipckit::bench::pingpong::relax;
using ipckit::bench::pingpong::serve;
using ipckit::bench::pingpong::stats;
using ipckit::bench::pingpong::Stats;

/// Interleaved rounds with a barrier after each block (pingpong.hpp).
std::pair<Stats, Stats> interleaved(int rounds,
                                    int iters,
                                    const Block& reference,
                                    const Block& measured) {
    return ipckit::bench::pingpong::interleaved(rounds, iters, reference, measured, true);
}

struct Shared {
    alignas(64) std::atomic<std::uint64_t> ping;
    std::atomic<std::uint64_t> pong;               // same cache line as ping: the floor is one line
    alignas(64) std::atomic<std::uint64_t> ping2;  // the two-line floor: request and reply
    alignas(64) std::atomic<std::uint64_t> pong2;  // each in a line of its own
    Common common;                                 // barrier and the futex floor
    alignas(64) std::atomic<std::uint64_t> checked;
    std::atomic<std::uint64_t> bad;
    std::atomic<std::uint64_t> rtt_bad;
};

Shared* g_sh = nullptr;

void print_rtt(const char* what, Stats s) {
    std::printf("%-34s p50 %8.0f ns  p99 %8.0f ns  p99.9 %8.0f ns\n", what, s.p50, s.p99, s.p999);
}

// A protocol floor: the channel's record layout (80-byte records with the stamp as the commit
// marker, advancing through a 64 KiB ring, one ring per direction) with no library around it.
// Any handoff over two lines costs more than the one-line floor; this row shows how much, so
// the channel's own overhead is the gap between it and this row.
struct RawRing {
    static constexpr std::size_t kRecord = 80;
    static constexpr std::size_t kBytes = 65536;
    unsigned char* ring = nullptr;
    std::uint64_t pos = 0;

    [[nodiscard]] std::atomic<std::uint64_t>& stamp() const {
        return *reinterpret_cast<std::atomic<std::uint64_t>*>(ring +
                                                              (pos & (kBytes - 1)));  // NOLINT
    }
    void skip_tail() {
        if ((pos & (kBytes - 1)) + kRecord > kBytes) {
            pos += kBytes - (pos & (kBytes - 1));
        }
    }
    void send(std::uint64_t v) {
        skip_tail();
        std::memcpy(ring + (pos & (kBytes - 1)) + 16, &v, 8);
        stamp().store(pos | 2, std::memory_order_release);
        pos += kRecord;
    }
    std::uint64_t receive() {
        skip_tail();
        while (stamp().load(std::memory_order_acquire) != (pos | 2)) {
            relax();
        }
        std::uint64_t v = 0;
        std::memcpy(&v, ring + (pos & (kBytes - 1)) + 16, 8);
        pos += kRecord;
        return v;
    }
};
RawRing g_ring_a;
RawRing g_ring_b;

// ---- floors (one block each; the parent appends its timings to `ns`)
// A raw busy-spin ping-pong: the parent stores i in `ping` and spins until `pong` echoes it.
void busy_spin_ping_pong(std::atomic<std::uint64_t>& ping,
                         std::atomic<std::uint64_t>& pong,
                         int iters,
                         std::vector<std::uint64_t>& ns) {
    if (g_parent) {
        measure(iters, ns, [&](std::uint64_t i) {
            ping.store(i, std::memory_order_release);
            while (pong.load(std::memory_order_acquire) != i) {
                relax();
            }
        });
        return;
    }
    serve(iters, [&](std::uint64_t i) {
        while (ping.load(std::memory_order_acquire) != i) {
            relax();
        }
        pong.store(i, std::memory_order_release);
    });
}

// The floor: request and reply in one cache line.
void spin_floor(int iters, std::vector<std::uint64_t>& ns) {
    busy_spin_ping_pong(g_sh->ping, g_sh->pong, iters, ns);
}

// The same ping-pong with the request and the reply in different lines, as they are for any
// pair of channels (one per direction): each side then writes a line the other is reading.
void two_line_floor(int iters, std::vector<std::uint64_t>& ns) {
    busy_spin_ping_pong(g_sh->ping2, g_sh->pong2, iters, ns);
}

// ---- channel round trips: parent publishes on A and receives on B; the child echoes.
ChannelConfig bench_config(std::size_t max_message_size, std::uint32_t spin) {
    ChannelConfig c;
    c.policy = ChannelPolicy::Block;
    c.max_message_size = max_message_size;
    c.lane_bytes =
        std::bit_ceil(std::max<std::size_t>(std::size_t{64} * 1024, 4 * (max_message_size + 16)));
    c.max_publishers = 1;
    c.max_subscribers = 1;
    c.options.spin_polls = spin;
    return c;
}

void ring_floor(int iters, std::vector<std::uint64_t>& ns) {
    if (g_parent) {
        measure(iters, ns, [](std::uint64_t i) {
            g_ring_a.send(i);
            (void)g_ring_b.receive();
        });
        return;
    }
    serve(iters, [](std::uint64_t) { g_ring_b.send(g_ring_a.receive()); });
}

/// Both ends of a round-trip pair: the parent publishes on A and receives on B; the child echoes.
struct RttEnds {
    Subscriber sub;
    Publisher pub;
    std::size_t size;
    bool spin;
};

RttEnds open_ends(const std::string& a, const std::string& b, std::size_t size, bool spin) {
    ChannelOptions o;
    o.spin_polls = spin ? 1'000'000'000U : 0;
    barrier();  // channels created by the parent
    auto sub = Subscriber::open(g_parent ? b : a, o).value();
    barrier();  // both subscribers joined
    auto pub = Publisher::open(g_parent ? a : b, o).value();
    return RttEnds{std::move(sub), std::move(pub), size, spin};
}

/// One block of channel round trips on `e`.
void channel_rtt(RttEnds& e, int iters, std::vector<std::uint64_t>& ns) {
    auto recv = [&]() {
        if (e.spin) {
            for (;;) {
                auto s = e.sub.try_receive().value();
                if (s) {
                    return std::move(*s);
                }
                relax();
            }
        }
        return e.sub.receive().value();
    };
    auto send = [&](std::uint64_t i) {
        auto l = e.pub.loan(e.size).value();
        std::memcpy(l.data(), &i, 8);  // zero-copy: only the sequence number is written
        e.pub.publish(std::move(l)).value();
    };
    if (g_parent) {
        measure(iters, ns, [&](std::uint64_t i) {
            send(i);
            auto s = recv();
            std::uint64_t got = 0;
            std::memcpy(&got, s.data(), 8);
            if (got != i) {
                g_sh->rtt_bad.fetch_add(1);
            }
        });
        return;
    }
    serve(iters, [&](std::uint64_t) {
        std::uint64_t got = 0;
        {
            auto s = recv();
            std::memcpy(&got, s.data(), 8);
        }
        send(got);
    });
}

Block channel_block(RttEnds& e) {
    return [&e](int iters, std::vector<std::uint64_t>& ns) { channel_rtt(e, iters, ns); };
}

struct Throughput {
    double msgs_per_s, gb_per_s;
    std::uint64_t checked, bad;
};

Throughput channel_throughput(const std::string& a, std::size_t size, std::uint64_t count) {
    ChannelOptions o;
    o.spin_polls = 1'000'000'000U;
    barrier();
    std::optional<Subscriber> sub;
    if (!g_parent) {
        sub.emplace(Subscriber::open(a, o).value());
    }
    barrier();
    Throughput t{};
    if (g_parent) {
        auto pub = Publisher::open(a, o).value();
        const auto t0 = Clock::now();
        for (std::uint64_t i = 0; i < count; ++i) {
            auto l = pub.loan(size).value();
            std::memcpy(l.data(), &i, 8);
            std::memcpy(l.data() + size - 8, &i, 8);
            pub.publish(std::move(l)).value();
        }
        barrier();  // the child has received everything
        const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
        t.msgs_per_s = static_cast<double>(count) / secs;
        t.gb_per_s = t.msgs_per_s * static_cast<double>(size) / 1e9;
        t.checked = g_sh->checked.load();
        t.bad = g_sh->bad.load();
    } else {
        std::uint64_t bad = 0;
        for (std::uint64_t i = 0; i < count; ++i) {
            for (;;) {
                auto s = sub->try_receive().value();
                if (!s) {
                    relax();
                    continue;
                }
                std::uint64_t x = 0;
                std::uint64_t y = 0;
                std::memcpy(&x, s->data(), 8);
                std::memcpy(&y, s->data() + size - 8, 8);
                bad += (x != i || y != i || s->lost_before() != 0) ? 1U : 0U;
                break;
            }
        }
        g_sh->checked.store(count);
        g_sh->bad.store(bad);
        barrier();
    }
    barrier();
    return t;
}

}  // namespace

// ---- --patterns: work queue and fan-out, each peer its own pinned process
namespace patterns {

std::vector<int> g_cpus;

int cpu_for(std::size_t i) {
    return g_cpus[i % g_cpus.size()];
}

/// Peer i (the publisher is 0) of `peers` busy-polls when it has a CPU of its own; one that shares
/// its CPU uses the adaptive spin and sleeps, or it would starve its neighbour.
ipckit::ChannelOptions peer_options(std::size_t i, std::size_t peers) {
    std::size_t sharing = 0;
    for (std::size_t p = i % g_cpus.size(); p < peers; p += g_cpus.size()) {
        ++sharing;
    }
    ipckit::ChannelOptions o;
    if (sharing == 1) {
        o.spin_polls = 1'000'000'000U;
    }
    return o;
}

std::uint64_t now_ns() {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
            .count());
}

constexpr std::uint64_t kStop = ~std::uint64_t{0};
constexpr std::size_t kMaxFan = 8;

struct Board {
    alignas(64) std::atomic<std::uint32_t> ready;
    alignas(64) std::atomic<std::uint64_t> acks;
    alignas(64) std::atomic<std::uint64_t> taken;
    std::atomic<std::uint64_t> finished_ns;
    std::atomic<std::uint64_t> bad;
    // followed by one latency slot per fan-out message
};

Board* board(ipckit::Mapping& m) {
    return reinterpret_cast<Board*>(m.data());
}  // NOLINT
std::atomic<std::uint64_t>* slots(ipckit::Mapping& m) {
    return reinterpret_cast<std::atomic<std::uint64_t>*>(m.data() + 4096);  // NOLINT
}

ChannelConfig config(std::uint32_t subscribers) {
    ChannelConfig c;
    c.max_message_size = 64;
    c.lane_bytes = std::size_t{256} * 1024;
    c.max_publishers = 1;
    c.max_subscribers = subscribers;
    c.max_group_members = 4;
    return c;
}

template <class F>
pid_t spawn(int cpu, F&& body) {
    (void)std::fflush(stdout);
    const pid_t pid = ::fork();
    if (pid == 0) {
        pin(cpu);
        ::_exit(body());
    }
    return pid;
}

bool reap(const std::vector<pid_t>& pids) {
    bool ok = true;
    for (pid_t p : pids) {
        int status = 0;
        ::waitpid(p, &status, 0);
        ok = ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }
    return ok;
}

/// Messages per second through a group of `consumers`, every message taken exactly once.
double work_queue(const std::string& name, std::uint32_t consumers, std::uint64_t n) {
    ipckit::Mapping m = ipckit::Mapping::map_anonymous(4096).value();
    Board* b = std::construct_at(board(m));
    (void)ipckit::Channel::create(name, config(1)).value();
    std::vector<pid_t> kids;
    for (std::uint32_t k = 0; k < consumers; ++k) {
        kids.push_back(spawn(cpu_for(1 + k), [&]() -> int {
            ipckit::GroupOptions go;
            go.channel = peer_options(1 + k, 1 + consumers);
            auto g = ipckit::GroupConsumer::open(name, "wq", go).value();
            b->ready.fetch_add(1);
            std::uint64_t mine = 0;
            for (;;) {
                auto s = g.receive_until(ipckit::Deadline::after(std::chrono::seconds(30))).value();
                if (!s) {
                    return 1;
                }
                std::uint64_t v = 0;
                std::memcpy(&v, s->data(), 8);
                if (v == kStop) {
                    break;
                }
                ++mine;
            }
            b->taken.fetch_add(mine);
            std::uint64_t t = now_ns();
            std::uint64_t cur = b->finished_ns.load();
            while (cur < t && !b->finished_ns.compare_exchange_weak(cur, t)) {
            }
            return 0;
        }));
    }
    pin(cpu_for(0));
    while (b->ready.load() < consumers) {
        std::this_thread::yield();
    }
    auto pub = Publisher::open(name).value();
    const std::uint64_t t0 = now_ns();
    for (std::uint64_t i = 0; i < n + consumers; ++i) {
        auto l = pub.loan(64).value();
        const std::uint64_t v = i < n ? i : kStop;
        std::memcpy(l.data(), &v, 8);
        pub.publish(std::move(l)).value();
    }
    const bool ok = reap(kids);
    (void)ipckit::Channel::remove(name);
    if (!ok || b->taken.load() != n) {
        std::printf("  work queue %u consumer(s): FAILED (taken %llu of %llu)\n",
                    consumers,
                    static_cast<unsigned long long>(b->taken.load()),
                    static_cast<unsigned long long>(n));
        return 0;
    }
    return static_cast<double>(n) / (static_cast<double>(b->finished_ns.load() - t0) / 1e9);
}

/// A fan-out subscriber: records, per message, the latest time any subscriber saw it.
int fan_subscriber(Subscriber& sub, Board& b, std::atomic<std::uint64_t>* lat, std::uint64_t n) {
    for (;;) {
        auto s = sub.receive_until(ipckit::Deadline::after(std::chrono::seconds(30))).value();
        if (!s) {
            return 1;
        }
        const std::uint64_t t = now_ns();
        std::uint64_t idx = 0;
        std::uint64_t sent = 0;
        std::memcpy(&idx, s->data(), 8);
        std::memcpy(&sent, s->data() + 8, 8);
        if (idx == kStop) {
            return 0;
        }
        if (idx >= n) {
            b.bad.fetch_add(1);
        } else {
            std::uint64_t cur =
                lat[idx].load();  // NOLINT(cppcoreguidelines-pro-bounds-pointer-arithmetic)
            while (cur < t - sent &&
                   !lat[idx].compare_exchange_weak(
                       cur, t - sent)) {  // NOLINT(cppcoreguidelines-pro-bounds-pointer-arithmetic)
            }
        }
        b.acks.fetch_add(1, std::memory_order_release);
    }
}

/// One message in flight at a time to `subs` subscribers: the time until the last one has it.
Stats fan_out(const std::string& name, std::uint32_t subs, std::uint64_t n) {
    ipckit::Mapping m = ipckit::Mapping::map_anonymous(4096 + 8 * n).value();
    Board* b = std::construct_at(board(m));
    std::atomic<std::uint64_t>* lat = slots(m);
    (void)ipckit::Channel::create(name, config(kMaxFan)).value();
    std::vector<pid_t> kids;
    for (std::uint32_t k = 0; k < subs; ++k) {
        kids.push_back(spawn(cpu_for(1 + k), [&]() -> int {
            auto sub = Subscriber::open(name, peer_options(1 + k, 1 + subs)).value();
            b->ready.fetch_add(1);
            return fan_subscriber(sub, *b, lat, n);
        }));
    }
    pin(cpu_for(0));
    while (b->ready.load() < subs) {
        std::this_thread::yield();
    }
    auto pub = Publisher::open(name).value();
    for (std::uint64_t i = 0; i <= n; ++i) {
        while (b->acks.load(std::memory_order_acquire) < i * subs) {
            std::this_thread::yield();  // (the subscribers may need this CPU)
        }
        auto l = pub.loan(64).value();
        const std::uint64_t idx = i < n ? i : kStop;
        const std::uint64_t t = now_ns();
        std::memcpy(l.data(), &idx, 8);
        std::memcpy(l.data() + 8, &t, 8);
        pub.publish(std::move(l)).value();
    }
    const bool ok = reap(kids);
    (void)ipckit::Channel::remove(name);
    std::vector<std::uint64_t> ns;
    for (std::uint64_t i = n / 10; i < n; ++i) {  // the first tenth warms up
        ns.push_back(lat[i].load());
    }
    if (!ok || b->bad.load() != 0) {
        std::printf("  fan-out %u: FAILED\n", subs);
    }
    return stats(ns);
}

std::vector<int> parse_cpus(const char* list) {
    std::vector<int> out;
    std::string s(list);
    std::size_t pos = 0;
    while (pos <= s.size()) {
        const std::size_t comma = std::min(s.find(',', pos), s.size());
        const std::string part = s.substr(pos, comma - pos);
        const std::size_t dash = part.find('-');
        const int lo = static_cast<int>(std::strtol(part.substr(0, dash).c_str(), nullptr, 10));
        const int hi =
            dash == std::string::npos
                ? lo
                : static_cast<int>(std::strtol(part.substr(dash + 1).c_str(), nullptr, 10));
        for (int c = lo; c <= hi && c < CPU_SETSIZE; ++c) {
            out.push_back(c);
        }
        pos = comma + 1;
    }
    return out;
}

/// The CPUs this process may run on (the default of --cpus).
std::vector<int> allowed_cpus() {
    std::vector<int> out;
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        for (int c = 0; c < CPU_SETSIZE; ++c) {
            if (CPU_ISSET(static_cast<std::size_t>(c), &set)) {
                out.push_back(c);
            }
        }
    }
    return out;
}

int run(bool quick, const char* cpus) {
    g_cpus = cpus != nullptr ? parse_cpus(cpus) : allowed_cpus();
    if (g_cpus.empty()) {
        (void)std::fprintf(
            stderr, "channel_bench: --cpus: no CPU in '%s'\n", cpus != nullptr ? cpus : "");
        return 2;
    }
    std::string list;
    for (int c : g_cpus) {
        list += (list.empty() ? "" : ",") + std::to_string(c);
    }
    const std::string base = "bench-" + std::to_string(::getpid());
    const std::uint64_t n_wq = quick ? 200'000 : 2'000'000;
    const std::uint64_t n_fan = quick ? 2'000 : 20'000;
    std::printf("ipckit channel patterns: publisher on cpu %d, peers round-robin over cpus %s\n",
                cpu_for(0),
                list.c_str());
    std::printf("work queue, 64 B one-way, each message taken by exactly one consumer:\n");
    constexpr int kRounds = 3;
    std::vector<double> one;
    std::vector<double> two;
    for (int r = 0; r < kRounds; ++r) {  // interleaved, as the other ratios
        one.push_back(work_queue(base + "-wq1", 1, n_wq));
        two.push_back(work_queue(base + "-wq2", 2, n_wq));
    }
    std::sort(one.begin(), one.end());
    std::sort(two.begin(), two.end());
    std::printf("  1 consumer   %12.0f msg/s (median of %d)\n", one[kRounds / 2], kRounds);
    std::printf("  2 consumers  %12.0f msg/s (median of %d)\n", two[kRounds / 2], kRounds);
    std::printf("  2 / 1 = %.2f  [>= 0.8]\n", two[kRounds / 2] / one[kRounds / 2]);
    std::printf("fan-out, 64 B, one message in flight, latency of the last subscriber:\n");
    for (std::uint32_t k : {1U, 2U, 4U, 8U}) {
        const Stats s = fan_out(base + "-fan", k, n_fan);
        std::printf("  %u subscriber(s)  p50 %8.0f ns  p99 %8.0f ns\n", k, s.p50, s.p99);
    }
    double load[3] = {0, 0, 0};
    (void)::getloadavg(load, 3);
    std::printf("(%ld cpus online, load average %.2f at the end)\n",
                ::sysconf(_SC_NPROCESSORS_ONLN),
                load[0]);
    return 0;
}

}  // namespace patterns

namespace {
int run(int argc, char** argv) {
    bool quick = false;
    bool pattern_mode = false;
    const char* cpus = nullptr;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--quick") == 0) {
            quick = true;
        } else if (std::strcmp(argv[i], "--patterns") == 0) {
            pattern_mode = true;
        } else if (std::strcmp(argv[i], "--cpus") == 0 && i + 1 < argc) {
            cpus = argv[++i];
        } else {
            (void)std::fprintf(stderr,
                               "usage: bench_channel_bench [--quick] [--patterns [--cpus LIST]]\n");
            return 2;
        }
    }
    if (pattern_mode) {
        return patterns::run(quick, cpus);
    }
    void* mem =
        ::mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    // construct_at, not placement new: the mapping owns the memory, not this pointer.
    g_sh = std::construct_at(static_cast<Shared*>(mem));
    g_common = &g_sh->common;
    auto* rings = static_cast<unsigned char*>(::mmap(
        nullptr, 2 * RawRing::kBytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
    g_ring_a.ring = rings;
    g_ring_b.ring = rings + RawRing::kBytes;
    const std::string base = "bench-" + std::to_string(::getpid());
    const std::string a64 = base + "-a64";
    const std::string b64 = base + "-b64";
    const std::string a1m = base + "-a1m";
    const std::string b1m = base + "-b1m";
    const std::string t64 = base + "-t64";
    const std::string t4k = base + "-t4k";
    const std::string t1m = base + "-t1m";
    (void)ipckit::Channel::create(a64, bench_config(64, 0)).value();
    (void)ipckit::Channel::create(b64, bench_config(64, 0)).value();
    (void)ipckit::Channel::create(a1m, bench_config(1 << 20, 0)).value();
    (void)ipckit::Channel::create(b1m, bench_config(1 << 20, 0)).value();
    (void)ipckit::Channel::create(t64, bench_config(64, 0)).value();
    (void)ipckit::Channel::create(t4k, bench_config(4096, 0)).value();
    (void)ipckit::Channel::create(t1m, bench_config(1 << 20, 0)).value();
    const int n_spin = quick ? 20000 : 200000;
    const int n_block = quick ? 5000 : 50000;
    const std::uint64_t n64 = quick ? 2'000'000 : 20'000'000;
    const std::uint64_t n4k = quick ? 200'000 : 2'000'000;
    const std::uint64_t n1m = quick ? 2'000 : 20'000;

    (void)std::fflush(stdout);  // before fork, so buffered output is not written twice
    const pid_t child = ::fork();
    g_parent = child != 0;
    pin(g_parent ? 0 : 1);

    constexpr int kRounds = 10;
    Stats spin{};
    Stats cs{};
    Stats cs_for_1m{};
    Stats spin_for_ring{};
    Stats ring{};
    Stats spin_for_two{};
    Stats two{};
    Stats c1m{};
    Stats fut{};
    Stats cb{};
    {
        RttEnds e64 = open_ends(a64, b64, 64, true);
        std::tie(spin, cs) = interleaved(kRounds, n_spin, spin_floor, channel_block(e64));
        std::tie(spin_for_ring, ring) = interleaved(kRounds, n_spin, spin_floor, ring_floor);
        std::tie(spin_for_two, two) = interleaved(kRounds, n_spin, spin_floor, two_line_floor);
        RttEnds e1m = open_ends(a1m, b1m, std::size_t{1} << 20, true);
        std::tie(cs_for_1m, c1m) =
            interleaved(kRounds, n_spin / 10, channel_block(e64), channel_block(e1m));
    }
    {
        RttEnds e = open_ends(a64, b64, 64, false);
        std::tie(fut, cb) = interleaved(kRounds, n_block, futex_floor, channel_block(e));
    }
    const Throughput th64 = channel_throughput(t64, 64, n64);
    const Throughput th4k = channel_throughput(t4k, 4096, n4k);
    const Throughput th1m = channel_throughput(t1m, 1 << 20, n1m);
    if (!g_parent) {
        ::_exit(0);
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    for (const auto& n : {a64, b64, a1m, b1m, t64, t4k, t1m}) {
        (void)ipckit::Channel::remove(n);
    }
    double load[3] = {0, 0, 0};
    (void)::getloadavg(load, 3);
    std::printf(
        "ipckit channel benchmark: two processes pinned to cpu 0 and cpu 1 (%ld cpus online, "
        "load average %.2f at the end)\n",
        ::sysconf(_SC_NPROCESSORS_ONLN),
        load[0]);
    std::printf("round trips (RTT):\n");
    print_rtt("floor: busy-spin cache line", spin);
    print_rtt("floor: busy-spin, two lines", two);
    print_rtt("floor: two-line record ring", ring);
    print_rtt("floor: raw futex", fut);
    print_rtt("channel spin 64 B", cs);
    print_rtt("channel blocking 64 B", cb);
    print_rtt("channel spin 1 MiB zero-copy", c1m);
    std::printf(
        "one-way throughput (every message checked by sequence number; GB/s is logical:\n"
        "zero-copy, only the first and last 8 bytes of each payload are written and read):\n");
    for (auto [what, t] :
         {std::pair{"64 B", th64}, std::pair{"4 KiB", th4k}, std::pair{"1 MiB", th1m}}) {
        std::printf("  %-6s %12.0f msg/s  %8.2f GB/s  checked %llu, bad %llu\n",
                    what,
                    t.msgs_per_s,
                    t.gb_per_s,
                    static_cast<unsigned long long>(t.checked),
                    static_cast<unsigned long long>(t.bad));
    }
    std::printf("ratios (targets in brackets):\n");
    std::printf("  spin 64 B p50 / busy-spin floor p50   = %5.2f  [<= 1.5]\n", cs.p50 / spin.p50);
    std::printf(
        "    (two fixed lines / busy-spin        = %5.2f: any request/reply pair of channels)\n",
        two.p50 / spin_for_two.p50);
    std::printf(
        "    (two-line record ring / busy-spin   = %5.2f: the layout's share, no library)\n",
        ring.p50 / spin_for_ring.p50);
    std::printf("    (channel spin / two-line ring       = %5.2f: the library's share)\n",
                cs.p50 / ring.p50);
    std::printf("  blocking 64 B p50 / futex floor p50   = %5.2f  [<= 1.3]\n", cb.p50 / fut.p50);
    std::printf("  1 MiB zero-copy p50 / 64 B spin p50   = %5.2f  [<= 2.0]\n",
                c1m.p50 / cs_for_1m.p50);
    std::printf("  64 B one-way                          = %5.1f M msg/s  [>= 10]\n",
                th64.msgs_per_s / 1e6);
    std::printf("  RTT sequence mismatches: %llu\n",
                static_cast<unsigned long long>(g_sh->rtt_bad.load()));
    return 0;
}
}  // namespace

int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const std::exception& e) {
        (void)std::fprintf(stderr, "channel_bench: %s\n", e.what());
    } catch (...) {
        (void)std::fprintf(stderr, "channel_bench: unknown exception\n");
    }
    return 1;
}
