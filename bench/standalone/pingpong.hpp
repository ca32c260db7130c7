// SPDX-License-Identifier: MIT
// The ping-pong scaffolding the standalone benchmarks share (channel_bench.cpp,
// service_bench.cpp): two forked processes pinned to CPUs, a barrier between phases, timed round
// trips (measure) against the peer's echo loop (serve), percentiles, the raw futex floor, and
// interleaved rounds of a reference and a measured block, so that both sides of a ratio see the
// same machine. Header-only: each benchmark is one program.
#pragma once

#include "ipckit/sync/futex.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <sched.h>
#include <thread>
#include <utility>
#include <vector>

namespace ipckit::bench::pingpong {

using Clock = std::chrono::steady_clock;

/// The words both processes share, each on a line of its own; a benchmark keeps one in its own
/// MAP_SHARED block (mapped before the fork) and points g_common at it.
struct Common {
    alignas(64) std::atomic<std::uint32_t> fping;
    alignas(64) std::atomic<std::uint32_t> fpong;
    alignas(64) std::atomic<std::uint32_t> barrier;
};

inline Common* g_common = nullptr;
inline bool g_parent = true;  ///< the measuring side (the child echoes)
inline int g_phase = 0;

/// Both processes reach the same phase before either goes on.
inline void barrier() {
    ++g_phase;
    g_common->barrier.fetch_add(1);
    while (g_common->barrier.load() < static_cast<std::uint32_t>(2 * g_phase)) {
        std::this_thread::yield();
    }
}

inline void pin(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(static_cast<std::size_t>(cpu), &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0) {
        std::perror("sched_setaffinity");
    }
}

inline void relax() {
#if defined(__x86_64__)
    __builtin_ia32_pause();
#endif
}

struct Stats {
    double p50, p99, p999;
};

/// Percentiles of `ns` (sorted in place).
inline Stats stats(std::vector<std::uint64_t>& ns) {
    std::sort(ns.begin(), ns.end());
    auto at = [&](double q) {
        return static_cast<double>(ns[std::min(
            ns.size() - 1, static_cast<std::size_t>(q * static_cast<double>(ns.size())))]);
    };
    return {at(0.50), at(0.99), at(0.999)};
}

/// Runs `iters` timed round trips (after iters/10 untimed ones) and appends their times.
/// round_trip(i) gets a number unique across all calls, so peers can tell blocks apart.
template <class F>
void measure(int iters, std::vector<std::uint64_t>& ns, F&& round_trip) {
    static std::uint64_t next = 1;
    for (int i = 0; i < iters / 10; ++i) {  // warm-up
        round_trip(next++);
    }
    for (int i = 0; i < iters; ++i) {
        const auto t0 = Clock::now();
        round_trip(next++);
        ns.push_back(static_cast<std::uint64_t>((Clock::now() - t0).count()));
    }
}

/// The peer's side of measure(): the same count of round trips, numbered the same way.
template <class F>
void serve(int iters, F&& echo) {
    static std::uint64_t next = 1;
    const int total = iters + iters / 10;
    for (int i = 0; i < total; ++i) {
        echo(next++);
    }
}

/// The blocking floor: a raw futex ping-pong over two words.
inline void futex_floor(int iters, std::vector<std::uint64_t>& ns) {
    auto wait_for_value = [](std::atomic<std::uint32_t>& w, std::uint32_t v) {
        std::uint32_t cur = 0;
        while ((cur = w.load(std::memory_order_acquire)) != v) {
            (void)ipckit::Futex::wait(w, cur);
        }
    };
    if (g_parent) {
        measure(iters, ns, [&](std::uint64_t i) {
            g_common->fping.store(static_cast<std::uint32_t>(i), std::memory_order_release);
            (void)ipckit::Futex::wake(g_common->fping);
            wait_for_value(g_common->fpong, static_cast<std::uint32_t>(i));
        });
        return;
    }
    serve(iters, [&](std::uint64_t i) {
        wait_for_value(g_common->fping, static_cast<std::uint32_t>(i));
        g_common->fpong.store(static_cast<std::uint32_t>(i), std::memory_order_release);
        (void)ipckit::Futex::wake(g_common->fpong);
    });
}

using Block = std::function<void(int, std::vector<std::uint64_t>&)>;

/// `rounds` x (one reference block, one measured block), with a barrier after each block when
/// `barriers`: both sides of a ratio see the same machine. Returns the parent's statistics of
/// each (the child's are empty).
inline std::pair<Stats, Stats> interleaved(
    int rounds, int iters, const Block& reference, const Block& measured, bool barriers) {
    std::vector<std::uint64_t> ref_ns;
    std::vector<std::uint64_t> ns;
    for (int r = 0; r < rounds; ++r) {
        reference(iters / rounds, ref_ns);
        if (barriers) {
            barrier();
        }
        measured(iters / rounds, ns);
        if (barriers) {
            barrier();
        }
    }
    if (!g_parent) {
        return {};
    }
    return {stats(ref_ns), stats(ns)};
}

}  // namespace ipckit::bench::pingpong
