// SPDX-License-Identifier: MIT
// System V semaphore sets across processes: the creation/initialisation race, atomic multi-op
// waits, SEM_UNDO with SIGKILL (B07), EIDRM under a waiter, counters, signals.
#include "eventually.hpp"
#include "forked_child.hpp"
#include "ipc_registry.hpp"
#include "ipckit/core/mapping.hpp"
#include "ipckit/sync/sysv_semaphore_set.hpp"
#include "sync/sysv_semaphore_set_fault.hpp"
#include "sync_test_helpers.hpp"

#include <signal.h>
#include <unistd.h>

#include <array>
#include <vector>

#include <gtest/gtest.h>

namespace ipckit {
namespace {

using namespace std::chrono_literals;

SysvSemaphoreSet make_private(std::span<const unsigned short> initial) {
    auto set = SysvSemaphoreSet::create(SysvKey::private_key(), initial).value();
    test::track_sysv_id(test::IpcKind::SysvSem, set.id());
    return set;
}

struct Shared {
    std::atomic<int> go{0};
    std::atomic<int> inside{0};
    std::atomic<int> overlaps{0};
    std::atomic<int> flag{0};
};

Mapping shared_block() {
    return Mapping::map_anonymous(4096).value();
}

// Seed 003's race: many processes call open_or_create on one key at once. Exactly the values the
// creator asked for must be seen by everyone: sem 1 starts at kProcs and each process takes one
// with IPC_NOWAIT, so an opener that used the set before initialisation (value 0) fails, and a
// late SETALL after some process took one leaves the final value above 0. The fault point
// stalls the creator for 20 ms between semget and initialisation (in fault-point builds), so
// openers really do find the set uninitialised and must wait.
TEST(SysvSemaphoreSetMp, RacingOpenOrCreateSeesAnInitialisedSet) {
    constexpr int kProcs = 8;
    constexpr int kRounds = 10;
    for (int round = 0; round < kRounds; ++round) {
        const auto key =
            SysvKey::from_number(test::unique_sysv_key(test::IpcKind::SysvSem)).value();
        auto shm = shared_block();
        auto* s = new (shm.data()) Shared{};
        std::vector<test::ForkedChild> children;
        for (int i = 0; i < kProcs; ++i) {
            children.push_back(test::ForkedChild::spawn([&] {
                detail::sysv_sem_after_create_hook = [] { ::usleep(20'000); };
                while (s->go.load() == 0) {
                }
                const std::array<unsigned short, 2> init{1, kProcs};
                auto set = SysvSemaphoreSet::open_or_create(key, init);
                CHILD_CHECK(set);
                auto took = set->try_wait(1);
                CHILD_CHECK(took && *took);
                // And the set works as a mutex straight away.
                CHILD_CHECK(set->wait(0, true));
                if (s->inside.fetch_add(1) != 0) {
                    s->overlaps.fetch_add(1);
                }
                s->inside.fetch_sub(1);
                CHILD_CHECK(set->post(0, true));
                return 0;
            }));
        }
        s->go.store(1);
        for (auto& c : children) {
            EXPECT_CHILD_OK(c.wait_for(10s));
        }
        auto set = SysvSemaphoreSet::open(key).value();
        EXPECT_EQ(set.values().value(), (std::vector<unsigned short>{1, 0})) << "round " << round;
        EXPECT_EQ(s->overlaps.load(), 0);
        ASSERT_TRUE(set.remove());
    }
}

TEST(SysvSemaphoreSetMp, MultiOpWaitIsAppliedAtomicallyAcrossProcesses) {
    const std::array<unsigned short, 2> init{0, 0};
    auto set = make_private(init);
    auto child = test::ForkedChild::spawn([&] {
        const SemOp both[] = {{0, -1, false}, {1, -1, false}};
        CHILD_CHECK(set.apply(both));
        return 0;
    });
    ASSERT_TRUE(test::eventually(10s, "1 process waiting to take semaphore 0 (semncnt)", [&] {
        return set.waiting_to_take(0).value() == 1;
    }));
    ASSERT_TRUE(set.post(0));
    // sem 0 is available but sem 1 is not: nothing may be taken yet.
    EXPECT_EQ(set.value(0).value(), 1);
    ASSERT_TRUE(test::eventually(10s, "1 process waiting to take semaphore 1 (semncnt)", [&] {
        return set.waiting_to_take(1).value() == 1;
    }));
    ASSERT_TRUE(set.post(1));
    EXPECT_CHILD_OK(child.wait_for(10s));
    EXPECT_EQ(set.values().value(), (std::vector<unsigned short>{0, 0}));
    EXPECT_EQ(set.last_pid(0).value(), child.pid());
}

TEST(SysvSemaphoreSetMp, WaitForZeroAndZcnt) {
    const std::array<unsigned short, 1> init{1};
    auto set = make_private(init);
    auto child = test::ForkedChild::spawn([&] {
        auto r = set.wait_zero_until(0, Deadline::after(10s));
        CHILD_CHECK(r && *r);
        return 0;
    });
    ASSERT_TRUE(test::eventually(10s,
                                 "one process waiting for semaphore 0 to be zero (semzcnt)",
                                 [&] { return set.waiting_for_zero(0).value() == 1; }));
    EXPECT_EQ(set.waiting_to_take(0).value(), 0);
    ASSERT_TRUE(set.wait(0));
    EXPECT_CHILD_OK(child.wait_for(10s));
    EXPECT_EQ(set.waiting_for_zero(0).value(), 0);
}

TEST(SysvSemaphoreSetMp, TimedWaitIsWokenByAPostFromAnotherProcess) {
    const std::array<unsigned short, 1> init{0};
    auto set = make_private(init);
    auto child = test::ForkedChild::spawn([&] {
        auto r = set.wait_until(0, Deadline::after(10s));
        CHILD_CHECK(r && *r);
        return 0;
    });
    ASSERT_TRUE(test::eventually(10s, "1 process waiting to take semaphore 0 (semncnt)", [&] {
        return set.waiting_to_take(0).value() == 1;
    }));
    ASSERT_TRUE(set.post(0));
    EXPECT_CHILD_OK(child.wait_for(10s));
}

// B07.1: a process killed while holding a SEM_UNDO decrement gives it back.
TEST(SysvSemaphoreSetMp, SemUndoRestoresTheValueWhenTheHolderIsKilled) {
    const std::array<unsigned short, 1> init{1};
    auto set = make_private(init);
    auto holder = test::ForkedChild::spawn([&] {
        CHILD_CHECK(set.wait(0, /*undo=*/true));
        ::pause();
        return 0;
    });
    ASSERT_TRUE(
        test::eventually(10s, "semaphore 0 at value 0", [&] { return set.value(0).value() == 0; }));
    holder.kill(SIGKILL);
    EXPECT_EQ(holder.wait_for(10s).signal, SIGKILL);
    EXPECT_EQ(set.value(0).value(), 1);
}

// B07.2: SETVAL while the holder lives clears its undo entry: nothing is added back.
TEST(SysvSemaphoreSetMp, SetValClearsTheUndoOfAHolder) {
    const std::array<unsigned short, 1> init{1};
    auto set = make_private(init);
    auto holder = test::ForkedChild::spawn([&] {
        CHILD_CHECK(set.wait(0, true));
        ::pause();
        return 0;
    });
    ASSERT_TRUE(
        test::eventually(10s, "semaphore 0 at value 0", [&] { return set.value(0).value() == 0; }));
    ASSERT_TRUE(set.set_value(0, 1));
    holder.kill(SIGKILL);
    EXPECT_EQ(holder.wait_for(10s).signal, SIGKILL);
    EXPECT_EQ(set.value(0).value(), 1) << "not 2: SETVAL cleared the adjustment";
}

// B07.3: an undo that would go below zero is clamped at 0 (semop(2) BUGS).
TEST(SysvSemaphoreSetMp, UndoBelowZeroIsClamped) {
    const std::array<unsigned short, 1> init{0};
    auto set = make_private(init);
    auto poster = test::ForkedChild::spawn([&] {
        CHILD_CHECK(set.post(0, true));  // +1 now, -1 on exit
        ::pause();
        return 0;
    });
    ASSERT_TRUE(
        test::eventually(10s, "semaphore 0 at value 1", [&] { return set.value(0).value() == 1; }));
    ASSERT_TRUE(set.wait(0));  // 1 -> 0 without undo
    poster.kill(SIGKILL);
    EXPECT_EQ(poster.wait_for(10s).signal, SIGKILL);
    EXPECT_EQ(set.value(0).value(), 0);
}

TEST(SysvSemaphoreSetMp, RemovingTheSetUnderAWaiterReportsIdentifierRemoved) {
    const std::array<unsigned short, 1> init{0};
    auto set = SysvSemaphoreSet::create(SysvKey::private_key(), init).value();
    test::track_sysv_id(test::IpcKind::SysvSem, set.id());
    auto child = test::ForkedChild::spawn([&] {
        auto r = set.wait(0);
        CHILD_CHECK(!r);
        CHILD_CHECK(r.error().code() == std::errc::identifier_removed);
        CHILD_CHECK(r.error().message().find("removed") != std::string::npos);
        return 0;
    });
    ASSERT_TRUE(test::eventually(10s, "1 process waiting to take semaphore 0 (semncnt)", [&] {
        return set.waiting_to_take(0).value() == 1;
    }));
    ASSERT_TRUE(set.remove());
    EXPECT_CHILD_OK(child.wait_for(10s));
}

// semop is never restarted after a handler (F9); ipckit retries, so the wait goes on.
TEST(SysvSemaphoreSetMp, AWaitInterruptedByASignalKeepsWaiting) {
    const std::array<unsigned short, 1> init{0};
    auto set = make_private(init);
    auto shm = shared_block();
    auto* handled = new (shm.data()) std::atomic<int>(0);
    auto child = test::ForkedChild::spawn([&] {
        test_sync::install_counting_handler(handled);
        auto r = set.wait_until(0, Deadline::after(10s));
        CHILD_CHECK(r && *r);
        CHILD_CHECK(handled->load() == 1);
        return 0;
    });
    ASSERT_TRUE(test::eventually(10s, "1 process waiting to take semaphore 0 (semncnt)", [&] {
        return set.waiting_to_take(0).value() == 1;
    }));
    child.kill(SIGUSR1);
    ASSERT_TRUE(test::eventually(
        10s, "the child's SIGUSR1 handler to run", [&] { return handled->load() == 1; }));
    ASSERT_TRUE(test::eventually(10s, "1 process waiting to take semaphore 0 (semncnt)", [&] {
        return set.waiting_to_take(0).value() == 1;
    })) << "waiting again";
    ASSERT_TRUE(set.post(0));
    EXPECT_CHILD_OK(child.wait_for(10s));
}

// F9: on Linux a SIGSTOP/SIGCONT alone makes semop fail with EINTR, with no handler installed.
TEST(SysvSemaphoreSetMp, StopAndContinueDoNotEndAWait) {
    const std::array<unsigned short, 1> init{0};
    auto set = make_private(init);
    auto child = test::ForkedChild::spawn([&] {
        CHILD_CHECK(set.wait(0));
        return 0;
    });
    ASSERT_TRUE(test::eventually(10s, "1 process waiting to take semaphore 0 (semncnt)", [&] {
        return set.waiting_to_take(0).value() == 1;
    }));
    child.kill(SIGSTOP);
    ASSERT_TRUE(test::eventually(10s, "no process waiting to take semaphore 0 (semncnt)", [&] {
        return set.waiting_to_take(0).value() == 0;
    })) << "stopped: out of the queue";
    child.kill(SIGCONT);
    ASSERT_TRUE(test::eventually(10s, "1 process waiting to take semaphore 0 (semncnt)", [&] {
        return set.waiting_to_take(0).value() == 1;
    })) << "retried after EINTR";
    ASSERT_TRUE(set.post(0));
    EXPECT_CHILD_OK(child.wait_for(10s));
}

// B05 for semop: a killed waiter drops out of semncnt and the next post wakes the survivor.
TEST(SysvSemaphoreSetMp, KilledWaiterLeavesNcntAndTheSurvivorWakes) {
    const std::array<unsigned short, 1> init{0};
    auto set = make_private(init);
    auto waiter = [&] {
        auto r = set.wait_until(0, Deadline::after(10s));
        CHILD_CHECK(r && *r);
        return 0;
    };
    auto victim = test::ForkedChild::spawn(waiter);
    auto survivor = test::ForkedChild::spawn(waiter);
    ASSERT_TRUE(test::eventually(10s, "2 processes waiting to take semaphore 0 (semncnt)", [&] {
        return set.waiting_to_take(0).value() == 2;
    }));
    victim.kill(SIGKILL);
    EXPECT_EQ(victim.wait_for(10s).signal, SIGKILL);
    EXPECT_TRUE(test::eventually(10s, "1 process waiting to take semaphore 0 (semncnt)", [&] {
        return set.waiting_to_take(0).value() == 1;
    }));
    ASSERT_TRUE(set.post(0));
    EXPECT_CHILD_OK(survivor.wait_for(10s));
}

}  // namespace
}  // namespace ipckit
