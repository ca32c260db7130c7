// SPDX-License-Identifier: MIT
// Conformance of the file locks: one set of typed tests over flock (FileLock), fcntl record locks
// (RecordLock) and open-file-description locks (OfdLock), through the public API only. Between
// processes: exclusive excludes, shared admits shared, a try on a held lock is the busy outcome
// (false), a timed acquire times out as false, the lock is released by release(), by closing
// the handle and by the holder's death (SIGKILL), a waiter killed while blocked does not
// swallow the release (B05), and a failed upgrade keeps the shared lock (a known flock defect
// is skipped with "defect:"). Where the three differ by design
// (who owns the lock: F24, B27), a trait says so and the test checks the documented behaviour.
#include "conformance_util.hpp"
#include "eventually.hpp"
#include "forked_child.hpp"
#include "ipc_registry.hpp"
#include "ipckit/core/mapping.hpp"
#include "ipckit/sync/file_lock.hpp"
#include "ipckit/sync/ofd_lock.hpp"
#include "ipckit/sync/record_lock.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <new>
#include <optional>
#include <string>

#include <gtest/gtest.h>

namespace ipckit {
namespace {

using namespace std::chrono_literals;

// ---- the implementations: open, acquire (with a deadline), try_acquire, release, all on the
// whole file. Traits:
// - kConflictsInOneProcess: two handles of one process exclude each other (false for record
//   locks, which belong to the process);
// - kLostOnUnrelatedClose: closing any other descriptor of the file drops the lock (true for
//   record locks only: F24, B27);
// - kBlockingCall: the system call a waiter without deadline sleeps in.

struct Flock {
    static constexpr const char* kName = "Flock";
    static constexpr bool kConflictsInOneProcess = true;
    static constexpr bool kLostOnUnrelatedClose = false;
    static constexpr long kBlockingCall = SYS_flock;
    using Handle = FileLock;
    static Result<bool> acquire(Handle& h, LockKind k, Deadline d) { return h.acquire(k, d); }
    static Result<bool> try_acquire(Handle& h, LockKind k) { return h.try_acquire(k); }
    static Result<void> release(Handle& h) { return h.release(); }
};

struct Fcntl {
    static constexpr const char* kName = "FcntlRecord";
    static constexpr bool kConflictsInOneProcess = false;
    static constexpr bool kLostOnUnrelatedClose = true;
    static constexpr long kBlockingCall = SYS_fcntl;
    using Handle = RecordLock;
    static Result<bool> acquire(Handle& h, LockKind k, Deadline d) { return h.acquire(k, {}, d); }
    static Result<bool> try_acquire(Handle& h, LockKind k) { return h.try_acquire(k); }
    static Result<void> release(Handle& h) { return h.release(); }
};

struct Ofd {
    static constexpr const char* kName = "Ofd";
    static constexpr bool kConflictsInOneProcess = true;
    static constexpr bool kLostOnUnrelatedClose = false;
    static constexpr long kBlockingCall = SYS_fcntl;
    using Handle = OfdLock;
    static Result<bool> acquire(Handle& h, LockKind k, Deadline d) { return h.acquire(k, {}, d); }
    static Result<bool> try_acquire(Handle& h, LockKind k) { return h.try_acquire(k); }
    static Result<void> release(Handle& h) { return h.release(); }
};

/// What the holder child does once it holds the lock, told by the parent through shared memory.
enum Command : int { kWait = 0, kRelease = 1, kClose = 2, kExit = 3 };

/// Flags shared with the holder child (an anonymous shared mapping survives fork).
struct Shared {
    std::atomic<int> held{0};  // the child holds the lock
    std::atomic<int> command{kWait};
    std::atomic<int> done{0};  // the child released or closed, as commanded
};

template <class L>
class FileLockKind : public ::testing::Test {
protected:
    using Handle = typename L::Handle;

    void SetUp() override {
        path_ = test::unique_path("lock");
        map_.emplace(Mapping::map_anonymous(4096).value());
        shared_ = new (map_->data()) Shared{};
    }

    Handle open() { return Handle::open(path_).value(); }

    /// A child that takes `kind` with a handle of its own, reports it, then follows commands:
    /// kRelease (release(), stay alive), kClose (destroy the handle, stay alive), kExit.
    /// Without a command it waits (up to 30 s), still holding the lock.
    test::ForkedChild spawn_holder(LockKind kind) {
        auto child = test::ForkedChild::spawn([this, kind] {
            std::optional<Handle> h;
            h.emplace(Handle::open(path_).value());
            auto got = L::acquire(*h, kind, Deadline::after(10s));
            CHILD_CHECK(got && *got);
            shared_->held.store(1);
            for (;;) {
                CHILD_CHECK(test::eventually(30s, "a command from the parent", [&] {
                    return shared_->command.load() != kWait;
                }));
                const int c = shared_->command.exchange(kWait);
                if (c == kRelease) {
                    CHILD_CHECK(L::release(*h));
                } else if (c == kClose) {
                    h.reset();
                }
                shared_->done.store(1);
                if (c == kExit) {
                    return 0;
                }
            }
        });
        return child;
    }

    ::testing::AssertionResult child_holds() {
        return test::eventually(
            10s, "the child holds the lock", [&] { return shared_->held.load() == 1; });
    }
    /// Sends `c` to the holder and waits until it has carried it out.
    ::testing::AssertionResult command(Command c) {
        shared_->done.store(0);
        shared_->command.store(c);
        return test::eventually(
            10s, "the child to carry out the command", [&] { return shared_->done.load() == 1; });
    }
    /// Can a handle of this process take `kind` now? (Released again at once.)
    bool can_take(LockKind kind) {
        auto h = open();
        auto r = L::try_acquire(h, kind);
        EXPECT_TRUE(r) << r.error().message();
        return r && *r;
    }

    std::string path_;
    std::optional<Mapping> map_;
    Shared* shared_ = nullptr;
};

using Locks = ::testing::Types<Flock, Fcntl, Ofd>;
TYPED_TEST_SUITE(FileLockKind, Locks, conformance::ImplName);

TYPED_TEST(FileLockKind, AnExclusiveLockExcludesAnotherProcess) {
    auto child = this->spawn_holder(LockKind::Exclusive);
    ASSERT_TRUE(this->child_holds());
    auto h = this->open();
    EXPECT_FALSE(TypeParam::try_acquire(h, LockKind::Exclusive).value());
    EXPECT_FALSE(TypeParam::try_acquire(h, LockKind::Shared).value());
    ASSERT_TRUE(this->command(kExit));
    EXPECT_CHILD_OK(child.wait_for(10s));
}

TYPED_TEST(FileLockKind, ASharedLockAdmitsSharedAndExcludesExclusive) {
    auto child = this->spawn_holder(LockKind::Shared);
    ASSERT_TRUE(this->child_holds());
    auto h = this->open();
    EXPECT_FALSE(TypeParam::try_acquire(h, LockKind::Exclusive).value());
    EXPECT_TRUE(TypeParam::try_acquire(h, LockKind::Shared).value());
    ASSERT_TRUE(TypeParam::release(h));
    ASSERT_TRUE(this->command(kExit));
    EXPECT_CHILD_OK(child.wait_for(10s));
}

TYPED_TEST(FileLockKind, ATimedAcquireOfAHeldLockTimesOutAsFalse) {
    auto child = this->spawn_holder(LockKind::Exclusive);
    ASSERT_TRUE(this->child_holds());
    auto h = this->open();
    const auto start = std::chrono::steady_clock::now();
    auto r = TypeParam::acquire(h, LockKind::Exclusive, Deadline::after(50ms));
    const auto waited = std::chrono::steady_clock::now() - start;
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_FALSE(*r) << "timed out is false, not an error";
    EXPECT_GE(waited, 50ms) << "never early";
    ASSERT_TRUE(this->command(kExit));
    EXPECT_CHILD_OK(child.wait_for(10s));
}

TYPED_TEST(FileLockKind, ReleaseLetsAWaiterInAnotherProcessIn) {
    auto child = this->spawn_holder(LockKind::Exclusive);
    ASSERT_TRUE(this->child_holds());
    ASSERT_FALSE(this->can_take(LockKind::Exclusive));
    ASSERT_TRUE(this->command(kRelease));
    EXPECT_TRUE(this->can_take(LockKind::Exclusive)) << "the holder released, and is alive";
    ASSERT_TRUE(this->command(kExit));
    EXPECT_CHILD_OK(child.wait_for(10s));
}

TYPED_TEST(FileLockKind, ClosingTheHandleReleasesTheLock) {
    auto child = this->spawn_holder(LockKind::Exclusive);
    ASSERT_TRUE(this->child_holds());
    ASSERT_FALSE(this->can_take(LockKind::Exclusive));
    ASSERT_TRUE(this->command(kClose));
    EXPECT_TRUE(this->can_take(LockKind::Exclusive))
        << "the holder closed its handle, and is alive";
    ASSERT_TRUE(this->command(kExit));
    EXPECT_CHILD_OK(child.wait_for(10s));
}

TYPED_TEST(FileLockKind, TheLockIsReleasedWhenTheHolderIsKilled) {
    auto child = this->spawn_holder(LockKind::Exclusive);
    ASSERT_TRUE(this->child_holds());
    auto h = this->open();
    ASSERT_FALSE(TypeParam::try_acquire(h, LockKind::Exclusive).value());
    child.kill(SIGKILL);
    const auto r = child.wait_for(10s);
    EXPECT_EQ(r.signal, SIGKILL) << r.describe();
    // The kernel dropped the lock with the process: a blocking-with-deadline acquire gets it.
    auto got = TypeParam::acquire(h, LockKind::Exclusive, Deadline::after(5s));
    ASSERT_TRUE(got) << got.error().message();
    EXPECT_TRUE(*got);
}

TYPED_TEST(FileLockKind, AWaiterKilledWhileBlockedDoesNotSwallowTheRelease) {
    // B05: two processes wait without a deadline; one is killed; the release reaches the other.
    auto h = this->open();
    ASSERT_TRUE(TypeParam::try_acquire(h, LockKind::Exclusive).value());
    const auto waiter = [this] {
        auto mine = TypeParam::Handle::open(this->path_).value();
        auto got = TypeParam::acquire(mine, LockKind::Exclusive, Deadline::never());
        CHILD_CHECK(got && *got);
        return 0;
    };
    auto victim = test::ForkedChild::spawn(waiter);
    auto survivor = test::ForkedChild::spawn(waiter);
    ASSERT_TRUE(test::wait_until_blocked_in(victim.pid(), TypeParam::kBlockingCall, 10s));
    ASSERT_TRUE(test::wait_until_blocked_in(survivor.pid(), TypeParam::kBlockingCall, 10s));
    victim.kill(SIGKILL);
    EXPECT_EQ(victim.wait_for(10s).signal, SIGKILL);
    ASSERT_TRUE(TypeParam::release(h));
    EXPECT_CHILD_OK(survivor.wait_for(10s));
}

TYPED_TEST(FileLockKind, AFailedUpgradeKeepsTheSharedLock) {
    // We and a child hold it shared; our try to upgrade fails (the child's shared lock is in the
    // way). We must still hold our shared lock: once the child is gone, nobody may write.
    auto child = this->spawn_holder(LockKind::Shared);
    ASSERT_TRUE(this->child_holds());
    auto h = this->open();
    ASSERT_TRUE(TypeParam::try_acquire(h, LockKind::Shared).value());
    ASSERT_FALSE(TypeParam::try_acquire(h, LockKind::Exclusive).value());
    ASSERT_TRUE(this->command(kExit));
    EXPECT_CHILD_OK(child.wait_for(10s));
    auto probe = test::ForkedChild::spawn([&] {
        auto mine = TypeParam::Handle::open(this->path_).value();
        auto r = TypeParam::try_acquire(mine, LockKind::Exclusive);
        CHILD_CHECK(r);
        return *r ? 10 : 20;
    });
    const auto res = probe.wait_for(10s);
    ASSERT_TRUE(res.exited) << res.describe();
    EXPECT_EQ(res.exit_code, 20) << "another process took the lock exclusively: our shared lock "
                                    "was lost by the failed upgrade";
}

TYPED_TEST(FileLockKind, TwoHandlesInOneProcessConflictUnlessTheLockBelongsToTheProcess) {
    auto first = this->open();
    ASSERT_TRUE(TypeParam::try_acquire(first, LockKind::Exclusive).value());
    auto second = this->open();
    EXPECT_EQ(TypeParam::try_acquire(second, LockKind::Exclusive).value(),
              !TypeParam::kConflictsInOneProcess);
}

TYPED_TEST(FileLockKind, ClosingAnUnrelatedDescriptorOfTheFileDropsOnlyARecordLock) {
    auto h = this->open();
    ASSERT_TRUE(TypeParam::try_acquire(h, LockKind::Exclusive).value());
    // Someone in this process reads the file and closes it (a config reader, say: B27).
    const int other = ::open(this->path_.c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(other, 0);
    ASSERT_EQ(::close(other), 0);
    // Another process probes: can it take the lock now?
    auto probe = test::ForkedChild::spawn([&] {
        auto mine = TypeParam::Handle::open(this->path_).value();
        auto r = TypeParam::try_acquire(mine, LockKind::Exclusive);
        CHILD_CHECK(r);
        return *r ? 10 : 20;
    });
    const auto res = probe.wait_for(10s);
    ASSERT_TRUE(res.exited) << res.describe();
    EXPECT_EQ(res.exit_code, TypeParam::kLostOnUnrelatedClose ? 10 : 20)
        << (TypeParam::kLostOnUnrelatedClose ? "expected the documented loss (F24)"
                                             : "the lock must survive an unrelated close");
}

}  // namespace
}  // namespace ipckit
