// SPDX-License-Identifier: MIT
#include "ipckit/sync/named_semaphore.hpp"

#include "ipc_registry.hpp"
#include "ipckit/core/mapping.hpp"
#include "ipckit/sync/unnamed_semaphore.hpp"

#include <semaphore.h>

#include <gtest/gtest.h>

namespace ipckit {
namespace {

using namespace std::chrono_literals;

PosixName fresh_name() {
    return PosixName::make(test::unique_sem_name()).value();
}

TEST(NamedSemaphore, CreateWaitPostValue) {
    const auto name = fresh_name();
    auto sem = NamedSemaphore::create(name, 2).value();
    EXPECT_EQ(sem.value().value(), 2);
    ASSERT_TRUE(sem.wait());
    EXPECT_EQ(sem.value().value(), 1);
    ASSERT_TRUE(sem.post());
    EXPECT_EQ(sem.value().value(), 2);
    EXPECT_TRUE(NamedSemaphore::unlink(name));
}

TEST(NamedSemaphore, CloseKeepsTheNameAndTheCount) {
    const auto name = fresh_name();
    auto sem = NamedSemaphore::create(name, 3).value();
    ASSERT_TRUE(sem.close());
    auto again = NamedSemaphore::open(name).value();
    EXPECT_EQ(again.value().value(), 3);
}

TEST(PosixSemaphoreDeathTest, UseAfterCloseIsAContractViolation) {
    const auto name = fresh_name();
    auto sem = NamedSemaphore::create(name, 1).value();
    ASSERT_TRUE(sem.close());
    EXPECT_DEATH((void)sem.post(), "closed or moved-from");
}

TEST(NamedSemaphore, TryWaitReportsWouldBlockAsFalse) {
    const auto name = fresh_name();
    auto sem = NamedSemaphore::create(name, 1).value();
    EXPECT_TRUE(sem.try_wait().value());
    auto again = sem.try_wait();
    ASSERT_TRUE(again) << again.error().message();
    EXPECT_FALSE(*again);
}

TEST(NamedSemaphore, WaitForTimesOutAsAnOrdinaryOutcome) {
    const auto name = fresh_name();
    auto sem = NamedSemaphore::create(name, 0).value();
    auto r = sem.wait_for(20ms);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_FALSE(*r);
    ASSERT_TRUE(sem.post());
    EXPECT_TRUE(sem.wait_for(1s).value());
    EXPECT_FALSE(sem.wait_until(Deadline::now()).value());
}

TEST(NamedSemaphore, CreateFailsWithFileExistsWhenNameTaken) {
    const auto name = fresh_name();
    auto first = NamedSemaphore::create(name, 0).value();
    auto second = NamedSemaphore::create(name, 0);
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error().code(), std::errc::file_exists);
    EXPECT_NE(second.error().message().find(name.str()), std::string::npos);
}

TEST(NamedSemaphore, OpenMissingFailsWithNoSuchFile) {
    auto r = NamedSemaphore::open(fresh_name());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), std::errc::no_such_file_or_directory);
}

TEST(NamedSemaphore, OpenOrCreateSeesTheSameCounter) {
    const auto name = fresh_name();
    auto a = NamedSemaphore::open_or_create(name, 3).value();
    auto b = NamedSemaphore::open_or_create(name, 99).value();  // exists: 99 is ignored
    EXPECT_EQ(b.value().value(), 3);
    ASSERT_TRUE(a.wait());
    EXPECT_EQ(b.value().value(), 2);
    auto c = NamedSemaphore::open(name).value();
    EXPECT_EQ(c.value().value(), 2);
}

TEST(NamedSemaphore, InitialValueAboveSemValueMaxIsRejectedBeforeTheSyscall) {
    const auto name = fresh_name();
    auto r = NamedSemaphore::create(name, NamedSemaphore::kMaxValue + 1U);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), std::errc::invalid_argument);
    EXPECT_NE(r.error().detail().find("SEM_VALUE_MAX"), std::string::npos) << r.error().message();
    EXPECT_FALSE(NamedSemaphore::open(name));  // nothing was created
}

TEST(NamedSemaphore, PostAtSemValueMaxOverflows) {
    const auto name = fresh_name();
    auto sem = NamedSemaphore::create(name, NamedSemaphore::kMaxValue).value();
    auto r = sem.post();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), std::errc::value_too_large);
    EXPECT_EQ(sem.value().value(), static_cast<int>(NamedSemaphore::kMaxValue));
}

TEST(NamedSemaphore, UnlinkMissingIsNoSuchFile) {
    auto r = NamedSemaphore::unlink(fresh_name());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), std::errc::no_such_file_or_directory);
}

TEST(UnnamedSemaphore, InitInSharedMemoryWaitPostDestroy) {
    auto shm = Mapping::map_anonymous(4096).value();
    auto sem = UnnamedSemaphore::init(shm.bytes().first(UnnamedSemaphore::kSize), 1).value();
    EXPECT_TRUE(sem.try_wait().value());
    EXPECT_FALSE(sem.try_wait().value());
    EXPECT_FALSE(sem.wait_for(10ms).value());
    ASSERT_TRUE(sem.post());
    auto again = UnnamedSemaphore::attach(shm.bytes().first(UnnamedSemaphore::kSize)).value();
    EXPECT_EQ(again.value().value(), 1);
    EXPECT_TRUE(again.wait());
    EXPECT_TRUE(sem.destroy());
}

TEST(UnnamedSemaphore, RejectsTooSmallOrMisalignedMemory) {
    auto shm = Mapping::map_anonymous(4096).value();
    auto small = UnnamedSemaphore::init(shm.bytes().first(UnnamedSemaphore::kSize - 1), 0);
    ASSERT_FALSE(small);
    EXPECT_EQ(small.error().code(), std::errc::invalid_argument);
    auto skewed = UnnamedSemaphore::init(shm.bytes().subspan(1, UnnamedSemaphore::kSize), 0);
    ASSERT_FALSE(skewed);
    EXPECT_EQ(skewed.error().code(), std::errc::invalid_argument);
    auto too_big = UnnamedSemaphore::init(shm.bytes().first(UnnamedSemaphore::kSize),
                                         NamedSemaphore::kMaxValue + 1U);
    ASSERT_FALSE(too_big);
    EXPECT_EQ(too_big.error().code(), std::errc::invalid_argument);
}

}  // namespace
}  // namespace ipckit
