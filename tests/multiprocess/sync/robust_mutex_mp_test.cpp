// SPDX-License-Identifier: MIT
// B04: a process-shared robust mutex whose holder is SIGKILLed; recovery, a recoverer killed in
// turn, and a recoverer that never calls consistent() (ENOTRECOVERABLE). Plus the condition
// variable across processes, including B34 (a waiter killed mid-wait).
#include "eventually.hpp"
#include "forked_child.hpp"
#include "ipckit/core/mapping.hpp"
#include "ipckit/sync/robust_mutex.hpp"
#include "ipckit/sync/shared_condition.hpp"
#include "sync_test_helpers.hpp"

#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <gtest/gtest.h>

namespace ipckit {
namespace {

using namespace std::chrono_literals;

struct State {
    long a = 0;
    long b = 0;  // invariant a == b while the mutex is free
    std::atomic<int> ready{0};
    std::atomic<int> flag{0};
};

class RobustMutexMp : public ::testing::Test {
protected:
    Mapping shm_ = Mapping::map_anonymous(4096).value();
    RobustMutex mutex_ = RobustMutex::init(shm_.bytes().first(RobustMutex::kSize)).value();
    SharedCondition cond_ =
        SharedCondition::init(shm_.bytes().subspan(128, SharedCondition::kSize)).value();
    State* state_ = new (shm_.data() + 512) State{};

    // Child 1 of B04: lock, a += 1, SIGKILL before b += 1.
    void kill_a_holder_mid_update() {
        auto child = test::ForkedChild::spawn([&] {
            auto r = mutex_.lock();
            CHILD_CHECK(r);
            state_->a += 1;
            ::raise(SIGKILL);
            return 1;
        });
        ASSERT_EQ(child.wait_for(10s).signal, SIGKILL);
        ASSERT_NE(state_->a, state_->b);
    }
};

TEST_F(RobustMutexMp, NextLockerIsToldTheOwnerDiedAndRecovers) {
    kill_a_holder_mid_update();
    auto recoverer = test::ForkedChild::spawn([&] {
        auto r = mutex_.lock();
        CHILD_CHECK(r && *r == MutexState::OwnerDied);
        state_->b = state_->a;  // repair
        CHILD_CHECK(mutex_.consistent());
        CHILD_CHECK(mutex_.unlock());
        return 0;
    });
    EXPECT_CHILD_OK(recoverer.wait_for(10s));
    EXPECT_EQ(mutex_.lock().value(), MutexState::Consistent);
    EXPECT_EQ(state_->a, state_->b);
    ASSERT_TRUE(mutex_.unlock());
}

TEST_F(RobustMutexMp, RecovererKilledBeforeConsistentPassesOwnerDiedOn) {
    kill_a_holder_mid_update();
    auto second = test::ForkedChild::spawn([&] {
        auto r = mutex_.lock();
        CHILD_CHECK(r && *r == MutexState::OwnerDied);
        ::raise(SIGKILL);  // dies while recovering
        return 1;
    });
    EXPECT_EQ(second.wait_for(10s).signal, SIGKILL);
    auto third = mutex_.try_lock();
    ASSERT_TRUE(third) << third.error().message();
    ASSERT_TRUE(third->has_value());
    EXPECT_EQ(**third, MutexState::OwnerDied);
    state_->b = state_->a;
    ASSERT_TRUE(mutex_.consistent());
    ASSERT_TRUE(mutex_.unlock());
    EXPECT_EQ(mutex_.lock_for(1s).value(), std::optional<MutexState>(MutexState::Consistent));
    ASSERT_TRUE(mutex_.unlock());
}

TEST_F(RobustMutexMp, UnlockWithoutConsistentMakesItUnrecoverable) {
    kill_a_holder_mid_update();
    auto careless = test::ForkedChild::spawn([&] {
        auto r = mutex_.lock();
        CHILD_CHECK(r && *r == MutexState::OwnerDied);
        CHILD_CHECK(mutex_.unlock());  // ignores the owner death
        return 0;
    });
    EXPECT_CHILD_OK(careless.wait_for(10s));
    for (int i = 0; i < 2; ++i) {  // every later lock, not just the next one
        auto r = mutex_.lock();
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().code(), std::errc::state_not_recoverable);
        EXPECT_NE(r.error().detail().find("consistent"), std::string::npos) << r.error().message();
    }
    auto t = mutex_.try_lock();
    ASSERT_FALSE(t);
    EXPECT_EQ(t.error().code(), std::errc::state_not_recoverable);
    auto timed = mutex_.lock_for(10ms);
    ASSERT_FALSE(timed);
    EXPECT_EQ(timed.error().code(), std::errc::state_not_recoverable) << timed.error().message();
    // The documented way out: destroy and re-init the memory.
    ASSERT_TRUE(mutex_.destroy());
    mutex_ = RobustMutex::init(shm_.bytes().first(RobustMutex::kSize)).value();
    EXPECT_EQ(mutex_.lock().value(), MutexState::Consistent);
    ASSERT_TRUE(mutex_.unlock());
}

TEST_F(RobustMutexMp, LockForTimesOutWhileAnotherProcessHoldsIt) {
    auto holder = test::ForkedChild::spawn([&] {
        CHILD_CHECK(mutex_.lock());
        state_->ready.store(1);
        CHILD_CHECK(
            test::eventually(10s, "the parent's go", [&] { return state_->flag.load() != 0; }));
        CHILD_CHECK(mutex_.unlock());
        return 0;
    });
    ASSERT_TRUE(test::eventually(
        10s, "the child holds the mutex", [&] { return state_->ready.load() == 1; }));
    EXPECT_EQ(mutex_.lock_for(20ms).value(), std::nullopt);
    state_->flag.store(1);
    EXPECT_EQ(mutex_.lock_for(10s).value(), std::optional<MutexState>(MutexState::Consistent));
    ASSERT_TRUE(mutex_.unlock());
    EXPECT_CHILD_OK(holder.wait_for(10s));
}

TEST_F(RobustMutexMp, ConditionNotifiesAWaiterInAnotherProcess) {
    auto waiter = test::ForkedChild::spawn([&] {
        CHILD_CHECK(mutex_.lock());
        state_->ready.store(1);
        while (state_->flag.load() == 0) {
            auto w = cond_.wait(mutex_, Deadline::after(10s));
            CHILD_CHECK(w && *w == ConditionWait::Notified);
        }
        CHILD_CHECK(mutex_.unlock());
        return 0;
    });
    ASSERT_TRUE(test::eventually(
        10s, "the child holds the mutex", [&] { return state_->ready.load() == 1; }));
    ASSERT_EQ(mutex_.lock().value(), MutexState::Consistent);  // the waiter is inside wait() now
    state_->flag.store(1);
    ASSERT_TRUE(cond_.notify_all());
    ASSERT_TRUE(mutex_.unlock());
    EXPECT_CHILD_OK(waiter.wait_for(10s));
}

// A waiter re-acquiring the mutex after a notify finds its owner dead: the wait says so.
TEST_F(RobustMutexMp, ConditionWaitReportsOwnerDiedOnReacquire) {
    auto waiter = test::ForkedChild::spawn([&] {
        CHILD_CHECK(mutex_.lock());
        state_->ready.store(1);
        auto w = cond_.wait(mutex_, Deadline::after(10s));
        CHILD_CHECK(w && *w == ConditionWait::OwnerDied);
        CHILD_CHECK(mutex_.consistent());
        CHILD_CHECK(mutex_.unlock());
        return 0;
    });
    ASSERT_TRUE(test::eventually(
        10s, "the child holds the mutex", [&] { return state_->ready.load() == 1; }));
    auto killer = test::ForkedChild::spawn([&] {
        CHILD_CHECK(mutex_.lock());  // the waiter released it inside wait()
        CHILD_CHECK(cond_.notify_all());
        ::raise(SIGKILL);  // dies holding the mutex the waiter must re-take
        return 1;
    });
    EXPECT_EQ(killer.wait_for(10s).signal, SIGKILL);
    EXPECT_CHILD_OK(waiter.wait_for(10s));
    EXPECT_EQ(mutex_.lock().value(), MutexState::Consistent);
    ASSERT_TRUE(mutex_.unlock());
}

// B34: a waiter killed mid-wait must not stop notify_all from waking the others. glibc's condvar
// passes this (it is the kill *inside* glibc's own critical steps that can break it, BZ 21422;
// see the class comment).
TEST_F(RobustMutexMp, KilledWaiterDoesNotStopTheOthersWaking) {
    constexpr int kRounds = 50;
    for (int round = 0; round < kRounds; ++round) {
        state_->flag.store(0);
        auto waiter = [&] {
            CHILD_CHECK(mutex_.lock());
            while (state_->flag.load() == 0) {
                auto w = cond_.wait(mutex_, Deadline::after(10s));
                CHILD_CHECK(w && *w != ConditionWait::TimedOut);
                if (*w == ConditionWait::OwnerDied) {
                    CHILD_CHECK(mutex_.consistent());
                }
            }
            CHILD_CHECK(mutex_.unlock());
            return 0;
        };
        auto victim = test::ForkedChild::spawn(waiter);
        auto survivor = test::ForkedChild::spawn(waiter);
        ASSERT_TRUE(test::wait_until_blocked_in(victim.pid(), SYS_futex, 10s));
        ASSERT_TRUE(test::wait_until_blocked_in(survivor.pid(), SYS_futex, 10s));
        victim.kill(SIGKILL);
        ASSERT_EQ(victim.wait_for(10s).signal, SIGKILL) << "round " << round;
        auto s = mutex_.lock().value();
        if (s == MutexState::OwnerDied) {  // cannot happen (the victim was in wait), but be exact
            ASSERT_TRUE(mutex_.consistent());
        }
        state_->flag.store(1);
        ASSERT_TRUE(cond_.notify_all());
        ASSERT_TRUE(mutex_.unlock());
        const auto res = survivor.wait_for(10s);
        ASSERT_TRUE(res.ok()) << "round " << round << ": " << res.describe();
    }
}

}  // namespace
}  // namespace ipckit
