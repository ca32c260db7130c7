// SPDX-License-Identifier: MIT
// SysvSemaphoreSet::remove(id) on real sets: what `ipckit rm` uses for a set it knows only by id.
#include "ipc_registry.hpp"
#include "ipckit/sync/sysv_semaphore_set.hpp"

#include <array>

#include <gtest/gtest.h>

namespace ipckit {
namespace {

SysvSemaphoreSet private_set() {
    const std::array<unsigned short, 2> initial{1, 0};
    auto set = SysvSemaphoreSet::create(SysvKey::private_key(), initial).value();
    test::track_sysv_id(test::IpcKind::SysvSem, set.id());
    return set;
}

TEST(SysvSemaphoreSetById, RemoveRemovesTheSet) {
    auto set = private_set();

    ASSERT_TRUE(SysvSemaphoreSet::remove(set.id()));

    auto st = set.stat();
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error(), std::errc::invalid_argument) << st.error().message();
}

TEST(SysvSemaphoreSetById, RemoveOfAnIdThatIsGoneFailsWithInvalidArgument) {
    auto set = private_set();
    ASSERT_TRUE(set.remove());

    auto again = SysvSemaphoreSet::remove(set.id());

    ASSERT_FALSE(again);
    EXPECT_EQ(again.error(), std::errc::invalid_argument) << again.error().message();
}

}  // namespace
}  // namespace ipckit
