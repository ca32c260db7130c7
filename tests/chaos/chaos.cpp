// SPDX-License-Identifier: MIT
// ipckit_chaos: the chaos soak of RELIABILITY C04 (docs/design/chaos.md). A supervisor forks
// senders and receivers over one message facility at a time, SIGKILLs and SIGSTOPs them at random
// instants, restarts them, then stops everything and checks what the facility promises.
//
//   ipckit_chaos [--facility NAME|all]... [--duration SECONDS] [--senders N] [--receivers M]
//                [--seed S] [--verbose]
// Exit: 0 every invariant held, 1 a violation, 2 usage, 3 setup failed, 4 watchdog.
#include "chaos.hpp"

#include "ipckit/channel/channel.hpp"
#include "ipckit/core/posix_name.hpp"
#include "ipckit/message/posix_mq.hpp"
#include "ipckit/message/sysv_msg_queue.hpp"
#include "ipckit/shm/posix_shm.hpp"
#include "ipckit/sync/robust_mutex.hpp"
#include "ipckit/sync/sysv_semaphore_set.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <mqueue.h>
#include <signal.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/prctl.h>
#include <sys/sem.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <thread>

namespace chaos {
namespace {

using namespace std::chrono_literals;

constexpr int kExitViolation = 1;
constexpr int kExitUsage = 2;
constexpr int kExitSetup = 3;
constexpr int kExitWatchdog = 4;

// ---- the watchdog: a last resort if the supervisor itself hangs. Async-signal-safe only.
pid_t g_supervisor = 0;
pid_t g_pids[2 * kMaxPeers] = {};
char g_mq[256] = {};
char g_paths[2][512] = {};
int g_msg_id = -1;
int g_sem_id = -1;

void on_watchdog(int /*sig*/) {
    for (pid_t p : g_pids) {
        if (p > 0) {
            ::kill(p, SIGKILL);
        }
    }
    if (g_mq[0] != '\0') {
        ::mq_unlink(g_mq);
    }
    for (const char* p : g_paths) {
        if (p[0] != '\0') {
            ::unlink(p);
        }
    }
    if (g_msg_id >= 0) {
        ::msgctl(g_msg_id, IPC_RMID, nullptr);
    }
    if (g_sem_id >= 0) {
        ::semctl(g_sem_id, 0, IPC_RMID);
    }
    static const char msg[] =
        "chaos: WATCHDOG: the supervisor hung; peers killed, objects removed\n";
    (void)!::write(2, msg, sizeof msg - 1);
    ::_exit(kExitWatchdog);
}

std::uint64_t ms(std::uint64_t n) {
    return n * 1'000'000ULL;
}

std::size_t count_fds() {
    std::size_t n = 0;
    if (DIR* d = ::opendir("/proc/self/fd")) {
        while (::readdir(d) != nullptr) {
            ++n;
        }
        ::closedir(d);
    }
    return n;
}

struct Peer {
    pid_t pid = 0;
    std::uint32_t slot = kNone;
    bool kill_sent = false;
    bool stopped = false;  ///< SIGSTOPped by the chaos loop
    std::uint64_t cont_at = 0;
    std::uint64_t restart_at = 0;
    std::uint32_t next_fault = 0;
};

class Supervisor {
public:
    Supervisor(Facility f, const Options& o)
        : f_(f), o_(o), rng_(o.seed * 0x9e3779b97f4a7c15ULL + static_cast<std::uint64_t>(f)) {
        const std::uint32_t workers = o.senders + o.receivers;
        senders_.resize(is_lock(f) ? workers : o.senders);
        receivers_.resize(is_lock(f) ? 0 : o.receivers);
        const auto cap = static_cast<std::uint32_t>(64 + o.duration * 40);
        sender_cap_ = cap;
        receiver_cap_ = is_lock(f) ? 1 : cap;
    }

    Figures go(bool& setup_failed) {
        const std::uint64_t t0 = now_ns();
        const std::size_t fds_before = count_fds();
        // Longer than any legitimate run (ready 10 s + chaos + ready 10 s + stop 15 s + drain
        // 15 s), shorter than the ctest TIMEOUT, so that objects are removed even then.
        ::alarm(static_cast<unsigned>(o_.duration) + 60);
        if (!setup()) {
            setup_failed = true;
            remove_objects();
            return std::move(fig_);
        }
        arena_->header().inject.store(o_.inject_loss ? 1 : 0);
        for (std::uint32_t i = 0; i < receivers_.size(); ++i) {
            start(false, i);
        }
        for (std::uint32_t i = 0; i < senders_.size(); ++i) {
            start(true, i);
        }
        if (!wait_ready(now_ns() + ms(10'000))) {
            fig_.violation("peers did not all become ready within 10 s");
        }
        chaos_loop(now_ns() + static_cast<std::uint64_t>(o_.duration * 1e9));
        wind_down();
        check_objects();
        check_run(f_, *arena_, run_, fig_);
        remove_objects();
        arena_.reset();
        if (const std::size_t fds = count_fds(); fds != fds_before) {
            fig_.violation("the supervisor has " + std::to_string(fds) + " descriptors open, " +
                           std::to_string(fds_before) + " before the run");
        }
        ::alarm(0);
        seconds_ = static_cast<double>(now_ns() - t0) / 1e9;
        return std::move(fig_);
    }

    [[nodiscard]] double seconds() const noexcept { return seconds_; }

private:
    // ---- objects

    bool setup() {
        // Not the suite's "ipckit-test-" prefix: another test run's end-of-suite leak check on
        // the same host removes every object of that prefix, live ones included.
        names_.prefix =
            "ipckit-chaos-" + std::to_string(::getpid()) + "-" + std::string(facility_name(f_));
        try {
            arena_ = std::make_unique<Arena>(sender_cap_, receiver_cap_, has_bitmaps(f_));
        } catch (const std::exception& e) {
            fig_.violation(std::string("setup: ") + e.what());
            return false;
        }
        auto setup_error = [&](const std::string& what, const ipckit::Error& e) {
            fig_.violation("setup: " + what + ": " + e.message());
            return false;
        };
        switch (f_) {
            case Facility::ChanBlock:
            case Facility::ChanOverwrite:
            case Facility::Group:
            case Facility::GroupAmo: {
                names_.channel = names_.prefix;
                ipckit::ChannelConfig c;
                c.policy = f_ == Facility::ChanOverwrite ? ipckit::ChannelPolicy::Overwrite
                                                         : ipckit::ChannelPolicy::Block;
                // Small lanes: block-mode publishers wait often, overwrite-mode ones lap often.
                c.lane_bytes = f_ != Facility::ChanOverwrite ? 64 * 1024 : 16 * 1024;
                // Group: a record per consumer incarnation until a live one reclaims it.
                c.max_group_members = o_.receivers + 6;
                c.max_message_size = kMaxMessage;
                c.max_publishers = o_.senders + 1;
                c.max_subscribers = o_.receivers + 2;
                c.max_loans = 4;
                auto r = ipckit::Channel::create(names_.channel, c);
                if (!r) {
                    return setup_error("Channel::create", r.error());
                }
                channel_made_ = true;
                std::snprintf(
                    g_paths[0], sizeof g_paths[0], "/dev/shm/%s.chan", names_.channel.c_str());
                break;
            }
            case Facility::PosixMq: {
                names_.mq = "/" + names_.prefix;
                auto name = ipckit::PosixName::make(names_.mq);
                if (!name) {
                    return setup_error("name", name.error());
                }
                auto q = ipckit::PosixMq::create(*name, {10, static_cast<long>(kMaxMessage)});
                if (!q) {
                    return setup_error("PosixMq::create", q.error());
                }
                mq_.emplace(std::move(*q));
                std::snprintf(g_mq, sizeof g_mq, "%s", names_.mq.c_str());
                if (const char* dir = std::getenv("IPCKIT_TEST_TRACK_DIR")) {
                    std::ofstream(std::string(dir) + "/mq-names", std::ios::app)
                        << names_.mq << "\n";
                }
                break;
            }
            case Facility::SysvMq: {
                auto q = ipckit::SysvMsgQueue::create(ipckit::SysvKey::private_key());
                if (!q) {
                    return setup_error("SysvMsgQueue::create", q.error());
                }
                sysv_mq_.emplace(*q);
                names_.sysv_id = g_msg_id = q->id();
                break;
            }
            case Facility::UnixDgram:
                break;
            case Facility::Stream: {
                std::string tmpl = "/tmp/" + names_.prefix + "-XXXXXX";
                if (::mkdtemp(tmpl.data()) == nullptr) {
                    fig_.violation(std::string("setup: mkdtemp: ") + std::strerror(errno));
                    return false;
                }
                names_.sock_dir = tmpl;
                break;
            }
            case Facility::RobustMutex: {
                names_.shm = "/" + names_.prefix;
                auto name = ipckit::PosixName::make(names_.shm);
                if (!name) {
                    return setup_error("name", name.error());
                }
                auto shm = ipckit::PosixShm::create(*name, 4096);
                if (!shm) {
                    return setup_error("PosixShm::create", shm.error());
                }
                shm_.emplace(std::move(*shm));
                std::snprintf(g_paths[0], sizeof g_paths[0], "/dev/shm/%s", names_.prefix.c_str());
                auto region = shm_->map();
                if (!region) {
                    return setup_error("map", region.error());
                }
                region_.emplace(std::move(*region));
                auto m = ipckit::RobustMutex::init(
                    std::as_writable_bytes(std::span(pair()->mutex, ipckit::RobustMutex::kSize)));
                if (!m) {
                    return setup_error("RobustMutex::init", m.error());
                }
                break;
            }
            case Facility::SemUndo: {
                const unsigned short one[] = {1};
                auto set = ipckit::SysvSemaphoreSet::create(ipckit::SysvKey::private_key(), one);
                if (!set) {
                    return setup_error("SysvSemaphoreSet::create", set.error());
                }
                sem_.emplace(*set);
                names_.sysv_id = g_sem_id = set->id();
                break;
            }
        }
        return true;
    }

    LockedPair* pair() { return reinterpret_cast<LockedPair*>(region_->data()); }

    /// After every peer is gone: the objects must be drained, unowned, and removable.
    void check_objects() {
        switch (f_) {
            case Facility::ChanBlock:
            case Facility::ChanOverwrite:
                check_channel();
                break;
            case Facility::Group:
            case Facility::GroupAmo:
                check_channel();
                check_group();
                break;
            case Facility::PosixMq:
                if (auto a = mq_->attributes(); !a) {
                    fig_.violation("mq_getattr: " + a.error().message());
                } else if (a->current_messages != 0) {
                    fig_.violation(std::to_string(a->current_messages) +
                                   " messages left in the queue after the drain");
                }
                break;
            case Facility::SysvMq:
                if (auto s = sysv_mq_->stat(); !s) {
                    fig_.violation("msgctl IPC_STAT: " + s.error().message());
                } else if (s->messages != 0) {
                    fig_.violation(std::to_string(s->messages) +
                                   " messages left in the queue after the drain");
                }
                break;
            case Facility::RobustMutex:
                final_mutex();
                break;
            case Facility::SemUndo:
                final_semaphore();
                break;
            default:
                break;
        }
    }

    void check_channel() {
        auto info = ipckit::Channel::inspect(names_.channel);
        if (!info) {
            fig_.violation("Channel::inspect: " + info.error().message());
            return;
        }
        for (const auto* list : {&info->publishers, &info->subscribers}) {
            for (const auto& p : *list) {
                if (p.alive) {
                    fig_.violation("channel participant pid " + std::to_string(p.pid) +
                                   " still alive after every peer exited");
                }
            }
        }
        if (auto c = ipckit::Channel::cleanup_dead(names_.channel); !c) {
            fig_.violation("Channel::cleanup_dead: " + c.error().message());
        }
        auto after = ipckit::Channel::inspect(names_.channel);
        if (after && (!after->publishers.empty() || !after->subscribers.empty())) {
            fig_.violation(std::to_string(after->publishers.size() + after->subscribers.size()) +
                           " participant records still in use after cleanup_dead");
        }
    }

    /// At-least-once with a live consumer throughout: nothing the group counts as lost, nothing
    /// left in flight once every consumer exited after the drain.
    void check_group() {
        auto info = ipckit::Channel::inspect(names_.channel);
        if (!info) {
            fig_.violation("Channel::inspect: " + info.error().message());
            return;
        }
        if (info->groups.size() != 1) {
            fig_.violation(std::to_string(info->groups.size()) + " groups on the channel, not 1");
            return;
        }
        const auto& g = info->groups.front();
        arena_->header().group_lost.store(g.lost);  // at-most-once: judged in check.cpp
        fig_.group_lost += g.lost;
        arena_->header().group_corrupt.store(g.corrupt);
        if (f_ == Facility::Group && g.lost != 0) {
            fig_.violation("group " + g.name + " counted " + std::to_string(g.lost) +
                           " lost though a consumer was alive throughout");
        }
        // Reported, not judged: nothing here forges a claim, yet an ordinary kill can leave an
        // entry the library counts corrupt (a pending entry of a lost CAS whose record was
        // reused); what matters, that no confirmed message is missing, check.cpp verifies.
        fig_.group_corrupt += g.corrupt;
    }

    void final_mutex() {
        auto m = ipckit::RobustMutex::attach(
            std::as_writable_bytes(std::span(pair()->mutex, ipckit::RobustMutex::kSize)));
        if (!m) {
            fig_.violation("RobustMutex::attach: " + m.error().message());
            return;
        }
        auto st = m->lock_for(5s);
        if (!st || !*st) {
            fig_.violation("the supervisor could not lock the mutex at the end: " +
                           (st ? std::string("timed out") : st.error().message()));
            return;
        }
        LockedPair& lp = *pair();
        run_.final_lock = true;
        run_.final_owner_died = **st == ipckit::MutexState::OwnerDied;
        run_.final_dead_owner = lp.owner.load();
        if (run_.final_owner_died || run_.final_dead_owner != 0) {
            lp.b.store(lp.a.load());
            lp.owner.store(0);
        }
        if (run_.final_owner_died) {
            (void)m->consistent();
        }
        run_.final_a = lp.a.load();
        run_.final_b = lp.b.load();
        (void)m->unlock();
        if (auto d = m->destroy(); !d) {
            fig_.violation("pthread_mutex_destroy: " + d.error().message());
        }
    }

    void final_semaphore() {
        Header& h = arena_->header();
        if (auto v = sem_->value(0); !v || *v != 1) {
            fig_.violation("semaphore value " + (v ? std::to_string(*v) : v.error().message()) +
                           " at the end: SEM_UNDO did not restore it");
        }
        auto ok = sem_->wait_until(0, ipckit::Deadline::after(1s), true);
        if (!ok || !*ok) {
            fig_.violation("the supervisor could not take the semaphore at the end");
            return;
        }
        run_.final_lock = true;
        run_.final_dead_owner = h.owner.load();
        if (run_.final_dead_owner != 0) {
            h.b.store(h.a.load());
            h.owner.store(0);
        }
        run_.final_a = h.a.load();
        run_.final_b = h.b.load();
        (void)sem_->post(0, true);
    }

    /// Removes every object and checks that none is left: a leak is a violation.
    void remove_objects() {
        if (channel_made_) {
            if (auto r = ipckit::Channel::remove(names_.channel); !r) {
                fig_.violation("Channel::remove: " + r.error().message());
            }
            channel_made_ = false;
        }
        if (mq_) {
            (void)mq_->unlink();
            mq_.reset();
            auto name = ipckit::PosixName::make(names_.mq);
            if (name && ipckit::PosixMq::open(*name)) {
                fig_.violation("POSIX queue " + names_.mq + " still exists after unlink");
            }
        }
        if (sysv_mq_) {
            if (auto r = sysv_mq_->remove(); !r) {
                fig_.violation("msgctl IPC_RMID: " + r.error().message());
            }
            if (ipckit::SysvMsgQueue::from_id(sysv_mq_->id())) {
                fig_.violation("SysV queue " + std::to_string(sysv_mq_->id()) + " still exists");
            }
            sysv_mq_.reset();
        }
        if (sem_) {
            if (auto r = sem_->remove(); !r) {
                fig_.violation("semctl IPC_RMID: " + r.error().message());
            }
            if (ipckit::SysvSemaphoreSet::from_id(sem_->id())) {
                fig_.violation("SysV semaphore set " + std::to_string(sem_->id()) +
                               " still exists");
            }
            sem_.reset();
        }
        region_.reset();
        if (shm_) {
            (void)shm_->unlink();
            shm_.reset();
        }
        if (!names_.sock_dir.empty()) {
            if (DIR* d = ::opendir(names_.sock_dir.c_str())) {
                while (dirent* e = ::readdir(d)) {
                    const std::string n = e->d_name;
                    if (n != "." && n != "..") {
                        fig_.violation("socket file " + n + " left in " + names_.sock_dir);
                        ::unlink((names_.sock_dir + "/" + n).c_str());
                    }
                }
                ::closedir(d);
            }
            ::rmdir(names_.sock_dir.c_str());
            names_.sock_dir.clear();
        }
        // Nothing of ours in /dev/shm, and no abstract socket of our prefix.
        if (DIR* d = ::opendir("/dev/shm")) {
            while (dirent* e = ::readdir(d)) {
                if (std::strncmp(e->d_name, names_.prefix.c_str(), names_.prefix.size()) == 0) {
                    fig_.violation(std::string("left in /dev/shm: ") + e->d_name);
                    ::unlink((std::string("/dev/shm/") + e->d_name).c_str());
                }
            }
            ::closedir(d);
        }
        std::ifstream unix_sockets("/proc/net/unix");
        for (std::string line; std::getline(unix_sockets, line);) {
            if (line.find("@" + names_.prefix) != std::string::npos) {
                fig_.violation("abstract socket still bound: " + line.substr(line.find('@')));
            }
        }
        g_mq[0] = '\0';
        g_paths[0][0] = '\0';
        g_msg_id = -1;
        g_sem_id = -1;
    }

    // ---- peers

    std::vector<Peer>& group(bool sender) { return sender ? senders_ : receivers_; }

    bool start(bool sender, std::uint32_t index) {
        Peer& p = group(sender)[index];
        std::uint32_t& used = sender ? run_.senders_used : run_.receivers_used;
        const std::uint32_t slot = used;
        // The chaos phase leaves room for one more incarnation of every peer at the stop.
        const std::uint32_t reserve =
            winding_ ? 0 : static_cast<std::uint32_t>(group(sender).size());
        if (slot + reserve >= (sender ? sender_cap_ : receiver_cap_)) {
            exhausted_ = true;
            return false;
        }
        ++used;
        (sender ? run_.senders : run_.receivers).emplace_back();
        if (sender) {
            SenderSlot& s = arena_->sender(slot);
            s.peer = index;
            s.fault = p.next_fault;
            s.fault_after.store(rng_() % 2000);
            s.lane.store(kNone);
            s.state.store(kStarting);
        } else {
            ReceiverSlot& r = arena_->receiver(slot);
            r.peer = index;
            r.fault = p.next_fault;
            r.state.store(kStarting);
        }
        p.next_fault = 0;
        std::fflush(nullptr);
        const pid_t pid = ::fork();
        if (pid < 0) {
            fig_.violation(std::string("fork: ") + std::strerror(errno));
            return false;
        }
        if (pid == 0) {
            child(sender, index, slot);
        }
        p.pid = pid;
        p.slot = slot;
        p.kill_sent = false;
        p.stopped = false;
        p.restart_at = 0;
        (sender ? run_.senders : run_.receivers)[slot].pid = pid;
        g_pids[(sender ? 0 : kMaxPeers) + index] = pid;
        ++fig_.runs;
        return true;
    }

    [[noreturn]] void child(bool sender, std::uint32_t index, std::uint32_t slot) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != g_supervisor) {
            ::_exit(9);
        }
        ::alarm(0);
        ::signal(SIGALRM, SIG_DFL);
        PeerContext ctx{f_,
                        &o_,
                        &names_,
                        arena_.get(),
                        slot,
                        index,
                        std::mt19937_64(rng_() ^ (std::uint64_t{slot} << 1) ^ (sender ? 0 : 1))};
        int rc = kPeerError;
        try {
            rc = sender ? run_sender(ctx) : run_receiver(ctx);
        } catch (const std::exception& e) {
            rc = sender ? fail(arena_->sender(slot), e.what())
                        : fail(arena_->receiver(slot), e.what());
        }
        ::_exit(rc);
    }

    [[nodiscard]] bool critical(bool sender, const Peer& p) {
        if (!sender) {
            return arena_->receiver(p.slot).critical.load() != 0;
        }
        SenderSlot& s = arena_->sender(p.slot);
        return is_lock(f_) ? s.critical.load() != 0 : (s.progress.load() & 1) != 0;
    }

    void reap() {
        for (;;) {
            int st = 0;
            const pid_t pid = ::waitpid(-1, &st, WNOHANG | WUNTRACED);
            if (pid <= 0) {
                return;
            }
            for (bool sender : {true, false}) {
                for (std::uint32_t i = 0; i < group(sender).size(); ++i) {
                    Peer& p = group(sender)[i];
                    if (p.pid != pid) {
                        continue;
                    }
                    if (WIFSTOPPED(st)) {
                        if (!p.stopped && !p.kill_sent) {
                            // Stopped itself at its armed fault point: kill it right there.
                            ::kill(pid, SIGKILL);
                            p.kill_sent = true;
                            ++fig_.kills;
                            ++fig_.fault_kills;
                        }
                    } else {
                        finished(sender, i, st);
                    }
                }
            }
        }
    }

    void finished(bool sender, std::uint32_t index, int status) {
        Peer& p = group(sender)[index];
        Incarnation& inc = (sender ? run_.senders : run_.receivers)[p.slot];
        std::atomic<std::uint32_t>& state =
            sender ? arena_->sender(p.slot).state : arena_->receiver(p.slot).state;
        const char* error = sender ? arena_->sender(p.slot).error : arena_->receiver(p.slot).error;
        const std::uint32_t said = state.load();
        if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL && p.kill_sent) {
            inc.killed = true;
            inc.critical_at_death = critical(sender, p);
            fig_.critical_kills += inc.critical_at_death ? 1 : 0;
            state.store(kKilled);
        } else if (WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
                   (said == kRetired || (said == kClean && stopping_))) {
            fig_.retired += said == kRetired ? 1 : 0;
        } else {
            state.store(kFailed);
            std::string how = WIFEXITED(status)
                                  ? "exited " + std::to_string(WEXITSTATUS(status))
                                  : "died of signal " + std::to_string(WTERMSIG(status));
            fig_.violation(std::string(sender ? "sender " : "receiver ") + std::to_string(index) +
                           " (slot " + std::to_string(p.slot) + ", pid " + std::to_string(p.pid) +
                           ") " + how + (error[0] != '\0' ? ": " + std::string(error) : ""));
        }
        g_pids[(sender ? 0 : kMaxPeers) + index] = 0;
        p.pid = 0;
        p.stopped = false;
        if (!stopping_) {
            p.restart_at = now_ns() + ms(rng_() % 30) + 1;
        }
    }

    /// Due SIGCONTs and restarts.
    void service() {
        const std::uint64_t now = now_ns();
        for (bool sender : {true, false}) {
            for (std::uint32_t i = 0; i < group(sender).size(); ++i) {
                Peer& p = group(sender)[i];
                if (p.stopped && p.pid > 0 && now >= p.cont_at) {
                    ::kill(p.pid, SIGCONT);
                    p.stopped = false;
                }
                if (p.pid == 0 && p.restart_at != 0 && now >= p.restart_at && !stopping_) {
                    if (start(sender, i)) {
                        ++fig_.restarts;
                    }
                }
            }
        }
    }

    void kill_peer(Peer& p) {
        ::kill(p.pid, SIGKILL);
        p.kill_sent = true;
        p.stopped = false;
        ++fig_.kills;
    }

    void act() {
        std::vector<std::pair<bool, std::uint32_t>> live;
        for (bool sender : {true, false}) {
            for (std::uint32_t i = 0; i < group(sender).size(); ++i) {
                const Peer& p = group(sender)[i];
                if (p.pid > 0 && !p.kill_sent && !p.stopped) {
                    live.emplace_back(sender, i);
                }
            }
        }
        if (live.empty()) {
            return;
        }
        const auto [sender, index] = live[rng_() % live.size()];
        Peer& p = group(sender)[index];
        if (is_group(f_) && !sender && !another_consumer_ready(index)) {
            // At-least-once holds while the group has a live consumer (a group with none
            // restarts at the tails): never take the last one away.
            return;
        }
        // --inject-loss: no kills at all, so that nothing can excuse the injected loss.
        const std::uint64_t roll = o_.inject_loss ? 80 : rng_() % 100;
        if (roll < 55) {
            kill_peer(p);
        } else if (roll < 75) {
            // Aimed: wait (briefly) until the peer is inside its critical window.
            // Busy-polls: the windows (a lock held, a send under way) can be microseconds long.
            const std::uint64_t until = now_ns() + ms(20);
            bool hit = false;
            while (!(hit = critical(sender, p)) && now_ns() < until) {
                cpu_relax();
            }
            fig_.aimed += hit ? 1 : 0;
            kill_peer(p);
        } else if (roll < 90) {
            ::kill(p.pid, SIGSTOP);
            p.stopped = true;
            p.cont_at = now_ns() + ms(5 + rng_() % 146);
            ++fig_.stops;
        } else {
            if (is_channel(f_)) {
                // The next incarnation stops itself at a fault point inside a publish (or inside
                // the subscriber's join), where the reaper kills it.
                p.next_fault = sender ? 1 + static_cast<std::uint32_t>(rng_() % 3) : 4;
            }
            kill_peer(p);
        }
    }

    /// True if a receiver other than `index` is alive, joined (ready) and not being killed.
    [[nodiscard]] bool another_consumer_ready(std::uint32_t index) {
        for (std::uint32_t i = 0; i < receivers_.size(); ++i) {
            const Peer& q = receivers_[i];
            if (i != index && q.pid > 0 && !q.kill_sent &&
                arena_->receiver(q.slot).state.load() == kReady) {
                return true;
            }
        }
        return false;
    }

    void chaos_loop(std::uint64_t end) {
        std::uint64_t next = now_ns() + ms(20 + rng_() % 181);
        while (now_ns() < end && !exhausted_) {
            reap();
            service();
            if (now_ns() >= next) {
                act();
                next = now_ns() + ms(20 + rng_() % 181);
            }
            std::this_thread::sleep_for(500us);
        }
        if (exhausted_) {
            std::printf("chaos: %s: the incarnation table is full; chaos ended early\n",
                        std::string(facility_name(f_)).c_str());
        }
    }

    [[nodiscard]] bool all_ready() {
        for (bool sender : {true, false}) {
            for (const Peer& p : group(sender)) {
                // A peer sent SIGKILL and not yet reaped is not ready, however its slot reads:
                // the reap must see it first, so that it is restarted before the stop.
                if (p.pid == 0 || p.kill_sent) {
                    return false;
                }
                const std::uint32_t st = sender ? arena_->sender(p.slot).state.load()
                                                : arena_->receiver(p.slot).state.load();
                if (st != kReady) {
                    return false;
                }
            }
        }
        return true;
    }

    bool wait_ready(std::uint64_t until) {
        while (!all_ready()) {
            if (now_ns() >= until || exhausted_) {
                return false;
            }
            reap();
            service();
            std::this_thread::sleep_for(500us);
        }
        return true;
    }

    /// Waits for one group to exit; a peer still there at `until` has hung.
    void wait_exit(bool sender, std::uint64_t until) {
        for (;;) {
            reap();
            bool any = false;
            for (const Peer& p : group(sender)) {
                any = any || p.pid > 0;
            }
            if (!any) {
                return;
            }
            if (now_ns() >= until) {
                break;
            }
            std::this_thread::sleep_for(500us);
        }
        for (std::uint32_t i = 0; i < group(sender).size(); ++i) {
            Peer& p = group(sender)[i];
            if (p.pid > 0) {
                fig_.violation(std::string("hang: ") + (sender ? "sender " : "receiver ") +
                               std::to_string(i) + " (pid " + std::to_string(p.pid) +
                               ") did not exit within 15 s of the stop request");
                ::kill(p.pid, SIGKILL);
                int st = 0;
                ::waitpid(p.pid, &st, 0);
                p.pid = 0;
            }
        }
    }

    void wind_down() {
        // Everyone running and ready, unstopped, then: senders stop, receivers drain.
        for (bool sender : {true, false}) {
            for (Peer& p : group(sender)) {
                if (p.stopped && p.pid > 0) {
                    ::kill(p.pid, SIGCONT);
                    p.stopped = false;
                }
                if (p.pid == 0) {
                    p.restart_at = 1;
                    p.next_fault = 0;
                }
            }
        }
        exhausted_ = false;
        winding_ = true;
        if (!wait_ready(now_ns() + ms(10'000))) {
            fig_.violation("peers did not all become ready again before the stop");
        }
        for (bool sender : {true, false}) {
            for (const Peer& p : group(sender)) {
                if (p.pid > 0) {
                    (sender ? run_.senders : run_.receivers)[p.slot].final = true;
                }
            }
        }
        stopping_ = true;
        Header& h = arena_->header();
        h.stop_senders.store(1, std::memory_order_release);
        wait_exit(true, now_ns() + ms(15'000));
        h.drain.store(1, std::memory_order_release);
        wait_exit(false, now_ns() + ms(15'000));
        int st = 0;
        if (::waitpid(-1, &st, WNOHANG) != -1 || errno != ECHILD) {
            fig_.violation("a child process is left after the run");
        }
    }

    Facility f_;
    const Options& o_;
    std::mt19937_64 rng_;
    Names names_;
    std::unique_ptr<Arena> arena_;
    RunRecord run_;
    Figures fig_;
    std::vector<Peer> senders_;
    std::vector<Peer> receivers_;
    std::uint32_t sender_cap_ = 0;
    std::uint32_t receiver_cap_ = 0;
    bool stopping_ = false;
    bool exhausted_ = false;
    bool winding_ = false;
    double seconds_ = 0;
    bool channel_made_ = false;
    std::optional<ipckit::PosixMq> mq_;
    std::optional<ipckit::SysvMsgQueue> sysv_mq_;
    std::optional<ipckit::SysvSemaphoreSet> sem_;
    std::optional<ipckit::PosixShm> shm_;
    std::optional<ipckit::Region> region_;
};

void print(Facility f, const Figures& g, double seconds, bool verbose) {
    using U = unsigned long long;
    const bool pass = g.violations.empty();
    std::printf(
        "chaos: %-14s %s %.1fs runs=%llu kills=%llu (aimed %llu, fault-point %llu, "
        "in-critical %llu) stops=%llu restarts=%llu retired=%llu",
        std::string(facility_name(f)).c_str(),
        pass ? "PASS" : "FAIL",
        seconds,
        U(g.runs),
        U(g.kills),
        U(g.aimed),
        U(g.fault_kills),
        U(g.critical_kills),
        U(g.stops),
        U(g.restarts),
        U(g.retired));
    if (is_lock(f)) {
        std::printf(" updates=%llu %s=%llu repaired=%llu\n",
                    U(g.confirmed),
                    f == Facility::RobustMutex ? "owner_died" : "dead_owner_found",
                    U(g.owner_died),
                    U(g.repaired));
    } else {
        std::printf(
            " sent=%llu confirmed=%llu checked=%llu lost_counted=%llu lost_uncounted=%llu "
            "dup=%llu reorder=%llu bad=%llu",
            U(g.sent),
            U(g.confirmed),
            U(g.checked),
            U(g.lost_counted),
            U(g.lost_uncounted),
            U(g.dup),
            U(g.reorder),
            U(g.bad));
        if (f == Facility::Stream) {
            std::printf(" truncated=%llu", U(g.truncated));
        }
        if (f == Facility::ChanOverwrite) {
            std::printf(" torn=%llu", U(g.torn));
        }
        if (is_group(f)) {
            std::printf(
                " redelivered=%llu killed_holding=%llu (redelivered %llu) group_lost=%llu "
                "group_corrupt=%llu",
                U(g.redelivered),
                U(g.held_killed),
                U(g.held_redelivered),
                U(g.group_lost),
                U(g.group_corrupt));
        }
        std::printf(" exact=%llu bracketed=%llu\n", U(g.exact), U(g.bracketed));
    }
    const std::size_t shown =
        verbose ? g.violations.size() : std::min<std::size_t>(g.violations.size(), 12);
    for (std::size_t i = 0; i < shown; ++i) {
        std::printf("chaos:   violation: %s\n", g.violations[i].c_str());
    }
    if (shown < g.violations.size()) {
        std::printf("chaos:   ... and %zu more violations (--verbose lists them)\n",
                    g.violations.size() - shown);
    }
    std::fflush(stdout);
}

int usage(const char* why) {
    if (why != nullptr) {
        std::fprintf(stderr, "ipckit_chaos: %s\n", why);
    }
    std::fprintf(stderr,
                 "usage: ipckit_chaos [--facility NAME|all]... [--duration SECONDS] [--senders N]\n"
                 "                    [--receivers M] [--seed S] [--verbose]\n"
                 "facilities: chan-block chan-overwrite posix-mq sysv-mq unix-dgram stream "
                 "robust-mutex sem-undo\n");
    return kExitUsage;
}

}  // namespace
}  // namespace chaos

int main(int argc, char** argv) {
    using namespace chaos;
    Options o;
    bool seeded = false;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
        if (a == "--facility") {
            const char* v = value();
            if (v == nullptr) {
                return usage("--facility needs a name");
            }
            if (std::string(v) == "all") {
                o.facilities.assign(std::begin(kAllFacilities), std::end(kAllFacilities));
                continue;
            }
            bool found = false;
            for (Facility f : kAllFacilities) {
                if (facility_name(f) == v) {
                    o.facilities.push_back(f);
                    found = true;
                }
            }
            if (!found) {
                return usage(("unknown facility " + std::string(v)).c_str());
            }
        } else if (a == "--duration") {
            const char* v = value();
            o.duration = v != nullptr ? std::atof(v) : -1;
            if (!(o.duration > 0 && o.duration < 86400)) {
                return usage("--duration needs seconds > 0");
            }
        } else if (a == "--senders" || a == "--receivers") {
            const char* v = value();
            const long n = v != nullptr ? std::atol(v) : 0;
            if (n < 1 || n > static_cast<long>(kMaxPeers) - 2) {
                return usage("--senders/--receivers need 1..14");
            }
            (a == "--senders" ? o.senders : o.receivers) = static_cast<std::uint32_t>(n);
        } else if (a == "--seed") {
            const char* v = value();
            if (v == nullptr) {
                return usage("--seed needs a number");
            }
            o.seed = std::strtoull(v, nullptr, 0);
            seeded = true;
        } else if (a == "--inject-loss") {
            o.inject_loss = true;  // test only: the self-check proves the checker can fail
        } else if (a == "--verbose") {
            o.verbose = true;
        } else if (a == "--help" || a == "-h") {
            usage(nullptr);
            return 0;
        } else {
            return usage(("unknown option " + a).c_str());
        }
    }
    if (o.facilities.empty()) {
        o.facilities.assign(std::begin(kAllFacilities), std::end(kAllFacilities));
    }
    if (!seeded) {
        o.seed = static_cast<std::uint64_t>(::getpid()) ^ now_ns();
    }
    g_supervisor = ::getpid();
    struct sigaction sa {};
    sa.sa_handler = on_watchdog;
    ::sigaction(SIGALRM, &sa, nullptr);
    std::printf("chaos: seed %llu, %.1f s per facility, %u senders, %u receivers%s\n",
                static_cast<unsigned long long>(o.seed),
                o.duration,
                o.senders,
                o.receivers,
                o.inject_loss ? ", --inject-loss (no kills)" : "");
    int rc = 0;
    Figures total;
    for (Facility f : o.facilities) {
        if (o.inject_loss) {
            std::fflush(stdout);
        }
        bool setup_failed = false;
        Supervisor s(f, o);
        Figures g = s.go(setup_failed);
        print(f, g, s.seconds(), o.verbose);
        if (setup_failed) {
            rc = rc == 0 ? kExitSetup : rc;
        } else if (!g.violations.empty()) {
            rc = kExitViolation;
        }
        total.runs += g.runs;
        total.kills += g.kills;
        total.checked += g.checked;
        total.lost_counted += g.lost_counted;
        total.lost_uncounted += g.lost_uncounted;
    }
    std::printf(
        "chaos: %s: runs=%llu kills=%llu checked=%llu lost_counted=%llu "
        "lost_uncounted=%llu (seed %llu)\n",
        rc == 0 ? "PASS" : "FAIL",
        static_cast<unsigned long long>(total.runs),
        static_cast<unsigned long long>(total.kills),
        static_cast<unsigned long long>(total.checked),
        static_cast<unsigned long long>(total.lost_counted),
        static_cast<unsigned long long>(total.lost_uncounted),
        static_cast<unsigned long long>(o.seed));
    return rc;
}
