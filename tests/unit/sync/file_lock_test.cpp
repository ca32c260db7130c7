// SPDX-License-Identifier: MIT
#include "ipckit/sync/file_lock.hpp"

#include "ipc_registry.hpp"
#include "ipckit/sync/lock_guard.hpp"
#include "ipckit/sync/ofd_lock.hpp"
#include "ipckit/sync/record_lock.hpp"

#include <fcntl.h>

#include <mutex>
#include <shared_mutex>

#include <gtest/gtest.h>

namespace ipckit {
namespace {

using namespace std::chrono_literals;

TEST(FileLock, TwoHandlesConflictEvenInOneProcess) {
    const auto path = test::unique_path("flock");
    auto a = FileLock::open(path).value();
    auto b = FileLock::open(path).value();
    EXPECT_TRUE(a.try_acquire(LockKind::Exclusive).value());
    EXPECT_FALSE(b.try_acquire(LockKind::Exclusive).value());
    EXPECT_FALSE(b.try_acquire(LockKind::Shared).value());
    EXPECT_FALSE(b.acquire_for(LockKind::Exclusive, 20ms).value()) << "deadline by polling";
    ASSERT_TRUE(a.release());
    EXPECT_TRUE(b.try_acquire(LockKind::Exclusive).value());
}

TEST(FileLock, SharedLocksCoexist) {
    const auto path = test::unique_path("flock");
    auto a = FileLock::open(path).value();
    auto b = FileLock::open(path).value();
    EXPECT_TRUE(a.try_acquire(LockKind::Shared).value());
    EXPECT_TRUE(b.try_acquire(LockKind::Shared).value());
    EXPECT_FALSE(b.try_acquire(LockKind::Exclusive).value())
        << "upgrade blocked by a's shared lock";
}

TEST(FileLock, OpenExistingMissingFileFails) {
    auto r = FileLock::open(test::unique_path("none"), OpenMode::OpenExisting);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), std::errc::no_such_file_or_directory);
}

TEST(FileLock, IsLockableAndSharedLockable) {
    const auto path = test::unique_path("flock");
    auto a = FileLock::open(path).value();
    auto b = FileLock::open(path).value();
    {
        std::scoped_lock guard(a);
        EXPECT_FALSE(b.try_lock());
    }
    EXPECT_TRUE(b.try_lock());
    b.unlock();
    {
        std::shared_lock s1(a);
        std::shared_lock s2(b);
        EXPECT_TRUE(s1.owns_lock());
        EXPECT_TRUE(s2.owns_lock());
    }
}

TEST(OfdLock, HandlesConflictInOneProcessOnOverlappingRangesOnly) {
    const auto path = test::unique_path("ofd");
    auto a = OfdLock::open(path).value();
    auto b = OfdLock::open(path).value();
    EXPECT_TRUE(a.try_acquire(LockKind::Exclusive, {0, 10}).value());
    EXPECT_TRUE(b.try_acquire(LockKind::Exclusive, {10, 10}).value());
    EXPECT_FALSE(b.try_acquire(LockKind::Shared, {5, 1}).value());
    const auto h = b.holder(LockKind::Shared, {0, 100}).value();
    ASSERT_TRUE(h.has_value());
    EXPECT_EQ(h->pid, -1) << "OFD locks have no owning process";
    EXPECT_EQ(h->kind, LockKind::Exclusive);
    EXPECT_EQ(h->range, (ByteRange{0, 10}));
    EXPECT_FALSE(b.acquire_for(LockKind::Exclusive, {0, 1}, 20ms).value());
}

TEST(OfdLock, GuardReleasesOnScopeExit) {
    const auto path = test::unique_path("ofd");
    auto a = OfdLock::open(path).value();
    auto b = OfdLock::open(path).value();
    {
        auto g = LockGuard<OfdLock>::acquire(a, LockKind::Exclusive, {0, 4}, Deadline::after(1s))
                     .value();
        ASSERT_TRUE(g.has_value());
        EXPECT_FALSE(b.try_acquire(LockKind::Exclusive, {0, 4}).value());
        auto timed_out =
            LockGuard<OfdLock>::acquire(b, LockKind::Exclusive, {0, 4}, Deadline::after(10ms))
                .value();
        EXPECT_FALSE(timed_out.has_value());
    }
    EXPECT_TRUE(b.try_acquire(LockKind::Exclusive, {0, 4}).value());
}

TEST(FileLock, GuardWorksForFlockToo) {
    const auto path = test::unique_path("flock");
    auto a = FileLock::open(path).value();
    auto b = FileLock::open(path).value();
    {
        auto g = LockGuard<FileLock>::acquire(a, LockKind::Exclusive).value();
        ASSERT_TRUE(g.has_value());
        EXPECT_FALSE(b.try_lock());
    }
    EXPECT_TRUE(b.try_lock());
}

TEST(RecordLock, HandlesInOneProcessNeverConflict) {
    const auto path = test::unique_path("rec");
    auto a = RecordLock::open(path).value();
    auto b = RecordLock::open(path).value();
    EXPECT_TRUE(a.try_acquire(LockKind::Exclusive).value());
    EXPECT_TRUE(b.try_acquire(LockKind::Exclusive).value()) << "record locks belong to the process";
    EXPECT_FALSE(b.holder(LockKind::Exclusive).value().has_value());
}

TEST(RecordLock, ExclusiveNeedsAWritableDescriptor) {
    const auto path = test::unique_path("rec");
    { auto create = RecordLock::open(path).value(); }
    auto ro = RecordLock::adopt(UniqueFd(::open(path.c_str(), O_RDONLY | O_CLOEXEC)), path);
    auto r = ro.try_acquire(LockKind::Exclusive);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), std::errc::bad_file_descriptor);
    EXPECT_TRUE(ro.try_acquire(LockKind::Shared).value());
}

}  // namespace
}  // namespace ipckit
