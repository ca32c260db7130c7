// SPDX-License-Identifier: MIT
// flock, fcntl record locks and OFD locks between processes: conflicts, holder pids, deadlines,
// EDEADLK, a killed waiter (B05), and the "closing any descriptor drops record locks" pitfall
// (F24, B27) next to OFD locks that do not have it.
#include "eventually.hpp"
#include "forked_child.hpp"
#include "ipc_registry.hpp"
#include "ipckit/core/mapping.hpp"
#include "ipckit/sync/file_lock.hpp"
#include "ipckit/sync/ofd_lock.hpp"
#include "ipckit/sync/record_lock.hpp"
#include "sync_test_helpers.hpp"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <gtest/gtest.h>

namespace ipckit {
namespace {

using namespace std::chrono_literals;

constexpr int Free = 0;
constexpr int kHeld = 10;

// In a child process (so the process-associated record locks of the test process count as
// "another process"): can `Lock` take `range` exclusively right now?
template <class Lock>
int probe(const std::string& path, ByteRange range = {}) {
    auto probe_child = test::ForkedChild::spawn([&] {
        auto lock = Lock::open(path);
        CHILD_CHECK(lock);
        auto r = lock->try_acquire(LockKind::Exclusive, range);
        CHILD_CHECK(r);
        return *r ? Free : kHeld;
    });
    const auto res = probe_child.wait_for(10s);
    return res.exited ? res.exit_code : -1;
}

TEST(FileLockMp, ExclusiveFlockBlocksOtherProcessesUntilReleased) {
    const auto path = test::unique_path("flock");
    auto lock = FileLock::open(path).value();
    ASSERT_TRUE(lock.try_acquire(LockKind::Exclusive).value());
    auto child = test::ForkedChild::spawn([&] {
        auto mine = FileLock::open(path);
        CHILD_CHECK(mine);
        auto quick = mine->try_acquire(LockKind::Shared);
        CHILD_CHECK(quick && !*quick);
        auto timed = mine->acquire_for(LockKind::Exclusive, 20ms);
        CHILD_CHECK(timed && !*timed);
        auto blocking = mine->acquire(LockKind::Exclusive);  // flock(LOCK_EX)
        CHILD_CHECK(blocking && *blocking);
        return 0;
    });
    ASSERT_TRUE(test::wait_until_blocked_in(child.pid(), SYS_flock, 10s));
    ASSERT_TRUE(lock.release());
    EXPECT_CHILD_OK(child.wait_for(10s));
}

TEST(RecordLockMp, GetlkReportsTheHolderPidAndRange) {
    const auto path = test::unique_path("rec");
    auto shm = Mapping::map_anonymous(4096).value();
    auto* locked = new (shm.data()) std::atomic<int>(0);
    auto holder = test::ForkedChild::spawn([&] {
        auto mine = RecordLock::open(path);
        CHILD_CHECK(mine);
        CHILD_CHECK(mine->acquire(LockKind::Shared, {100, 50}).value());
        locked->store(1);
        ::pause();
        return 0;
    });
    ASSERT_TRUE(
        test::eventually(10s, "the child holds the lock", [&] { return locked->load() == 1; }));
    auto lock = RecordLock::open(path).value();
    const auto h = lock.holder(LockKind::Exclusive, {0, 1000}).value();
    ASSERT_TRUE(h.has_value());
    EXPECT_EQ(h->pid, holder.pid());
    EXPECT_EQ(h->kind, LockKind::Shared);
    EXPECT_EQ(h->range, (ByteRange{100, 50}));
    EXPECT_FALSE(lock.holder(LockKind::Shared, {0, 1000}).value().has_value())
        << "shared is compatible";
    EXPECT_FALSE(lock.holder(LockKind::Exclusive, {0, 100}).value().has_value()) << "no overlap";
    EXPECT_FALSE(lock.acquire_for(LockKind::Exclusive, {120, 1}, 20ms).value());
    holder.kill(SIGKILL);
    (void)holder.wait_for(10s);
    EXPECT_TRUE(lock.try_acquire(LockKind::Exclusive, {0, 1000}).value()) << "released on death";
}

// F24/B27: closing ANY descriptor of the file drops the process's record locks...
TEST(RecordLockMp, ClosingAnotherDescriptorOfTheFileDropsTheRecordLock) {
    const auto path = test::unique_path("rec");
    auto lock = RecordLock::open(path).value();
    ASSERT_TRUE(lock.acquire(LockKind::Exclusive).value());
    ASSERT_EQ(probe<RecordLock>(path), kHeld);
    {
        // e.g. a library reading the same file for an unrelated reason
        const int other = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        ASSERT_GE(other, 0);
        ::close(other);
    }
    EXPECT_EQ(probe<RecordLock>(path), Free) << "the pitfall: our lock silently vanished";
}

// ...and OFD locks are immune: the lock belongs to the open file description the handle owns.
TEST(OfdLockMp, ClosingAnotherDescriptorOfTheFileKeepsTheOfdLock) {
    const auto path = test::unique_path("ofd");
    auto lock = OfdLock::open(path).value();
    ASSERT_TRUE(lock.acquire(LockKind::Exclusive).value());
    ASSERT_EQ(probe<OfdLock>(path), kHeld);
    {
        const int other = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        ASSERT_GE(other, 0);
        ::close(other);
        auto another_handle = OfdLock::open(path).value();  // destroyed at once
    }
    EXPECT_EQ(probe<OfdLock>(path), kHeld);
    EXPECT_EQ(probe<RecordLock>(path), kHeld) << "OFD and record locks conflict with each other";
    ASSERT_TRUE(lock.release());
    EXPECT_EQ(probe<OfdLock>(path), Free);
}

TEST(OfdLockMp, BlockingAcquireWaitsForTheHolderAndAKilledHolderReleases) {
    const auto path = test::unique_path("ofd");
    auto shm = Mapping::map_anonymous(4096).value();
    auto* locked = new (shm.data()) std::atomic<int>(0);
    auto holder = test::ForkedChild::spawn([&] {
        auto mine = OfdLock::open(path);
        CHILD_CHECK(mine && mine->acquire(LockKind::Exclusive, {0, 8}).value());
        locked->store(1);
        ::pause();
        return 0;
    });
    ASSERT_TRUE(
        test::eventually(10s, "the child holds the lock", [&] { return locked->load() == 1; }));
    auto lock = OfdLock::open(path).value();
    EXPECT_FALSE(lock.acquire(LockKind::Shared, {4, 1}, Deadline::after(20ms)).value());
    const auto h = lock.holder(LockKind::Shared, {0, 8}).value();
    ASSERT_TRUE(h.has_value());
    EXPECT_EQ(h->pid, -1);
    auto waiter = test::ForkedChild::spawn([&] {
        auto mine = OfdLock::open(path);
        CHILD_CHECK(mine);
        auto r = mine->acquire(LockKind::Exclusive, {0, 8});  // F_OFD_SETLKW
        CHILD_CHECK(r && *r);
        return 0;
    });
    ASSERT_TRUE(test::wait_until_blocked_in(waiter.pid(), SYS_fcntl, 10s));
    holder.kill(SIGKILL);
    (void)holder.wait_for(10s);
    EXPECT_CHILD_OK(waiter.wait_for(10s));
}

// fcntl's deadlock detection surfaces as errc::resource_deadlock_would_occur.
TEST(RecordLockMp, DeadlockIsReportedAsEdeadlk) {
    const auto path = test::unique_path("rec");
    auto lock = RecordLock::open(path).value();
    ASSERT_TRUE(lock.acquire(LockKind::Exclusive, {0, 1}).value());
    auto shm = Mapping::map_anonymous(4096).value();
    auto* step = new (shm.data()) std::atomic<int>(0);
    auto child = test::ForkedChild::spawn([&] {
        auto mine = RecordLock::open(path);
        CHILD_CHECK(mine && mine->acquire(LockKind::Exclusive, {1, 1}).value());
        step->store(1);
        auto r = mine->acquire(LockKind::Exclusive, {0, 1});  // blocks behind the parent
        CHILD_CHECK(r && *r);
        return 0;
    });
    ASSERT_TRUE(test::eventually(10s, "the child holds byte 1", [&] { return step->load() == 1; }));
    ASSERT_TRUE(test::wait_until_blocked_in(child.pid(), SYS_fcntl, 10s));
    auto r = lock.acquire(LockKind::Exclusive, {1, 1});  // would wait for the child: a cycle
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), std::errc::resource_deadlock_would_occur);
    EXPECT_NE(r.error().message().find("deadlock"), std::string::npos) << r.error().message();
    ASSERT_TRUE(lock.release({0, 1}));  // break the cycle: the child gets byte 0
    EXPECT_CHILD_OK(child.wait_for(10s));
}

// B05 for flock: one of two blocked waiters is killed; the release still reaches the other.
TEST(FileLockMp, KilledWaiterDoesNotBlockTheSurvivor) {
    const auto path = test::unique_path("flock");
    auto lock = FileLock::open(path).value();
    ASSERT_TRUE(lock.acquire(LockKind::Exclusive).value());
    auto waiter = [&] {
        auto mine = FileLock::open(path);
        CHILD_CHECK(mine);
        auto r = mine->acquire(LockKind::Exclusive);
        CHILD_CHECK(r && *r);
        return 0;
    };
    auto victim = test::ForkedChild::spawn(waiter);
    auto survivor = test::ForkedChild::spawn(waiter);
    ASSERT_TRUE(test::wait_until_blocked_in(victim.pid(), SYS_flock, 10s));
    ASSERT_TRUE(test::wait_until_blocked_in(survivor.pid(), SYS_flock, 10s));
    victim.kill(SIGKILL);
    EXPECT_EQ(victim.wait_for(10s).signal, SIGKILL);
    ASSERT_TRUE(lock.release());
    EXPECT_CHILD_OK(survivor.wait_for(10s));
}

// B05 for F_OFD_SETLKW: the same with OFD locks.
TEST(OfdLockMp, KilledWaiterDoesNotBlockTheSurvivor) {
    const auto path = test::unique_path("ofd");
    auto lock = OfdLock::open(path).value();
    ASSERT_TRUE(lock.acquire(LockKind::Exclusive).value());
    auto waiter = [&] {
        auto mine = OfdLock::open(path);
        CHILD_CHECK(mine);
        auto r = mine->acquire(LockKind::Exclusive);
        CHILD_CHECK(r && *r);
        return 0;
    };
    auto victim = test::ForkedChild::spawn(waiter);
    auto survivor = test::ForkedChild::spawn(waiter);
    ASSERT_TRUE(test::wait_until_blocked_in(victim.pid(), SYS_fcntl, 10s));
    ASSERT_TRUE(test::wait_until_blocked_in(survivor.pid(), SYS_fcntl, 10s));
    victim.kill(SIGKILL);
    EXPECT_EQ(victim.wait_for(10s).signal, SIGKILL);
    ASSERT_TRUE(lock.release());
    EXPECT_CHILD_OK(survivor.wait_for(10s));
}

}  // namespace
}  // namespace ipckit
