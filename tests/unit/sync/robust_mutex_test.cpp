// SPDX-License-Identifier: MIT
#include "ipckit/sync/robust_mutex.hpp"

#include "ipckit/core/mapping.hpp"
#include "ipckit/sync/shared_condition.hpp"

#include <thread>

#include <gtest/gtest.h>

namespace ipckit {
namespace {

using namespace std::chrono_literals;

struct Fixture {
    Mapping shm = Mapping::map_anonymous(4096).value();
    RobustMutex mutex = RobustMutex::init(shm.bytes().first(RobustMutex::kSize)).value();
    SharedCondition cond =
        SharedCondition::init(shm.bytes().subspan(256, SharedCondition::kSize)).value();
};

TEST(RobustMutex, LockUnlockConsistent) {
    Fixture f;
    EXPECT_EQ(f.mutex.lock().value(), MutexState::Consistent);
    ASSERT_TRUE(f.mutex.unlock());
    EXPECT_EQ(f.mutex.try_lock().value(), std::optional<MutexState>(MutexState::Consistent));
    ASSERT_TRUE(f.mutex.unlock());
    EXPECT_TRUE(f.mutex.destroy());
}

TEST(RobustMutex, RelockByTheOwnerIsDeadlockNotAHang) {
    Fixture f;
    ASSERT_EQ(f.mutex.lock().value(), MutexState::Consistent);
    auto r = f.mutex.lock();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), std::errc::resource_deadlock_would_occur);
    ASSERT_TRUE(f.mutex.unlock());
}

TEST(RobustMutex, UnlockWithoutHoldingIsNotPermitted) {
    Fixture f;
    auto r = f.mutex.unlock();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), std::errc::operation_not_permitted);
}

TEST(RobustMutex, TryLockAndLockForWhileAnotherThreadHoldsIt) {
    Fixture f;
    ASSERT_EQ(f.mutex.lock().value(), MutexState::Consistent);
    std::thread other([&] {
        EXPECT_FALSE(f.mutex.try_lock().value().has_value());
        EXPECT_FALSE(f.mutex.lock_for(10ms).value().has_value());
    });
    other.join();
    ASSERT_TRUE(f.mutex.unlock());
}

TEST(RobustMutex, RejectsTooSmallMemory) {
    auto shm = Mapping::map_anonymous(4096).value();
    auto r = RobustMutex::init(shm.bytes().first(RobustMutex::kSize - 1));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), std::errc::invalid_argument);
}

TEST(SharedCondition, WaitTimesOutOnTheMonotonicClockAndKeepsTheMutex) {
    Fixture f;
    ASSERT_EQ(f.mutex.lock().value(), MutexState::Consistent);
    EXPECT_EQ(f.cond.wait_for(f.mutex, 10ms).value(), ConditionWait::TimedOut);
    auto relock = f.mutex.lock();  // still held by us after the wait
    ASSERT_FALSE(relock);
    EXPECT_EQ(relock.error().code(), std::errc::resource_deadlock_would_occur);
    ASSERT_TRUE(f.mutex.unlock());
}

TEST(SharedCondition, NotifyWakesAWaiter) {
    Fixture f;
    std::atomic<bool> ready{false};
    ASSERT_EQ(f.mutex.lock().value(), MutexState::Consistent);
    std::thread notifier([&] {
        ASSERT_EQ(f.mutex.lock().value(), MutexState::Consistent);
        ready = true;
        ASSERT_TRUE(f.cond.notify_one());
        ASSERT_TRUE(f.mutex.unlock());
    });
    while (!ready) {
        ASSERT_NE(f.cond.wait_for(f.mutex, 10s).value(), ConditionWait::TimedOut);
    }
    ASSERT_TRUE(f.mutex.unlock());
    notifier.join();
}

}  // namespace
}  // namespace ipckit
