// SPDX-License-Identifier: MIT
#include "eventually.hpp"
#include "forked_child.hpp"
#include "ipckit/core/mapping.hpp"
#include "ipckit/sync/futex.hpp"

#include <signal.h>
#include <sys/syscall.h>

#include <gtest/gtest.h>

namespace ipckit {
namespace {

using namespace std::chrono_literals;

TEST(Futex, WaitReturnsAtOnceWhenTheValueDiffers) {
    std::atomic<std::uint32_t> word{5};
    auto r = Futex::wait(word, 4, Deadline::after(10s));
    ASSERT_TRUE(r);
    EXPECT_TRUE(*r);
}

TEST(Futex, WaitTimesOutAsAnOrdinaryOutcome) {
    std::atomic<std::uint32_t> word{0};
    auto r = Futex::wait(word, 0, Deadline::after(20ms));
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_FALSE(*r);
}

TEST(Futex, WakesAWaiterInAnotherProcess) {
    auto shared = Mapping::map_anonymous(4096).value();
    auto* word = new (shared.data()) std::atomic<std::uint32_t>(0);
    auto child = test::ForkedChild::spawn([word] {
        while (word->load() == 0) {
            auto r = Futex::wait(*word, 0, Deadline::after(10s));
            CHILD_CHECK(r && *r);  // woken, not timed out
        }
        return word->load() == 1 ? 0 : 2;
    });
    ASSERT_TRUE(test::wait_until_blocked_in(child.pid(), SYS_futex, 10s));
    word->store(1);
    // The child may be between its load and its wait: wake until a wake finds it.
    EXPECT_TRUE(test::eventually(
        1s,
        "a wake to find the child waiting",
        [&] { return Futex::wake(*word, 1).value() == 1; },
        1ms));
    EXPECT_CHILD_OK(child.wait_for(10s));
}

// B33: many wait/wake rounds across processes; a lost wake-up would show as a deadline miss.
// A FUTEX_PRIVATE implementation fails here at the first round (F12): the waker's private key
// never matches the other process's waiter.
TEST(Futex, PingPongAcrossProcessesLosesNoWakeUp) {
    constexpr std::uint32_t kRounds = 20'000;
    auto shared = Mapping::map_anonymous(4096).value();
    auto* ping = new (shared.data()) std::atomic<std::uint32_t>(0);
    auto* pong = new (shared.data() + 64) std::atomic<std::uint32_t>(0);
    auto child = test::ForkedChild::spawn([&] {
        for (std::uint32_t i = 1; i <= kRounds; ++i) {
            while (ping->load() < i) {
                auto r = Futex::wait(*ping, i - 1, Deadline::after(10s));
                CHILD_CHECK(r && *r);
            }
            pong->store(i);
            CHILD_CHECK(Futex::wake(*pong, 1));
        }
        return 0;
    });
    for (std::uint32_t i = 1; i <= kRounds; ++i) {
        ping->store(i);
        ASSERT_TRUE(Futex::wake(*ping, 1));
        while (pong->load() < i) {
            auto r = Futex::wait(*pong, i - 1, Deadline::after(10s));
            ASSERT_TRUE(r);
            ASSERT_TRUE(*r) << "round " << i << " timed out: a wake-up was lost";
        }
    }
    EXPECT_CHILD_OK(child.wait_for(10s));
}

// B05 for futex: of several waiters one is SIGKILLed; wake_all wakes every survivor and counts
// only live waiters (the kernel drops a dead process from the wait queue).
TEST(Futex, WakeAllReachesEverySurvivorAfterAWaiterIsKilled) {
    auto shared = Mapping::map_anonymous(4096).value();
    auto* word = new (shared.data()) std::atomic<std::uint32_t>(0);
    auto waiter = [word] {
        while (word->load() == 0) {
            auto r = Futex::wait(*word, 0, Deadline::after(10s));
            CHILD_CHECK(r && *r);
        }
        return 0;
    };
    auto victim = test::ForkedChild::spawn(waiter);
    auto a = test::ForkedChild::spawn(waiter);
    auto b = test::ForkedChild::spawn(waiter);
    for (pid_t pid : {victim.pid(), a.pid(), b.pid()}) {
        ASSERT_TRUE(test::wait_until_blocked_in(pid, SYS_futex, 10s));
    }
    victim.kill(SIGKILL);
    EXPECT_EQ(victim.wait_for(10s).signal, SIGKILL);
    word->store(1);
    EXPECT_EQ(Futex::wake_all(*word).value(), 2);
    EXPECT_CHILD_OK(a.wait_for(10s));
    EXPECT_CHILD_OK(b.wait_for(10s));
}

// A wake-one is never spent on a dead waiter: with the first waiter killed, wake(1) still wakes
// a live one.
TEST(Futex, WakeOneAfterTheFirstWaiterIsKilledWakesALiveOne) {
    auto shared = Mapping::map_anonymous(4096).value();
    auto* word = new (shared.data()) std::atomic<std::uint32_t>(0);
    auto waiter = [word] {
        auto r = Futex::wait(*word, 0, Deadline::after(10s));
        CHILD_CHECK(r && *r);
        return 0;
    };
    auto victim = test::ForkedChild::spawn(waiter);
    ASSERT_TRUE(test::wait_until_blocked_in(victim.pid(), SYS_futex, 10s));
    auto survivor = test::ForkedChild::spawn(waiter);
    ASSERT_TRUE(test::wait_until_blocked_in(survivor.pid(), SYS_futex, 10s));
    victim.kill(SIGKILL);
    EXPECT_EQ(victim.wait_for(10s).signal, SIGKILL);
    word->store(1);
    EXPECT_EQ(Futex::wake(*word, 1).value(), 1);
    EXPECT_CHILD_OK(survivor.wait_for(10s));
}

}  // namespace
}  // namespace ipckit
