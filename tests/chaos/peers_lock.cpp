// SPDX-License-Identifier: MIT
// ipckit_chaos: workers that update a protected pair under a robust mutex or a SEM_UNDO
// semaphore while the chaos loop kills them, holders included.
#include "chaos.hpp"
#include "ipckit/core/posix_name.hpp"
#include "ipckit/shm/posix_shm.hpp"
#include "ipckit/sync/robust_mutex.hpp"
#include "ipckit/sync/sysv_semaphore_set.hpp"

#include <unistd.h>

#include <optional>
#include <sched.h>

namespace chaos {

using namespace std::chrono_literals;

namespace {

/// The pair {a, b} (a == b outside the critical section) and its owner's pid.
struct Pair {
    std::atomic<std::uint64_t>* a;
    std::atomic<std::uint64_t>* b;
    std::atomic<std::int32_t>* owner;
};

void note_dead_owner(SenderSlot& s, std::int32_t pid) {
    s.dead_owner.fetch_add(1);
    const std::uint32_t i = s.n_dead_pids.load();
    if (i < std::size(s.dead_pids)) {
        s.dead_pids[i].store(pid);
        s.n_dead_pids.store(i + 1);
    }
}

/// The critical section, entered holding the lock; `owner_died` from the robust mutex.
void critical_section(
    PeerContext& ctx, SenderSlot& s, const Pair& p, bool owner_died, std::uint64_t updates) {
    const std::int32_t owner = p.owner->load();
    const std::uint64_t a = p.a->load();
    const std::uint64_t b = p.b->load();
    if (owner != 0) {
        // Set before `a` moves and cleared after `b` does: only a holder that died leaves it.
        note_dead_owner(s, owner);
    }
    if (owner_died || owner != 0) {
        if (a != b) {
            p.b->store(a);  // roll the dead holder's update forward
            s.repaired.fetch_add(1);
        }
        if (owner == 0 && a != b) {
            s.broken.fetch_add(1);
        }
    } else if (a != b) {
        s.broken.fetch_add(1);  // torn without anyone dying: mutual exclusion failed
        p.b->store(a);
    }
    const auto me = static_cast<std::int32_t>(::getpid());
    p.owner->store(me);
    p.a->fetch_add(1);
    // A pause inside, so that kills land between the two halves.
    for (std::uint64_t i = ctx.rng() % 2000; i > 0; --i) {
        cpu_relax();
    }
    if (ctx.options->inject_loss && updates > 20 && take_injection(ctx.arena->header())) {
        s.injected.store(1);  // half an update, then a normal unlock: the next holder must see it
    } else {
        p.b->fetch_add(1);
    }
    if (p.owner->load() != me) {
        s.intruded.fetch_add(1);
    }
    p.owner->store(0);
}

}  // namespace

int run_lock_worker(PeerContext& ctx) {
    SenderSlot& s = ctx.arena->sender(ctx.slot);
    Header& h = ctx.arena->header();
    const bool robust = ctx.facility == Facility::RobustMutex;
    std::optional<ipckit::PosixShm> shm;
    std::optional<ipckit::Region> region;
    std::optional<ipckit::RobustMutex> mutex;
    std::optional<ipckit::SysvSemaphoreSet> sem;
    Pair pair{&h.a, &h.b, &h.owner};
    if (robust) {
        auto name = ipckit::PosixName::make(ctx.names->shm);
        if (!name) {
            return fail(s, name.error().message());
        }
        auto o = ipckit::PosixShm::open(*name);
        if (!o) {
            return fail(s, "PosixShm::open: " + o.error().message());
        }
        shm.emplace(std::move(*o));
        auto m = shm->map();
        if (!m || m->size() < sizeof(LockedPair)) {
            return fail(s, "map: " + (m ? std::string("too small") : m.error().message()));
        }
        region.emplace(std::move(*m));
        auto* lp = reinterpret_cast<LockedPair*>(region->data());
        auto rm = ipckit::RobustMutex::attach(
            std::as_writable_bytes(std::span(lp->mutex, ipckit::RobustMutex::kSize)));
        if (!rm) {
            return fail(s, "RobustMutex::attach: " + rm.error().message());
        }
        mutex.emplace(*rm);
        pair = Pair{&lp->a, &lp->b, &lp->owner};
    } else {
        auto set = ipckit::SysvSemaphoreSet::from_id(ctx.names->sysv_id);
        if (!set) {
            return fail(s, "SysvSemaphoreSet::from_id: " + set.error().message());
        }
        sem.emplace(*set);
    }
    s.state.store(kReady, std::memory_order_release);
    for (std::uint64_t updates = 0;;) {
        if (h.stop_senders.load(std::memory_order_acquire) != 0) {
            break;
        }
        bool owner_died = false;
        if (robust) {
            auto st = mutex->lock_for(5s);
            if (!st) {
                return fail(s, "lock: " + st.error().message());
            }
            if (!*st) {
                return fail(s, "hang: robust mutex not acquired in 5 s");
            }
            owner_died = **st == ipckit::MutexState::OwnerDied;
        } else {
            auto ok = sem->wait_until(0, ipckit::Deadline::after(5s), /*undo=*/true);
            if (!ok) {
                return fail(s, "semop: " + ok.error().message());
            }
            if (!*ok) {
                return fail(s, "hang: SEM_UNDO semaphore not acquired in 5 s (stuck at 0?)");
            }
        }
        s.critical.store(1, std::memory_order_release);
        if (owner_died) {
            s.owner_died.fetch_add(1);
        }
        critical_section(ctx, s, pair, owner_died, updates);
        if (owner_died) {
            auto c = mutex->consistent();
            if (!c) {
                return fail(s, "consistent: " + c.error().message());
            }
        }
        s.critical.store(0, std::memory_order_release);
        if (robust) {
            auto u = mutex->unlock();
            if (!u) {
                return fail(s, "unlock: " + u.error().message());
            }
        } else {
            auto u = sem->post(0, /*undo=*/true);
            if (!u) {
                return fail(s, "semop post: " + u.error().message());
            }
        }
        ++updates;
        s.progress.store(2 * updates, std::memory_order_release);
        if (ctx.rng() % 4 == 0) {
            ::sched_yield();
        }
    }
    s.state.store(kClean, std::memory_order_release);
    return 0;
}

}  // namespace chaos
