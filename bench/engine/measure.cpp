// SPDX-License-Identifier: MIT
// What the forked children run: the leader's measuring phases and the follower's echo, one phase
// per message size, and the child's life around them (pin, attach, report into the shared page).
#include "engine/measure.hpp"

#include "engine/wait.hpp"

#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fmt/format.h>
#include <sched.h>
#include <stdlib.h>
#include <thread>

namespace ipckit::bench {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// ---------------------------------------------------------------------------- measurement

constexpr std::size_t kMinSamples = 200;

std::size_t window_for(std::size_t size) {
    // Acknowledge often enough that a datagram socket's receive buffer cannot overflow.
    return std::clamp<std::size_t>(32768 / size, 1, 32);
}

void put(std::span<std::byte> buf, std::uint64_t seq, Kind kind) {
    MessageHeader h{seq, static_cast<std::uint64_t>(kind)};
    std::memcpy(buf.data(), &h, sizeof h);
}

MessageHeader get(std::span<const std::byte> buf) {
    MessageHeader h{};
    std::memcpy(&h, buf.data(), sizeof h);
    return h;
}

Error protocol_error(const std::string& what) {
    return {std::errc::protocol_error, "check", "message", what};
}

Result<void> expect_len(Result<std::size_t> got, std::size_t want) {
    IPCKIT_TRY_ASSIGN(const std::size_t n, std::move(got));
    if (n != want) {
        return protocol_error(fmt::format("received {} bytes, expected {}", n, want));
    }
    return {};
}

double percentile(const std::vector<double>& sorted, double q) {
    if (sorted.empty()) {
        return 0;
    }
    const auto idx = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size())));
    return sorted[std::min(sorted.size() - 1, idx == 0 ? 0 : idx - 1)];
}

double half_range_pct(std::vector<double> v) {
    if (v.size() < 2) {
        return 0;
    }
    std::sort(v.begin(), v.end());
    const double median = v[v.size() / 2];
    return median > 0 ? (v.back() - v.front()) / 2 / median * 100 : 0;
}

void copy_error(char* into, std::size_t cap, const std::string& text) {
    const std::size_t n = std::min(cap - 1, text.size());
    std::memcpy(into, text.data(), n);
    into[n] = '\0';
}

Deadline phase_budget(std::chrono::milliseconds warm, std::chrono::milliseconds rep, int reps) {
    return Deadline::after(warm + rep * reps + 5s);
}

/// Sends a control message (rep or phase end) and waits for its echo.
Result<void> echo_control(Transport& t,
                          std::vector<std::byte>& msg,
                          std::vector<std::byte>& back,
                          Kind kind) {
    put(msg, 0, kind);
    IPCKIT_TRY(t.send(msg));
    return expect_len(t.receive(back), msg.size());
}

/// One timed repetition: round trips until `end` (and at least kMinSamples), in ns.
Result<std::vector<double>> latency_rep(Transport& t,
                                        const Config& c,
                                        std::vector<std::byte>& msg,
                                        std::vector<std::byte>& back,
                                        Clock::time_point end) {
    std::vector<double> samples;
    samples.reserve(std::min<std::size_t>(c.max_samples_per_rep, 1U << 16));
    for (std::uint64_t seq = 0;; ++seq) {
        put(msg, seq, Kind::Data);
        const auto t0 = Clock::now();
        IPCKIT_TRY(t.send(msg));
        IPCKIT_TRY(expect_len(t.receive(back), msg.size()));
        const auto t1 = Clock::now();
        const MessageHeader h = get(back);
        if (h.seq != seq || h.kind != static_cast<std::uint64_t>(Kind::Data)) {
            return protocol_error(
                fmt::format("echo carried sequence {} (kind {}), expected {}", h.seq, h.kind, seq));
        }
        samples.push_back(static_cast<double>(std::chrono::nanoseconds(t1 - t0).count()));
        // A repetition ends on time, but never before it holds enough round trips for a
        // median: one preempted sample must not become a repetition's figure.
        if ((t1 >= end && samples.size() >= kMinSamples) ||
            samples.size() >= c.max_samples_per_rep) {
            return samples;
        }
    }
}

/// The phase's figures from every sample (sorted) and each repetition's median.
void latency_figures(const std::vector<double>& all,
                     const std::vector<double>& rep_medians,
                     PhaseOut& out) {
    double sum = 0;
    for (double v : all) {
        sum += v;
    }
    out.values[kMin] = all.front();
    out.values[kP50] = percentile(all, 0.5);
    out.values[kP99] = percentile(all, 0.99);
    out.values[kP999] = percentile(all, 0.999);
    out.values[kMax] = all.back();
    out.values[kMean] = sum / static_cast<double>(all.size());
    out.values[kSpread] = half_range_pct(rep_medians);
    out.count = all.size();
    out.status = static_cast<int>(Status::Ok);
}

// Leader: one latency phase. Round trips of `size` bytes, timed one by one.
Result<void> leader_latency(Transport& t, const Config& c, std::size_t size, PhaseOut& out) {
    set_phase_deadline(phase_budget(c.latency_warmup, c.latency_rep, c.latency_reps));
    std::vector<std::byte> msg(size);
    std::vector<std::byte> back(size);
    std::vector<double> all;
    std::vector<double> rep_medians;
    for (int rep = -1; rep < c.latency_reps; ++rep) {  // rep -1 is the warm-up
        const auto span = rep < 0 ? c.latency_warmup : c.latency_rep;
        IPCKIT_TRY_ASSIGN(auto samples, latency_rep(t, c, msg, back, Clock::now() + span));
        IPCKIT_TRY(echo_control(t, msg, back, Kind::RepEnd));
        if (get(back).kind != static_cast<std::uint64_t>(Kind::RepEnd)) {
            return protocol_error("repetition end was not echoed");
        }
        if (rep >= 0) {
            std::sort(samples.begin(), samples.end());
            rep_medians.push_back(percentile(samples, 0.5));
            all.insert(all.end(), samples.begin(), samples.end());
        }
    }
    IPCKIT_TRY(echo_control(t, msg, back, Kind::PhaseEnd));
    std::sort(all.begin(), all.end());
    latency_figures(all, rep_medians, out);
    return {};
}

Result<void> follower_latency(Transport& t, const Config& c, std::size_t size) {
    set_phase_deadline(phase_budget(c.latency_warmup, c.latency_rep, c.latency_reps));
    std::vector<std::byte> msg(size);
    std::uint64_t expected = 0;
    for (;;) {
        IPCKIT_TRY(expect_len(t.receive(msg), size));
        const MessageHeader h = get(msg);
        if (h.kind == static_cast<std::uint64_t>(Kind::Data)) {
            if (h.seq != expected) {
                return protocol_error(
                    fmt::format("sequence {} arrived, expected {}", h.seq, expected));
            }
            ++expected;
        } else if (h.kind == static_cast<std::uint64_t>(Kind::RepEnd)) {
            expected = 0;
        }
        IPCKIT_TRY(t.send(msg));
        if (h.kind == static_cast<std::uint64_t>(Kind::PhaseEnd)) {
            return {};
        }
    }
}

using AckBuffer = std::array<std::byte, sizeof(MessageHeader)>;

/// Reads one acknowledgement; true when it is the `want_final` one.
Result<bool> read_ack(Transport& t, AckBuffer& ack, Kind want_final, std::uint64_t& acked) {
    IPCKIT_TRY(expect_len(t.receive(ack), ack.size()));
    const MessageHeader h = get(ack);
    if (h.seq < acked) {
        return protocol_error("acknowledgements went backwards");
    }
    acked = h.seq;
    return h.kind == static_cast<std::uint64_t>(want_final);
}

/// Reads acknowledgements until the `want_final` one.
Result<void> read_final_ack(Transport& t, AckBuffer& ack, Kind want_final, std::uint64_t& acked) {
    for (;;) {
        IPCKIT_TRY_ASSIGN(const bool is_final, read_ack(t, ack, want_final, acked));
        if (is_final) {
            return {};
        }
    }
}

/// Streams messages until `end`, never more than `window` ahead of the acknowledgements, then
/// announces the count; returns it once the follower confirmed it.
Result<std::uint64_t> throughput_rep(Transport& t,
                                     std::vector<std::byte>& msg,
                                     AckBuffer& ack,
                                     std::size_t window,
                                     Clock::time_point end) {
    std::uint64_t sent = 0;
    std::uint64_t acked = 0;
    while (sent % 8 != 0 || Clock::now() < end) {
        while (sent - acked >= window) {
            IPCKIT_TRY(read_ack(t, ack, Kind::RepEnd, acked));
        }
        put(msg, sent, Kind::Data);
        IPCKIT_TRY(t.send(msg));
        ++sent;
    }
    put(msg, sent, Kind::RepEnd);
    IPCKIT_TRY(t.send(msg));
    IPCKIT_TRY(read_final_ack(t, ack, Kind::RepEnd, acked));
    if (acked != sent) {
        return protocol_error(
            fmt::format("follower counted {} messages, {} were sent", acked, sent));
    }
    return sent;
}

// Leader: one throughput phase. Messages stream one way; the follower acknowledges every
// window/2, and the leader never runs more than a window ahead (no datagram can be dropped).
Result<void> leader_throughput(Transport& t, const Config& c, std::size_t size, PhaseOut& out) {
    set_phase_deadline(phase_budget(c.throughput_warmup, c.throughput_rep, c.throughput_reps));
    const std::size_t window = window_for(size);
    std::vector<std::byte> msg(size);
    AckBuffer ack{};
    std::vector<double> rates;
    std::uint64_t total = 0;
    for (int rep = -1; rep < c.throughput_reps; ++rep) {
        const auto span = rep < 0 ? c.throughput_warmup : c.throughput_rep;
        const auto t0 = Clock::now();
        IPCKIT_TRY_ASSIGN(const std::uint64_t sent, throughput_rep(t, msg, ack, window, t0 + span));
        const auto t1 = Clock::now();
        if (rep >= 0) {
            rates.push_back(static_cast<double>(sent) /
                            std::chrono::duration<double>(t1 - t0).count());
            total += sent;
        }
    }
    put(msg, 0, Kind::PhaseEnd);
    IPCKIT_TRY(t.send(msg));
    std::uint64_t ignored = 0;
    IPCKIT_TRY(read_final_ack(t, ack, Kind::PhaseEnd, ignored));
    std::vector<double> sorted = rates;
    std::sort(sorted.begin(), sorted.end());
    out.values[kRate] = sorted.at(sorted.size() / 2);
    out.values[kSpread] = half_range_pct(rates);
    out.count = total;
    out.status = static_cast<int>(Status::Ok);
    return {};
}

/// Follower: one data message of a throughput phase; acknowledges every `every` messages.
Result<void> count_data(
    Transport& t, AckBuffer& ack, std::uint64_t seq, std::size_t every, std::uint64_t& expected) {
    if (seq != expected) {
        return protocol_error(fmt::format("sequence {} arrived, expected {}", seq, expected));
    }
    ++expected;
    if (expected % every != 0) {
        return {};
    }
    put(ack, expected, Kind::Ack);
    return t.send(ack);
}

/// Follower: answers a repetition or phase end of a throughput phase; true when the phase is over.
Result<bool> answer_control(Transport& t,
                            AckBuffer& ack,
                            const MessageHeader& h,
                            std::uint64_t& expected) {
    const bool rep_end = h.kind == static_cast<std::uint64_t>(Kind::RepEnd);
    if (rep_end && h.seq != expected) {
        return protocol_error(fmt::format("{} messages announced, {} arrived", h.seq, expected));
    }
    put(ack, rep_end ? expected : 0, rep_end ? Kind::RepEnd : Kind::PhaseEnd);
    IPCKIT_TRY(t.send(ack));
    expected = 0;
    return !rep_end;
}

Result<void> follower_throughput(Transport& t, const Config& c, std::size_t size) {
    set_phase_deadline(phase_budget(c.throughput_warmup, c.throughput_rep, c.throughput_reps));
    const std::size_t every = std::max<std::size_t>(1, window_for(size) / 2);
    std::vector<std::byte> msg(size);
    AckBuffer ack{};
    std::uint64_t expected = 0;
    for (;;) {
        IPCKIT_TRY(expect_len(t.receive(msg), size));
        const MessageHeader h = get(msg);
        if (h.kind == static_cast<std::uint64_t>(Kind::Data)) {
            IPCKIT_TRY(count_data(t, ack, h.seq, every, expected));
            continue;
        }
        IPCKIT_TRY_ASSIGN(const bool phase_over, answer_control(t, ack, h, expected));
        if (phase_over) {
            return {};
        }
    }
}

// ---------------------------------------------------------------------------- children

Result<void> pin_to(int cpu) {
    if (cpu < 0) {
        return {};
    }
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(static_cast<std::size_t>(cpu), &set);
    if (::sched_setaffinity(0, sizeof set, &set) != 0) {
        return Error::from_errno(errno,
                                 "sched_setaffinity",
                                 fmt::format("CPU {}", cpu),
                                 "is it online and in this process's affinity mask (taskset)?");
    }
    return {};
}

[[noreturn]] void child_exit(const TransportInfo& info, int code) {
    if (info.daemon.start != nullptr) {
        std::exit(code);  // the daemon's runtime deregisters from static destructors
    }
    ::_exit(code);
}

/// Test hook: IPCKIT_BENCH_FAULT="crash:NAME" makes NAME's follower die right after attaching,
/// "hang:NAME" makes it stop answering, so tests can show that a broken transport costs its own
/// row and nothing else (bench-smoke).
void inject_fault(const TransportInfo& info) {
    const char* fault = std::getenv("IPCKIT_BENCH_FAULT");
    if (fault == nullptr) {
        return;
    }
    const std::string f = fault;
    if (f == "crash:" + info.name) {
        ::_exit(3);
    }
    if (f == "hang:" + info.name) {
        for (;;) {
            ::pause();
        }
    }
}

}  // namespace

[[noreturn]] void run_child(Role role,
                            const TransportInfo& info,
                            Transport& t,
                            const Config& c,
                            const Plan& plan,
                            SharedBlock& shared,
                            int cpu) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
        (void)::signal(sig, SIG_DFL);
    }
    const bool leader = role == Role::Leader;
    char* error = leader ? shared.leader_error : shared.follower_error;
    auto fail = [&](const Error& e, int phase) {
        copy_error(error, sizeof shared.leader_error, e.message());
        shared.failed_phase.store(phase);
        child_exit(info, 1);
    };
    if (auto r = pin_to(cpu); !r) {
        fail(r.error(), -1);
    }
    if (auto r = init_child_deadlines(); !r) {
        fail(r.error(), -1);
    }
    set_phase_deadline(Deadline::after(10s));
    while (shared.go.load(std::memory_order_acquire) == 0) {
        if (phase_deadline().expired()) {
            fail(timed_out("start", "supervisor"), -1);
        }
        std::this_thread::sleep_for(100us);
    }
    const int peer = leader ? shared.follower_pid : shared.leader_pid;
    if (auto r = t.attach(role, peer); !r) {
        fail(r.error(), -1);
    }
    if (!leader) {
        inject_fault(info);
    }
    int phase = 0;
    for (std::size_t i = 0; i < plan.latency.size(); ++i, ++phase) {
        shared.current_phase.store(phase);
        auto r = leader ? leader_latency(t, c, plan.latency[i], shared.latency.at(i))
                        : follower_latency(t, c, plan.latency[i]);
        if (!r) {
            fail(r.error(), phase);
        }
    }
    for (std::size_t i = 0; i < plan.throughput.size(); ++i, ++phase) {
        shared.current_phase.store(phase);
        auto r = leader ? leader_throughput(t, c, plan.throughput[i], shared.throughput.at(i))
                        : follower_throughput(t, c, plan.throughput[i]);
        if (!r) {
            fail(r.error(), phase);
        }
    }
    set_phase_deadline(Deadline::never());
    t.detach();
    child_exit(info, 0);
}

}  // namespace ipckit::bench
