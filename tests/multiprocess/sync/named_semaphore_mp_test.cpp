// SPDX-License-Identifier: MIT
// Named and unnamed POSIX semaphores across processes: wake-ups, a signal during a wait, a waiter
// killed while blocked (B05), the holder killed (B06: not robust), and a name owned by another
// user.
#include "eventually.hpp"
#include "forked_child.hpp"
#include "ipc_registry.hpp"
#include "ipckit/core/mapping.hpp"
#include "ipckit/sync/named_semaphore.hpp"
#include "ipckit/sync/unnamed_semaphore.hpp"
#include "sync_test_helpers.hpp"

#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

namespace ipckit {
namespace {

using namespace std::chrono_literals;

TEST(PosixSemaphoreMp, PostWakesAWaiterInAnotherProcess) {
    const auto name = PosixName::make(test::unique_sem_name()).value();
    auto sem = NamedSemaphore::create(name, 0).value();
    auto child = test::ForkedChild::spawn([&] {
        auto mine = NamedSemaphore::open(name);
        CHILD_CHECK(mine);
        auto r = mine->wait_for(10s);
        CHILD_CHECK(r && *r);
        return 0;
    });
    ASSERT_TRUE(test::wait_until_blocked_in(child.pid(), SYS_futex, 10s));
    ASSERT_TRUE(sem.post());
    EXPECT_CHILD_OK(child.wait_for(10s));
    EXPECT_EQ(sem.value().value(), 0);
}

TEST(PosixSemaphoreMp, AWaitInterruptedByASignalKeepsWaiting) {
    auto shm = Mapping::map_anonymous(4096).value();
    auto* handled = new (shm.data()) std::atomic<int>(0);
    auto sem = UnnamedSemaphore::init(shm.bytes().subspan(64, UnnamedSemaphore::kSize), 0).value();
    auto child = test::ForkedChild::spawn([&] {
        test_sync::install_counting_handler(handled);
        auto r = sem.wait();  // EINTR from the handler is retried, not reported
        CHILD_CHECK(r);
        CHILD_CHECK(handled->load() == 1);
        return 0;
    });
    ASSERT_TRUE(test::wait_until_blocked_in(child.pid(), SYS_futex, 10s));
    child.kill(SIGUSR1);
    ASSERT_TRUE(test::eventually(
        10s, "the child's SIGUSR1 handler to run", [&] { return handled->load() == 1; }));
    ASSERT_TRUE(test::wait_until_blocked_in(child.pid(), SYS_futex, 10s)) << "back in the wait";
    EXPECT_EQ(sem.value().value(), 0);
    ASSERT_TRUE(sem.post());
    EXPECT_CHILD_OK(child.wait_for(10s));
}

TEST(PosixSemaphoreMp, UnnamedSemaphoreInSharedMemoryWorksAcrossFork) {
    auto shm = Mapping::map_anonymous(4096).value();
    auto sem = UnnamedSemaphore::init(shm.bytes().first(UnnamedSemaphore::kSize), 0).value();
    auto done = UnnamedSemaphore::init(shm.bytes().subspan(64, UnnamedSemaphore::kSize), 0).value();
    auto child = test::ForkedChild::spawn([&] {
        for (int i = 0; i < 100; ++i) {
            auto r = sem.wait_for(10s);
            CHILD_CHECK(r && *r);
            CHILD_CHECK(done.post());
        }
        return 0;
    });
    for (int i = 0; i < 100; ++i) {
        ASSERT_TRUE(sem.post());
        ASSERT_TRUE(done.wait_for(10s).value());
    }
    EXPECT_CHILD_OK(child.wait_for(10s));
    EXPECT_TRUE(sem.destroy());
    EXPECT_TRUE(done.destroy());
}

// B05: two waiters, one is SIGKILLed while blocked, one post still wakes the other.
TEST(PosixSemaphoreMp, KilledWaiterDoesNotSwallowThePost) {
    auto shm = Mapping::map_anonymous(4096).value();
    auto sem = UnnamedSemaphore::init(shm.bytes().first(UnnamedSemaphore::kSize), 0).value();
    auto waiter = [&] {
        auto r = sem.wait_for(10s);
        CHILD_CHECK(r && *r);
        return 0;
    };
    auto victim = test::ForkedChild::spawn(waiter);
    auto survivor = test::ForkedChild::spawn(waiter);
    ASSERT_TRUE(test::wait_until_blocked_in(victim.pid(), SYS_futex, 10s));
    ASSERT_TRUE(test::wait_until_blocked_in(survivor.pid(), SYS_futex, 10s));
    victim.kill(SIGKILL);
    EXPECT_EQ(victim.wait_for(10s).signal, SIGKILL);
    ASSERT_TRUE(sem.post());
    EXPECT_CHILD_OK(survivor.wait_for(10s));
    EXPECT_EQ(sem.value().value(), 0);
}

// B06 / F11: a POSIX semaphore is not robust; the count a killed holder took is lost.
TEST(PosixSemaphoreMp, HolderKilledKeepsTheCount) {
    const auto name = PosixName::make(test::unique_sem_name()).value();
    auto sem = NamedSemaphore::create(name, 1).value();
    auto holder = test::ForkedChild::spawn([&] {
        auto mine = NamedSemaphore::open(name);
        CHILD_CHECK(mine && mine->wait());
        ::pause();
        return 0;
    });
    ASSERT_TRUE(test::eventually(10s, "the semaphore value 0 (the child took it)", [&] {
        return sem.value().value() == 0;
    }));
    holder.kill(SIGKILL);
    EXPECT_EQ(holder.wait_for(10s).signal, SIGKILL);
    EXPECT_EQ(sem.value().value(), 0) << "documented: use RobustMutex or SEM_UNDO for locks";
}

// A name that exists with a different owner: another user could post or drain it at will.
TEST(PosixSemaphoreMp, OpenRefusesASemaphoreOwnedByAnotherUser) {
    if (::geteuid() != 0) {
        GTEST_SKIP() << "needs root to create the semaphore as uid 65534";
    }
    const auto name = PosixName::make(test::unique_sem_name()).value();
    auto squatter = test::ForkedChild::spawn([&] {
        CHILD_CHECK(::setresgid(65534, 65534, 65534) == 0);
        CHILD_CHECK(::setresuid(65534, 65534, 65534) == 0);
        auto r = NamedSemaphore::create(name, 5, Permissions(0666));
        CHILD_CHECK(r);
        return 0;
    });
    {
        const auto res = squatter.wait_for(10s);
        ASSERT_TRUE(res.ok()) << res.describe();
    }
    auto refused = NamedSemaphore::open(name);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code(), std::errc::permission_denied);
    EXPECT_NE(refused.error().detail().find("uid 65534"), std::string::npos)
        << refused.error().message();
    auto refused_too = NamedSemaphore::open_or_create(name, 0);
    ASSERT_FALSE(refused_too);
    EXPECT_EQ(refused_too.error().code(), std::errc::permission_denied);
    // Sharing across users is possible, but only when asked for.
    auto shared = NamedSemaphore::open(name, Ownership::any());
    ASSERT_TRUE(shared) << shared.error().message();
    EXPECT_EQ(shared->value().value(), 5);
}

}  // namespace
}  // namespace ipckit
