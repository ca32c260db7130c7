// SPDX-License-Identifier: MIT
// The supervisor (the ipckit process): for each transport it creates the kernel objects, forks
// the two children, watches them against a deadline, collects their figures and removes every
// object again, also on error and on Ctrl-C.
#include "engine/engine.hpp"
#include "engine/measure.hpp"
#include "engine/protocol.hpp"
#include "engine/wait.hpp"
#include "ipckit/core/mapping.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>
#include <memory>
#include <optional>
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
    if (info.round_trips_only) {
        for (auto& row : res.throughput) {
            row.status = Status::Unsupported;
            row.note = "round trips only";
        }
    } else {
        plan_sizes(res.throughput, limit, plan.throughput);
    }
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

}  // namespace

Result<Report> run(const Config& config) {
    const auto started = Clock::now();
    IPCKIT_TRY_ASSIGN(const auto selected, select(config));
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
    for (std::size_t i = 0; i < selected.size() && g_stop == 0; ++i) {
        const TransportInfo& info = *selected.at(i);
        if (info.daemon.start != nullptr) {
            progress.show(i, selected.size(), info.name, "starting its daemon");
        }
        if (std::string e = start_daemon(info, temp.path(), running); !e.empty()) {
            report.rows.push_back(daemon_failed(info, config, std::move(e)));
        } else {
            report.rows.push_back(run_one(info,
                                          config,
                                          temp.path(),
                                          report.leader_cpu,
                                          report.follower_cpu,
                                          progress,
                                          i,
                                          selected.size()));
        }
        if (config.on_result) {
            progress.clear();
            config.on_result(report.rows.back(), i, selected.size());
        }
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
