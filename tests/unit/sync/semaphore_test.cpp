// SPDX-License-Identifier: MIT
#include "ipckit/sync/posix_semaphore.hpp"

#include "ipc_registry.hpp"
#include "ipckit/core/mapping.hpp"
#include "ipckit/sync/shared_semaphore.hpp"

#include <semaphore.h>

#include <gtest/gtest.h>

namespace ipckit {
namespace {

using namespace std::chrono_literals;

PosixName fresh_name() {
    return PosixName::make(test::unique_sem_name()).value();
}

TEST(PosixSemaphore, CreateWaitPostValue) {
    const auto name = fresh_name();
    auto sem = PosixSemaphore::create(name, 2).value();
    EXPECT_EQ(sem.value().value(), 2);
    ASSERT_TRUE(sem.wait());
    EXPECT_EQ(sem.value().value(), 1);
    ASSERT_TRUE(sem.post());
    EXPECT_EQ(sem.value().value(), 2);
    EXPECT_TRUE(PosixSemaphore::unlink(name));
}

TEST(PosixSemaphore, CloseKeepsTheNameAndTheCount) {
    const auto name = fresh_name();
    auto sem = PosixSemaphore::create(name, 3).value();
    ASSERT_TRUE(sem.close());
    auto again = PosixSemaphore::open(name).value();
    EXPECT_EQ(again.value().value(), 3);
}

TEST(PosixSemaphoreDeathTest, UseAfterCloseIsAContractViolation) {
    const auto name = fresh_name();
    auto sem = PosixSemaphore::create(name, 1).value();
    ASSERT_TRUE(sem.close());
    EXPECT_DEATH((void)sem.post(), "closed or moved-from");
}

TEST(PosixSemaphore, TryWaitReportsWouldBlockAsFalse) {
    const auto name = fresh_name();
    auto sem = PosixSemaphore::create(name, 1).value();
    EXPECT_TRUE(sem.try_wait().value());
    auto again = sem.try_wait();
    ASSERT_TRUE(again) << again.error().message();
    EXPECT_FALSE(*again);
}

TEST(PosixSemaphore, WaitForTimesOutAsAnOrdinaryOutcome) {
    const auto name = fresh_name();
    auto sem = PosixSemaphore::create(name, 0).value();
    auto r = sem.wait_for(20ms);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_FALSE(*r);
    ASSERT_TRUE(sem.post());
    EXPECT_TRUE(sem.wait_for(1s).value());
    EXPECT_FALSE(sem.wait_until(Deadline::now()).value());
}

TEST(PosixSemaphore, CreateFailsWithFileExistsWhenNameTaken) {
    const auto name = fresh_name();
    auto first = PosixSemaphore::create(name, 0).value();
    auto second = PosixSemaphore::create(name, 0);
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error().code(), std::errc::file_exists);
    EXPECT_NE(second.error().message().find(name.str()), std::string::npos);
}

TEST(PosixSemaphore, OpenMissingFailsWithNoSuchFile) {
    auto r = PosixSemaphore::open(fresh_name());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), std::errc::no_such_file_or_directory);
}

TEST(PosixSemaphore, OpenOrCreateSeesTheSameCounter) {
    const auto name = fresh_name();
    auto a = PosixSemaphore::open_or_create(name, 3).value();
    auto b = PosixSemaphore::open_or_create(name, 99).value();  // exists: 99 is ignored
    EXPECT_EQ(b.value().value(), 3);
    ASSERT_TRUE(a.wait());
    EXPECT_EQ(b.value().value(), 2);
    auto c = PosixSemaphore::open(name).value();
    EXPECT_EQ(c.value().value(), 2);
}

TEST(PosixSemaphore, InitialValueAboveSemValueMaxIsRejectedBeforeTheSyscall) {
    const auto name = fresh_name();
    auto r = PosixSemaphore::create(name, PosixSemaphore::kMaxValue + 1U);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), std::errc::invalid_argument);
    EXPECT_NE(r.error().detail().find("SEM_VALUE_MAX"), std::string::npos) << r.error().message();
    EXPECT_FALSE(PosixSemaphore::open(name));  // nothing was created
}

TEST(PosixSemaphore, PostAtSemValueMaxOverflows) {
    const auto name = fresh_name();
    auto sem = PosixSemaphore::create(name, PosixSemaphore::kMaxValue).value();
    auto r = sem.post();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), std::errc::value_too_large);
    EXPECT_EQ(sem.value().value(), static_cast<int>(PosixSemaphore::kMaxValue));
}

TEST(PosixSemaphore, UnlinkMissingIsNoSuchFile) {
    auto r = PosixSemaphore::unlink(fresh_name());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), std::errc::no_such_file_or_directory);
}

TEST(SharedSemaphore, InitInSharedMemoryWaitPostDestroy) {
    auto shm = Mapping::map_anonymous(4096).value();
    auto sem = SharedSemaphore::init(shm.bytes().first(SharedSemaphore::kSize), 1).value();
    EXPECT_TRUE(sem.try_wait().value());
    EXPECT_FALSE(sem.try_wait().value());
    EXPECT_FALSE(sem.wait_for(10ms).value());
    ASSERT_TRUE(sem.post());
    auto again = SharedSemaphore::attach(shm.bytes().first(SharedSemaphore::kSize)).value();
    EXPECT_EQ(again.value().value(), 1);
    EXPECT_TRUE(again.wait());
    EXPECT_TRUE(sem.destroy());
}

TEST(SharedSemaphore, RejectsTooSmallOrMisalignedMemory) {
    auto shm = Mapping::map_anonymous(4096).value();
    auto small = SharedSemaphore::init(shm.bytes().first(SharedSemaphore::kSize - 1), 0);
    ASSERT_FALSE(small);
    EXPECT_EQ(small.error().code(), std::errc::invalid_argument);
    auto skewed = SharedSemaphore::init(shm.bytes().subspan(1, SharedSemaphore::kSize), 0);
    ASSERT_FALSE(skewed);
    EXPECT_EQ(skewed.error().code(), std::errc::invalid_argument);
    auto too_big = SharedSemaphore::init(shm.bytes().first(SharedSemaphore::kSize),
                                         PosixSemaphore::kMaxValue + 1U);
    ASSERT_FALSE(too_big);
    EXPECT_EQ(too_big.error().code(), std::errc::invalid_argument);
}

}  // namespace
}  // namespace ipckit
