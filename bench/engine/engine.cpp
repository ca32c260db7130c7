// SPDX-License-Identifier: MIT
#include "engine/engine.hpp"

#include "engine/protocol.hpp"
#include "engine/wait.hpp"
#include "ipckit/core/mapping.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <memory>
#include <sched.h>
#include <stdlib.h>
#include <thread>

namespace ipckit::bench {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

volatile std::sig_atomic_t g_stop = 0;
void on_stop_signal(int /*sig*/) {
    g_stop = 1;
}

/// Ctrl-C, SIGTERM and SIGHUP only set a flag in the supervisor: it then kills its children,
/// removes every object and returns, rather than dying with objects left behind.
class StopSignals {
public:
    StopSignals() {
        struct sigaction sa {};
        sa.sa_handler = on_stop_signal;
        sigemptyset(&sa.sa_mask);
        for (std::size_t i = 0; i < kSignals.size(); ++i) {
            ::sigaction(kSignals.at(i), &sa, &old_.at(i));
        }
        // The rt-signal transport's signals: queued, never fatal, in every child (inherited).
        sigset_t rt;
        sigemptyset(&rt);
        sigaddset(&rt, SIGRTMIN);
        sigaddset(&rt, SIGRTMIN + 1);
        ::sigprocmask(SIG_BLOCK, &rt, &old_mask_);
        g_stop = 0;
    }
    StopSignals(const StopSignals&) = delete;
    StopSignals& operator=(const StopSignals&) = delete;
    StopSignals(StopSignals&&) = delete;
    StopSignals& operator=(StopSignals&&) = delete;
    ~StopSignals() {
        for (std::size_t i = 0; i < kSignals.size(); ++i) {
            ::sigaction(kSignals.at(i), &old_.at(i), nullptr);
        }
        ::sigprocmask(SIG_SETMASK, &old_mask_, nullptr);
    }

private:
    static constexpr std::array<int, 3> kSignals{SIGINT, SIGTERM, SIGHUP};
    std::array<struct sigaction, 3> old_{};
    sigset_t old_mask_{};
};

/// A private 0700 directory for FIFOs, sockets and daemon logs, removed with its contents.
class TempDir {
public:
    TempDir() {
        const char* base = std::getenv("TMPDIR");
        std::string tmpl =
            std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/ipckit-bench-XXXXXX";
        if (::mkdtemp(tmpl.data()) != nullptr) {
            path_ = tmpl;
            ledger("path", path_);
        }
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    TempDir(TempDir&&) = delete;
    TempDir& operator=(TempDir&&) = delete;
    ~TempDir() {
        if (!path_.empty()) {
            std::error_code ec;
            std::filesystem::remove_all(path_, ec);
        }
    }
    [[nodiscard]] const std::string& path() const { return path_; }

private:
    std::string path_;
};

// ---------------------------------------------------------------------------- measurement

struct Plan {
    std::vector<std::size_t> latency;  // sizes this transport supports, in order
    std::vector<std::size_t> throughput;
};

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
    if (!got) {
        return got.error();
    }
    if (*got != want) {
        return protocol_error(fmt::format("received {} bytes, expected {}", *got, want));
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
    if (auto r = t.send(msg); !r) {
        return r;
    }
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
        if (auto r = t.send(msg); !r) {
            return r.error();
        }
        if (auto r = expect_len(t.receive(back), msg.size()); !r) {
            return r.error();
        }
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
        auto samples = latency_rep(t, c, msg, back, Clock::now() + span);
        if (!samples) {
            return samples.error();
        }
        IPCKIT_TRY(echo_control(t, msg, back, Kind::RepEnd));
        if (get(back).kind != static_cast<std::uint64_t>(Kind::RepEnd)) {
            return protocol_error("repetition end was not echoed");
        }
        if (rep >= 0) {
            std::sort(samples->begin(), samples->end());
            rep_medians.push_back(percentile(*samples, 0.5));
            all.insert(all.end(), samples->begin(), samples->end());
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
        if (auto r = expect_len(t.receive(msg), size); !r) {
            return r;
        }
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
        if (auto r = t.send(msg); !r) {
            return r;
        }
        if (h.kind == static_cast<std::uint64_t>(Kind::PhaseEnd)) {
            return {};
        }
    }
}

using AckBuffer = std::array<std::byte, sizeof(MessageHeader)>;

/// Reads one acknowledgement; true when it is the `want_final` one.
Result<bool> read_ack(Transport& t, AckBuffer& ack, Kind want_final, std::uint64_t& acked) {
    if (auto r = expect_len(t.receive(ack), ack.size()); !r) {
        return r.error();
    }
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
        auto r = read_ack(t, ack, want_final, acked);
        if (!r) {
            return r.error();
        }
        if (*r) {
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
            if (auto r = read_ack(t, ack, Kind::RepEnd, acked); !r) {
                return r.error();
            }
        }
        put(msg, sent, Kind::Data);
        if (auto r = t.send(msg); !r) {
            return r.error();
        }
        ++sent;
    }
    put(msg, sent, Kind::RepEnd);
    if (auto r = t.send(msg); !r) {
        return r.error();
    }
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
        auto sent = throughput_rep(t, msg, ack, window, t0 + span);
        if (!sent) {
            return sent.error();
        }
        const auto t1 = Clock::now();
        if (rep >= 0) {
            rates.push_back(static_cast<double>(*sent) /
                            std::chrono::duration<double>(t1 - t0).count());
            total += *sent;
        }
    }
    put(msg, 0, Kind::PhaseEnd);
    if (auto r = t.send(msg); !r) {
        return r;
    }
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

Result<void> follower_throughput(Transport& t, const Config& c, std::size_t size) {
    set_phase_deadline(phase_budget(c.throughput_warmup, c.throughput_rep, c.throughput_reps));
    const std::size_t every = std::max<std::size_t>(1, window_for(size) / 2);
    std::vector<std::byte> msg(size);
    AckBuffer ack{};
    std::uint64_t expected = 0;
    for (;;) {
        if (auto r = expect_len(t.receive(msg), size); !r) {
            return r;
        }
        const MessageHeader h = get(msg);
        if (h.kind == static_cast<std::uint64_t>(Kind::Data)) {
            IPCKIT_TRY(count_data(t, ack, h.seq, every, expected));
            continue;
        }
        const bool rep_end = h.kind == static_cast<std::uint64_t>(Kind::RepEnd);
        if (rep_end && h.seq != expected) {
            return protocol_error(
                fmt::format("{} messages announced, {} arrived", h.seq, expected));
        }
        put(ack, rep_end ? expected : 0, rep_end ? Kind::RepEnd : Kind::PhaseEnd);
        if (auto r = t.send(ack); !r) {
            return r;
        }
        if (!rep_end) {
            return {};
        }
        expected = 0;
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

// ---------------------------------------------------------------------------- supervisor

struct Child {
    pid_t pid = -1;
    int status = 0;
    bool reaped = false;
    bool killed = false;  // by the supervisor: its own failure is not the cause
};

bool reap(Child& c) {
    if (c.reaped || c.pid < 0) {
        return true;
    }
    const pid_t r = ::waitpid(c.pid, &c.status, WNOHANG);
    if (r == c.pid || (r < 0 && errno == ECHILD)) {
        c.reaped = true;
    }
    return c.reaped;
}

void kill_and_reap(Child& c) {
    if (c.pid > 0 && !c.reaped) {
        ::kill(c.pid, SIGKILL);
        c.killed = true;
        while (::waitpid(c.pid, &c.status, 0) < 0 && errno == EINTR) {
        }
        c.reaped = true;
    }
}

bool clean_exit(const Child& c) {
    return c.reaped && WIFEXITED(c.status) && WEXITSTATUS(c.status) == 0;
}

std::string describe(const Child& c, const char* who) {
    if (WIFSIGNALED(c.status)) {
        return fmt::format(
            "{} killed by signal {} ({})", who, WTERMSIG(c.status), strsignal(WTERMSIG(c.status)));
    }
    return fmt::format("{} exited with status {}", who, WEXITSTATUS(c.status));
}

class Progress {
public:
    explicit Progress(bool on) : on_(on) {}
    void show(std::size_t index,
              std::size_t count,
              const std::string& name,
              const std::string& what) const {
        if (on_) {
            fmt::print(stderr, "\r\033[K[{:2}/{}] {:<16} {}", index + 1, count, name, what);
            (void)std::fflush(stderr);  // progress display only
        }
    }
    void clear() const {
        if (on_) {
            fmt::print(stderr, "\r\033[K");
            (void)std::fflush(stderr);  // progress display only
        }
    }

private:
    bool on_;
};

std::string phase_label(const Plan& plan, int phase) {
    const auto p = static_cast<std::size_t>(phase);
    if (p < plan.latency.size()) {
        return "latency " + format_size(plan.latency[p]);
    }
    if (p - plan.latency.size() < plan.throughput.size()) {
        return "throughput " + format_size(plan.throughput[p - plan.latency.size()]);
    }
    return "finishing";
}

TransportResult empty_result(const TransportInfo& info, const Config& c) {
    TransportResult res;
    res.name = info.name;
    res.title = info.title;
    res.group = info.group;
    res.peer = info.peer;
    for (std::size_t s : c.latency_sizes) {
        res.latency.emplace_back().size = s;
    }
    for (std::size_t s : c.throughput_sizes) {
        res.throughput.emplace_back().size = s;
    }
    return res;
}

std::size_t largest_size(const Config& c) {
    std::size_t largest = 0;
    for (const auto* sizes : {&c.latency_sizes, &c.throughput_sizes}) {
        if (!sizes->empty()) {
            largest = std::max(largest, *std::max_element(sizes->begin(), sizes->end()));
        }
    }
    return largest;
}

/// The phases to run: sizes larger than the mechanism carries are "not supported", not errors.
template <class Row>
void plan_sizes(std::vector<Row>& rows, std::size_t limit, std::vector<std::size_t>& plan) {
    for (auto& row : rows) {
        if (row.size > limit) {
            row.status = Status::Unsupported;
            row.note = "max " + format_size(limit);
        } else {
            plan.push_back(row.size);
        }
    }
}

/// Who runs the children and how long they may take.
struct Watch {
    const TransportInfo& info;
    const Config& c;
    const Plan& plan;
    const SharedBlock& shared;
    const Progress& progress;
    std::size_t index;
    std::size_t count;
};

/// Waits for both children (against a generous deadline; their own deadlines fire well before
/// it); returns an error text, empty if nothing went wrong on our side.
std::string watch_children(const Watch& w, Child& leader, Child& follower) {
    const Config& c = w.c;
    const auto budget = (c.latency_warmup + c.latency_rep * c.latency_reps + 6s) *
                            static_cast<long>(w.plan.latency.size()) +
                        (c.throughput_warmup + c.throughput_rep * c.throughput_reps + 6s) *
                            static_cast<long>(w.plan.throughput.size()) +
                        15s;
    const auto give_up = Clock::now() + budget;
    int shown = -1;
    std::optional<Clock::time_point> one_failed;
    for (;;) {
        const bool leader_done = reap(leader);  // both, every turn: no short-circuit
        const bool follower_done = reap(follower);
        if (leader_done && follower_done) {
            return {};
        }
        if (g_stop != 0) {
            if (w.info.daemon.stop != nullptr) {
                // A daemon (RouDi) shuts its live clients down itself and then cleans up; it
                // must not find them already killed under it.
                const std::array<int, 2> clients{leader.pid, follower.pid};
                w.info.daemon.stop(clients);
                reap(leader);
                reap(follower);
            }
            return {};
        }
        if (Clock::now() > give_up) {
            return "timed out: killed the leader and follower";
        }
        // One side failed: the other gets a moment to report its own view, then goes.
        const bool failed =
            (leader.reaped && !clean_exit(leader)) || (follower.reaped && !clean_exit(follower));
        if (!one_failed && failed) {
            one_failed = Clock::now();
        }
        if (one_failed && Clock::now() - *one_failed > 300ms) {
            return {};
        }
        const int phase = w.shared.current_phase.load();
        if (phase != shown) {
            shown = phase;
            w.progress.show(w.index, w.count, w.info.name, phase_label(w.plan, phase));
        }
        std::this_thread::sleep_for(2ms);
    }
}

/// Copies what the leader wrote into the rows that ran.
void collect(TransportResult& res, const SharedBlock& shared) {
    std::size_t p = 0;
    for (auto& l : res.latency) {
        if (l.status == Status::Unsupported) {
            continue;
        }
        const PhaseOut& o = shared.latency.at(p++);
        if (o.status == static_cast<int>(Status::Ok)) {
            l.status = Status::Ok;
            l.min_ns = o.values[kMin];
            l.p50_ns = o.values[kP50];
            l.p99_ns = o.values[kP99];
            l.p999_ns = o.values[kP999];
            l.max_ns = o.values[kMax];
            l.mean_ns = o.values[kMean];
            l.spread_pct = o.values[kSpread];
            l.samples = o.count;
        }
    }
    p = 0;
    for (auto& tp : res.throughput) {
        if (tp.status == Status::Unsupported) {
            continue;
        }
        const PhaseOut& o = shared.throughput.at(p++);
        if (o.status == static_cast<int>(Status::Ok)) {
            tp.status = Status::Ok;
            tp.msgs_per_s = o.values[kRate];
            tp.bytes_per_s = o.values[kRate] * static_cast<double>(tp.size);
            tp.spread_pct = o.values[kSpread];
            tp.messages = o.count;
        }
    }
}

/// The children's own account of a failure, else which one died and how.
std::string child_error(const SharedBlock& shared, const Child& leader, const Child& follower) {
    const std::string le = shared.leader_error;
    const std::string fe = shared.follower_error;
    if (!le.empty() && !fe.empty()) {
        return "leader: " + le + "; follower: " + fe;
    }
    if (!le.empty()) {
        return "leader: " + le;
    }
    if (!fe.empty()) {
        return "follower: " + fe;
    }
    // Name the side that failed on its own, not the one we killed afterwards.
    const bool blame_leader =
        !clean_exit(leader) && (!leader.killed || clean_exit(follower) || follower.killed);
    return blame_leader ? describe(leader, "leader") : describe(follower, "follower");
}

/// Phases that had not produced a figure are errors, with the reason on the row.
void mark_failed_phases(TransportResult& res, int failed) {
    int phase = 0;
    auto mark = [&](auto& row) {
        if (row.status == Status::NotRun) {
            row.status = (failed < 0 || phase == failed) ? Status::Error : Status::NotRun;
            ++phase;
        }
    };
    std::for_each(res.latency.begin(), res.latency.end(), mark);
    std::for_each(res.throughput.begin(), res.throughput.end(), mark);
}

TransportResult run_one(const TransportInfo& info,
                        const Config& c,
                        const std::string& temp_dir,
                        int leader_cpu,
                        int follower_cpu,
                        const Progress& progress,
                        std::size_t index,
                        std::size_t count) {
    const auto started = Clock::now();
    TransportResult res = empty_result(info, c);
    progress.show(index, count, info.name, "setting up");

    auto transport = info.make();
    auto finish = [&](std::string error) {
        transport->teardown();
        res.error = std::move(error);
        res.seconds = std::chrono::duration<double>(Clock::now() - started).count();
        return res;
    };
    static int serial = 0;
    SetupParams params{
        largest_size(c), fmt::format("ipckit-bench-{}-{}", ::getpid(), ++serial), temp_dir};
    if (auto r = transport->setup(params); !r) {
        return finish("setup: " + r.error().message());
    }
    Plan plan;
    const std::size_t limit = transport->max_message_size();
    plan_sizes(res.latency, limit, plan.latency);
    plan_sizes(res.throughput, limit, plan.throughput);
    if (plan.latency.size() > kMaxPhases || plan.throughput.size() > kMaxPhases) {
        return finish("too many sizes");
    }

    auto block = Mapping::map_anonymous(sizeof(SharedBlock));
    if (!block) {
        return finish(block.error().message());
    }
    // construct_at, not placement new: the mapping owns the memory, not this pointer.
    auto* shared = std::construct_at(reinterpret_cast<SharedBlock*>(block->data()));

    // Flush before fork so buffered output is not written twice; nothing to do if it fails.
    (void)std::fflush(stdout);
    (void)std::fflush(stderr);
    Child follower;
    Child leader;
    follower.pid = ::fork();
    if (follower.pid == 0) {
        run_child(Role::Follower, info, *transport, c, plan, *shared, follower_cpu);
    }
    if (follower.pid < 0) {
        return finish(fmt::format("fork: {}", std::strerror(errno)));
    }
    leader.pid = ::fork();
    if (leader.pid == 0) {
        run_child(Role::Leader, info, *transport, c, plan, *shared, leader_cpu);
    }
    if (leader.pid < 0) {
        const int err = errno;
        kill_and_reap(follower);
        return finish(fmt::format("fork: {}", std::strerror(err)));
    }
    ledger("process", std::to_string(follower.pid));
    ledger("process", std::to_string(leader.pid));
    shared->leader_pid = leader.pid;
    shared->follower_pid = follower.pid;
    shared->go.store(1, std::memory_order_release);

    std::string error =
        watch_children(Watch{info, c, plan, *shared, progress, index, count}, leader, follower);
    kill_and_reap(leader);
    kill_and_reap(follower);
    transport->teardown();

    if (g_stop != 0) {
        return finish("interrupted");
    }
    collect(res, *shared);
    if (error.empty() && !(clean_exit(leader) && clean_exit(follower))) {
        error = child_error(*shared, leader, follower);
    }
    if (!error.empty()) {
        mark_failed_phases(res, shared->failed_phase.load());
    }
    return finish(error);
}

std::pair<int, int> default_cpus() {
    cpu_set_t set;
    CPU_ZERO(&set);
    std::vector<int> cpus;
    if (::sched_getaffinity(0, sizeof set, &set) == 0) {
        for (int i = 0; i < CPU_SETSIZE && cpus.size() < 2; ++i) {
            if (CPU_ISSET(static_cast<std::size_t>(i), &set)) {
                cpus.push_back(i);
            }
        }
    }
    if (cpus.size() >= 2) {
        return {cpus[0], cpus[1]};
    }
    return {cpus.empty() ? -1 : cpus[0], cpus.empty() ? -1 : cpus[0]};
}

}  // namespace

const char* to_string(Status s) {
    switch (s) {
        case Status::Ok:
            return "ok";
        case Status::Unsupported:
            return "unsupported";
        case Status::Error:
            return "error";
        case Status::NotRun:
            return "not run";
    }
    return "?";
}

const char* to_string(Group g) {
    switch (g) {
        case Group::Floor:
            return "floor";
        case Group::Stream:
            return "byte stream";
        case Group::Socket:
            return "socket";
        case Group::Queue:
            return "message queue";
        case Group::SharedMemory:
            return "shared memory";
        case Group::Signal:
            return "signal";
        case Group::Channel:
            return "ipckit channel";
        case Group::Peer:
            return "peer library";
    }
    return "?";
}

void Config::make_quick() {
    latency_warmup = 10ms;
    latency_rep = 25ms;
    latency_reps = 3;
    throughput_warmup = 5ms;
    throughput_rep = 15ms;
    throughput_reps = 2;
}

std::string format_size(std::size_t bytes) {
    if (bytes >= (1U << 20) && bytes % (1U << 20) == 0) {
        return fmt::format("{} MiB", bytes >> 20);
    }
    if (bytes >= 1024 && bytes % 1024 == 0) {
        return fmt::format("{} KiB", bytes >> 10);
    }
    return fmt::format("{} B", bytes);
}

Result<std::vector<std::size_t>> parse_sizes(const std::string& text) {
    std::vector<std::size_t> out;
    std::size_t pos = 0;
    while (pos <= text.size()) {
        const std::size_t comma = std::min(text.find(',', pos), text.size());
        const std::string item = text.substr(pos, comma - pos);
        pos = comma + 1;
        std::size_t used = 0;
        unsigned long long value = 0;
        const auto not_a_size = [&] {
            return Error(
                std::errc::invalid_argument, "--sizes", item, "expected a size like 64, 4K, 1M");
        };
        // A digit first: stoull also takes blanks and a sign ("-18446744073709550592" is 1024).
        if (item.empty() || item.front() < '0' || item.front() > '9') {
            return not_a_size();
        }
        try {
            value = std::stoull(item, &used);
        } catch (const std::exception&) {
            return not_a_size();
        }
        std::string unit = item.substr(used);
        std::transform(unit.begin(), unit.end(), unit.begin(), [](unsigned char ch) {
            return static_cast<char>(std::toupper(ch));
        });
        unsigned shift = 0;
        if (unit == "K" || unit == "KB" || unit == "KIB") {
            shift = 10;
        } else if (unit == "M" || unit == "MB" || unit == "MIB") {
            shift = 20;
        } else if (!unit.empty() && unit != "B") {
            return Error(
                std::errc::invalid_argument, "--sizes", item, "unknown unit (use B, K or M)");
        }
        // Checked before the shift, which would wrap ("18014398509481985K" would be 1024).
        value = value > ((64ULL << 20) >> shift) ? ~0ULL : value << shift;
        if (value < sizeof(MessageHeader) || value > (64ULL << 20)) {
            return Error(std::errc::invalid_argument,
                         "--sizes",
                         item,
                         fmt::format("sizes must be between {} B (the sequence header) and 64 MiB",
                                     sizeof(MessageHeader)));
        }
        out.push_back(static_cast<std::size_t>(value));
        if (comma == text.size()) {
            break;
        }
    }
    if (out.size() > kMaxPhases) {
        return Error(std::errc::invalid_argument,
                     "--sizes",
                     text,
                     fmt::format("at most {} sizes", kMaxPhases));
    }
    return out;
}

Result<std::vector<const TransportInfo*>> select(const Config& config) {
    std::vector<std::string> unknown;
    auto known = [](const std::string& n) {
        const auto& all = transports();
        return std::any_of(
            all.begin(), all.end(), [&](const TransportInfo& t) { return t.name == n; });
    };
    for (const auto* list : {&config.only, &config.exclude}) {
        for (const auto& n : *list) {
            if (!known(n)) {
                unknown.push_back(n);
            }
        }
    }
    if (!unknown.empty()) {
        std::string names;
        for (const auto& t : transports()) {
            names += (names.empty() ? "" : ", ") + t.name;
        }
        return Error(std::errc::invalid_argument,
                     "--only/--exclude",
                     fmt::format("{}", fmt::join(unknown, ", ")),
                     "unknown transport; known: " + names);
    }
    std::vector<const TransportInfo*> out;
    for (const auto& t : transports()) {
        const bool named =
            std::find(config.only.begin(), config.only.end(), t.name) != config.only.end();
        if (!config.only.empty() && !named) {
            continue;
        }
        if (std::find(config.exclude.begin(), config.exclude.end(), t.name) !=
            config.exclude.end()) {
            continue;
        }
        if (t.peer && !config.peers && !named) {
            continue;
        }
        out.push_back(&t);
    }
    return out;
}

/// Starts the transport's daemon unless one of its kind runs already; returns an error text.
std::string start_daemon(const TransportInfo& info,
                         const std::string& dir,
                         std::vector<DaemonHooks>& running) {
    if (info.daemon.start == nullptr ||
        std::any_of(running.begin(), running.end(), [&](const DaemonHooks& d) {
            return d.start == info.daemon.start;
        })) {
        return {};
    }
    auto r = info.daemon.start(dir, [] { return g_stop != 0; });
    if (!r) {
        return r.error().message();
    }
    running.push_back(info.daemon);
    return {};
}

/// The row of a transport whose daemon would not start: every size is an error.
TransportResult daemon_failed(const TransportInfo& info, const Config& config, std::string error) {
    TransportResult res = empty_result(info, config);
    res.error = std::move(error);
    for (auto& l : res.latency) {
        l.status = Status::Error;
    }
    for (auto& tp : res.throughput) {
        tp.status = Status::Error;
    }
    return res;
}

/// Ratios to the spin floor measured in this run, size by size.
void add_floor_ratios(Report& report) {
    const auto floor =
        std::find_if(report.rows.begin(), report.rows.end(), [](const TransportResult& r) {
            return r.name == "spin-floor";
        });
    if (floor == report.rows.end()) {
        return;
    }
    for (auto& row : report.rows) {
        for (std::size_t i = 0; i < row.latency.size(); ++i) {
            const auto& f = floor->latency.at(i);
            auto& l = row.latency.at(i);
            if (l.status == Status::Ok && f.status == Status::Ok && f.p50_ns > 0) {
                l.ratio_to_floor = l.p50_ns / f.p50_ns;
            }
        }
    }
}

Result<Report> run(const Config& config) {
    const auto started = Clock::now();
    auto selected = select(config);
    if (!selected) {
        return selected.error();
    }
    Report report;
    report.machine = describe_machine();
    report.config = config;
    auto [lc, fc] = default_cpus();
    report.leader_cpu = config.leader_cpu >= 0 ? config.leader_cpu : lc;
    report.follower_cpu = config.follower_cpu >= 0 ? config.follower_cpu : fc;
    if (report.leader_cpu == report.follower_cpu) {
        report.notes.emplace_back(
            "leader and follower share one CPU: spinning transports will be slow");
    }

    StopSignals stop;
    TempDir temp;
    if (temp.path().empty()) {
        return Error::from_errno(errno, "mkdtemp", "ipckit-bench-XXXXXX");
    }
    Progress progress(config.progress);
    std::vector<DaemonHooks> running;  // daemons started, stopped at the end by PID
    for (std::size_t i = 0; i < selected->size() && g_stop == 0; ++i) {
        const TransportInfo& info = *selected->at(i);
        if (info.daemon.start != nullptr) {
            progress.show(i, selected->size(), info.name, "starting its daemon");
        }
        if (std::string e = start_daemon(info, temp.path(), running); !e.empty()) {
            report.rows.push_back(daemon_failed(info, config, std::move(e)));
            continue;
        }
        report.rows.push_back(run_one(info,
                                      config,
                                      temp.path(),
                                      report.leader_cpu,
                                      report.follower_cpu,
                                      progress,
                                      i,
                                      selected->size()));
    }
    for (auto& d : running) {
        d.stop({});
    }
    progress.clear();
    if (g_stop != 0) {
        return Error(std::errc::operation_canceled,
                     "interrupted",
                     "",
                     "every IPC object and child process of the run was removed");
    }
    add_floor_ratios(report);
    report.seconds = std::chrono::duration<double>(Clock::now() - started).count();
    return report;
}

}  // namespace ipckit::bench
