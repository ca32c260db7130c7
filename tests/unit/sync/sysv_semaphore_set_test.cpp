// SPDX-License-Identifier: MIT
#include "ipckit/sync/sysv_semaphore_set.hpp"

#include "ipc_registry.hpp"

#include <sys/sem.h>
#include <unistd.h>

#include <array>

#include <gtest/gtest.h>

namespace ipckit {
namespace {

using namespace std::chrono_literals;

SysvSemaphoreSet make_private(std::span<const unsigned short> initial) {
    auto set = SysvSemaphoreSet::create(SysvKey::private_key(), initial).value();
    test::track_sysv_id(test::IpcKind::SysvSem, set.id());
    return set;
}

TEST(SysvSemaphoreSet, CreateSetsEveryValueAndMarksItInitialised) {
    const std::array<unsigned short, 3> init{1, 0, 7};
    auto set = make_private(init);
    EXPECT_EQ(set.size(), 3);
    EXPECT_EQ(set.values().value(), std::vector<unsigned short>(init.begin(), init.end()));
    EXPECT_EQ(set.value(2).value(), 7);
    const auto st = set.stat().value();
    EXPECT_EQ(st.nsems, 3);
    EXPECT_NE(st.last_op, 0) << "sem_otime is the initialised marker";
    EXPECT_EQ(st.mode, 0600U);
    EXPECT_EQ(st.uid, ::geteuid());
    EXPECT_EQ(set.last_pid(0).value(), ::getpid());
    EXPECT_TRUE(set.remove());
}

TEST(SysvSemaphoreSet, MultiOpIsAllOrNothing) {
    const std::array<unsigned short, 2> init{1, 0};
    auto set = make_private(init);
    // Take sem 0 and sem 1 together: sem 1 is 0, so neither changes.
    const SemOp both[] = {{0, -1, false}, {1, -1, false}};
    EXPECT_FALSE(set.try_apply(both).value());
    EXPECT_EQ(set.value(0).value(), 1);
    ASSERT_TRUE(set.post(1));
    EXPECT_TRUE(set.try_apply(both).value());
    EXPECT_EQ(set.values().value(), (std::vector<unsigned short>{0, 0}));
}

TEST(SysvSemaphoreSet, WaitForZeroAndTimedOps) {
    const std::array<unsigned short, 1> init{1};
    auto set = make_private(init);
    EXPECT_FALSE(set.wait_zero_until(0, Deadline::after(10ms)).value());
    EXPECT_TRUE(set.wait_until(0, Deadline::after(1s)).value());
    EXPECT_TRUE(set.wait_zero_until(0, Deadline::now()).value());
    EXPECT_FALSE(set.wait_until(0, Deadline::after(10ms)).value());
    EXPECT_FALSE(set.try_wait(0).value());
}

TEST(SysvSemaphoreSet, SetValueAndSetValuesCheckSemvmx) {
    const std::array<unsigned short, 2> init{0, 0};
    auto set = make_private(init);
    ASSERT_TRUE(set.set_value(1, 5));
    EXPECT_EQ(set.value(1).value(), 5);
    auto too_big = set.set_value(0, SysvSemaphoreSet::kMaxValue + 1);
    ASSERT_FALSE(too_big);
    EXPECT_EQ(too_big.error().code(), std::errc::result_out_of_range);
    const std::array<unsigned short, 2> bad{1, 40000};
    auto r = set.set_values(bad);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), std::errc::invalid_argument);
    const std::array<unsigned short, 2> good{3, 4};
    ASSERT_TRUE(set.set_values(good));
    EXPECT_EQ(set.values().value(), (std::vector<unsigned short>{3, 4}));
}

TEST(SysvSemaphoreSet, PostAtSemvmxIsOutOfRange) {
    const std::array<unsigned short, 1> init{SysvSemaphoreSet::kMaxValue};
    auto set = make_private(init);
    auto r = set.post(0);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), std::errc::result_out_of_range);
    EXPECT_NE(r.error().message().find("SEMVMX"), std::string::npos);
}

TEST(SysvSemaphoreSet, CreateRejectsValuesAboveSemvmx) {
    const std::array<unsigned short, 1> init{40000};
    auto r = SysvSemaphoreSet::create(SysvKey::private_key(), init);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), std::errc::invalid_argument);
}

TEST(SysvSemaphoreSet, KeyedCreateIsExclusiveAndOpenFindsIt) {
    const auto key = SysvKey::from_number(test::unique_sysv_key(test::IpcKind::SysvSem)).value();
    const std::array<unsigned short, 2> init{2, 3};
    auto set = SysvSemaphoreSet::create(key, init).value();
    auto again = SysvSemaphoreSet::create(key, init);
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code(), std::errc::file_exists);
    auto opened = SysvSemaphoreSet::open(key).value();
    EXPECT_EQ(opened.id(), set.id());
    EXPECT_EQ(opened.size(), 2);
    auto either = SysvSemaphoreSet::open_or_create(key, init).value();
    EXPECT_EQ(either.id(), set.id());
}

TEST(SysvSemaphoreSet, OpenMissingKeyIsNoSuchFile) {
    const auto key = SysvKey::from_number(test::unique_sysv_key(test::IpcKind::SysvSem)).value();
    auto r = SysvSemaphoreSet::open(key);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), std::errc::no_such_file_or_directory);
}

TEST(SysvSemaphoreSet, OpenOfASetNobodyInitialisedTimesOut) {
    // A creator that crashed between semget and initialisation: sem_otime stays 0.
    const key_t raw = test::unique_sysv_key(test::IpcKind::SysvSem);
    const int id = ::semget(raw, 1, IPC_CREAT | IPC_EXCL | 0600);
    ASSERT_GE(id, 0);
    auto r = SysvSemaphoreSet::open(SysvKey::from_number(raw).value(), Deadline::after(30ms));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), std::errc::timed_out);
    EXPECT_NE(r.error().detail().find("never initialised"), std::string::npos);
}

TEST(SysvSemaphoreSet, OperationsOnARemovedSetReportIdentifierRemovedOrInvalid) {
    const std::array<unsigned short, 1> init{1};
    auto set = make_private(init);
    ASSERT_TRUE(set.remove());
    auto r = set.try_wait(0);
    ASSERT_FALSE(r);
    // A removed id is EINVAL (or EIDRM if the slot was reused); never "would block".
    EXPECT_TRUE(r.error().code() == std::errc::invalid_argument ||
                r.error().code() == std::errc::identifier_removed)
        << r.error().message();
}

}  // namespace
}  // namespace ipckit
