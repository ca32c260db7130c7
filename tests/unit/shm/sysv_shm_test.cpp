// SPDX-License-Identifier: MIT
#include "ipckit/shm/sysv_shm.hpp"

#include "ipc_registry.hpp"

#include <sys/ipc.h>
#include <sys/shm.h>
#include <unistd.h>

#include <cstring>

#include <gtest/gtest.h>

namespace ipckit {
namespace {

using test::IpcKind;

SysvShm private_segment(std::size_t size, Permissions perms = Permissions()) {
    auto seg = SysvShm::create(SysvKey::private_key(), size, perms).value();
    test::track_sysv_id(IpcKind::SysvShm, seg.id());
    return seg;
}

SysvKey fresh_key() {
    return SysvKey::from_number(static_cast<std::uint32_t>(test::unique_sysv_key(IpcKind::SysvShm)))
        .value();
}

template <class A>
concept WritableAttachment = requires(A a) {
    a.bytes()[0] = std::byte{1};
};
static_assert(WritableAttachment<SysvShmAttachment>);
static_assert(!WritableAttachment<SysvShmReadOnlyAttachment>);
static_assert(!std::is_copy_constructible_v<SysvShmAttachment>);

TEST(SysvShm, AttachDetachIsCountedAndStatReportsIt) {
    auto seg = private_segment(100000);
    auto st0 = seg.stat().value();
    EXPECT_EQ(st0.size, 100000U);
    EXPECT_EQ(st0.creator_pid, ::getpid());
    EXPECT_EQ(st0.attach_count, 0U);
    EXPECT_EQ(st0.attach_time, 0);
    EXPECT_EQ(st0.mode, 0600U);
    EXPECT_FALSE(st0.marked_for_removal);
    EXPECT_EQ(st0.key, 0);
    {
        auto a = seg.attach().value();
        auto b = seg.attach_read_only().value();
        EXPECT_EQ(a.size(), 100000U);
        std::memcpy(a.data(), "sysv", 4);
        EXPECT_EQ(std::memcmp(b.data(), "sysv", 4), 0);
        auto st = seg.stat().value();
        EXPECT_EQ(st.attach_count, 2U);
        EXPECT_EQ(st.last_pid, ::getpid());
        EXPECT_NE(st.attach_time, 0);
        auto moved = std::move(a);
        EXPECT_EQ(seg.stat().value().attach_count, 2U);  // a move is not a detach
    }
    auto st1 = seg.stat().value();
    EXPECT_EQ(st1.attach_count, 0U);
    EXPECT_NE(st1.detach_time, 0);
    ASSERT_TRUE(seg.remove());
}

TEST(SysvShm, TypedAccessIsBoundedBySegmentSize) {
    auto seg = private_segment(64);
    auto a = seg.attach().value();
    EXPECT_TRUE(a.as<std::uint64_t>(56));
    EXPECT_FALSE(a.as<std::uint64_t>(60));
    EXPECT_FALSE(a.as<std::uint64_t>(4));  // misaligned
    auto* counter = a.construct<std::atomic<std::uint32_t>>(0, 5U).value();
    EXPECT_EQ(counter->load(), 5U);
    auto ro = seg.attach_read_only().value();
    const std::uint32_t* v = ro.as<std::uint32_t>().value();
    EXPECT_EQ(*v, 5U);
    ASSERT_TRUE(seg.remove());
}

TEST(SysvShm, KeyedCreateOpenAndSizeMismatch) {
    const auto key = fresh_key();
    auto seg = SysvShm::create(key, 8192).value();
    auto dup = SysvShm::create(key, 8192);
    ASSERT_FALSE(dup);
    EXPECT_EQ(dup.error(), std::errc::file_exists);
    auto any = SysvShm::open(key);
    ASSERT_TRUE(any);
    EXPECT_EQ(any->id(), seg.id());
    auto same = SysvShm::open_or_create(key, 8192);
    ASSERT_TRUE(same);
    EXPECT_EQ(same->id(), seg.id());
    for (std::size_t wrong : {std::size_t{4096}, std::size_t{16384}}) {
        auto mismatch = SysvShm::open(key, wrong);
        ASSERT_FALSE(mismatch);
        EXPECT_EQ(mismatch.error(), std::errc::invalid_argument);
        EXPECT_NE(mismatch.error().message().find("segment " + key.to_string() +
                                                  " exists with size 8192, requested " +
                                                  std::to_string(wrong)),
                  std::string::npos)
            << mismatch.error().message();
        EXPECT_FALSE(SysvShm::open_or_create(key, wrong));
    }
    EXPECT_EQ(seg.stat().value().key, key.value());
    ASSERT_TRUE(seg.remove());
    auto gone = SysvShm::open(key);
    ASSERT_FALSE(gone);
    EXPECT_EQ(gone.error(), std::errc::no_such_file_or_directory);
}

TEST(SysvShm, BadInput) {
    auto zero = SysvShm::create(SysvKey::private_key(), 0);
    ASSERT_FALSE(zero);
    EXPECT_NE(zero.error().message().find("size is 0"), std::string::npos);
    auto priv = SysvShm::open(SysvKey::private_key());
    ASSERT_FALSE(priv);
    EXPECT_NE(priv.error().message().find("from_id"), std::string::npos);
    auto no_id = SysvShm::from_id(0x7ffffff0);
    ASSERT_FALSE(no_id);
    EXPECT_NE(no_id.error().message().find("shmctl(IPC_STAT)"), std::string::npos);
    EXPECT_FALSE(SysvKey::from_number(0));  // key 0 only through private_key() (A03)
}

TEST(SysvShm, SetChangesPermissions) {
    auto seg = private_segment(4096);
    ASSERT_TRUE(seg.set_permissions(Permissions(0640)));
    EXPECT_EQ(seg.stat().value().mode, 0640U);
    ASSERT_TRUE(seg.set(::getuid(), ::getgid(), Permissions(0600)));
    auto st = seg.stat().value();
    EXPECT_EQ(st.mode, 0600U);
    EXPECT_EQ(st.uid, ::getuid());
    ASSERT_TRUE(seg.remove());
}

TEST(SysvShm, RemoveWhileAttachedDestroysAtLastDetach) {
    auto seg = private_segment(4096);
    auto a = seg.attach().value();
    std::memcpy(a.data(), "alive", 5);
    ASSERT_TRUE(seg.remove());
    auto st = seg.stat().value();  // still there: marked, not destroyed (F27)
    EXPECT_TRUE(st.marked_for_removal);
    EXPECT_EQ(st.attach_count, 1U);
    EXPECT_EQ(std::memcmp(a.data(), "alive", 5), 0);
    auto late = seg.attach();  // Linux allows attaching a segment marked for destruction
    ASSERT_TRUE(late) << late.error().message();
    late->reset();
    a.reset();
    auto gone = seg.stat();
    ASSERT_FALSE(gone);
    EXPECT_EQ(gone.error(), std::errc::invalid_argument);
}

TEST(SysvShm, FromIdFindsTheKey) {
    const auto key = fresh_key();
    auto seg = SysvShm::create(key, 4096).value();
    auto again = SysvShm::from_id(seg.id()).value();
    EXPECT_EQ(again.key(), key);
    ASSERT_TRUE(seg.remove());
}

}  // namespace
}  // namespace ipckit
