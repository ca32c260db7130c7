// SPDX-License-Identifier: MIT
// SysvShm::remove(id) on real segments: what `ipckit rm` uses for a segment it knows only by id.
#include "ipc_registry.hpp"
#include "ipckit/shm/sysv_shm.hpp"

#include <gtest/gtest.h>

namespace ipckit {
namespace {

SysvShm private_segment() {
    auto seg = SysvShm::create(SysvKey::private_key(), 4096).value();
    test::track_sysv_id(test::IpcKind::SysvShm, seg.id());
    return seg;
}

TEST(SysvShmById, RemoveRemovesAnUnattachedSegment) {
    auto seg = private_segment();

    ASSERT_TRUE(SysvShm::remove(seg.id()));

    auto st = seg.stat();
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error(), std::errc::invalid_argument) << st.error().message();
}

TEST(SysvShmById, RemoveOfAnAttachedSegmentMarksItUntilTheLastDetach) {
    auto seg = private_segment();
    auto at = seg.attach().value();

    ASSERT_TRUE(SysvShm::remove(seg.id()));

    auto st = seg.stat();
    ASSERT_TRUE(st) << st.error().message();
    EXPECT_TRUE(st->marked_for_removal);
    at.reset();
    EXPECT_EQ(seg.stat().error(), std::errc::invalid_argument);
}

TEST(SysvShmById, RemoveOfAnIdThatIsGoneFailsWithInvalidArgument) {
    auto seg = private_segment();
    ASSERT_TRUE(seg.remove());

    auto again = SysvShm::remove(seg.id());

    ASSERT_FALSE(again);
    EXPECT_EQ(again.error(), std::errc::invalid_argument) << again.error().message();
}

}  // namespace
}  // namespace ipckit
