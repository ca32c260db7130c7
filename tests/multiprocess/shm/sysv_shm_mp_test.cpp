// SPDX-License-Identifier: MIT
#include "forked_child.hpp"
#include "ipc_registry.hpp"
#include "ipckit/shm/sysv_shm.hpp"
#include "shm_test_util.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <grp.h>

#include <gtest/gtest.h>

namespace ipckit {
namespace {

using namespace std::chrono_literals;
using test::IpcKind;

SysvKey fresh_key() {
    return SysvKey::from_number(static_cast<std::uint32_t>(test::unique_sysv_key(IpcKind::SysvShm)))
        .value();
}

SysvShm private_segment(std::size_t size) {
    auto seg = SysvShm::create(SysvKey::private_key(), size).value();
    test::track_sysv_id(IpcKind::SysvShm, seg.id());
    return seg;
}

// A pipe the child writes one byte into once it is ready.
struct Ready {
    int fds[2] = {-1, -1};
    Ready() { EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0); }
    ~Ready() {
        ::close(fds[0]);
        ::close(fds[1]);
    }
    void signal() const { (void)!::write(fds[1], "r", 1); }
    bool wait() const {
        char c = 0;
        return ::read(fds[0], &c, 1) == 1;
    }
};

TEST(SysvShmMp, ChildAttachesByKeyAndStatSeesIt) {
    const auto key = fresh_key();
    auto seg = SysvShm::create(key, 8192).value();
    auto mine = seg.attach().value();
    Ready ready;
    Ready done;
    auto child = test::ForkedChild::spawn([&] {
        auto s = SysvShm::open(key, 8192);
        CHILD_CHECK(s);
        auto a = s->attach();
        CHILD_CHECK(a);
        std::memcpy(a->data(), "child", 6);
        ready.signal();
        done.wait();
        return 0;
    });
    ASSERT_TRUE(ready.wait());
    auto st = seg.stat().value();
    EXPECT_EQ(st.attach_count, 3U);  // ours, the copy fork gave the child, the child's own
    EXPECT_STREQ(reinterpret_cast<const char*>(mine.data()), "child");
    done.signal();
    EXPECT_CHILD_OK(child.wait_for(10s));
    EXPECT_EQ(seg.stat().value().attach_count, 1U);
    ASSERT_TRUE(seg.remove());
}

TEST(SysvShmMp, KilledWhileAttachedTheCountRecovers) {
    auto seg = private_segment(4096);
    Ready ready;
    auto child = test::ForkedChild::spawn([&] {
        auto a = seg.attach();
        CHILD_CHECK(a);
        ready.signal();
        ::pause();  // killed here, never detaches itself
        return 0;
    });
    ASSERT_TRUE(ready.wait());
    auto st = seg.stat().value();
    EXPECT_EQ(st.attach_count, 1U);
    EXPECT_EQ(st.last_pid, child.pid());
    child.kill(SIGKILL);
    const auto res = child.wait_for(10s);
    EXPECT_EQ(res.signal, SIGKILL) << res.describe();
    EXPECT_EQ(seg.stat().value().attach_count, 0U);  // the kernel detached the dead process
    ASSERT_TRUE(seg.remove());
}

TEST(SysvShmMp, RemoveWhileAnotherProcessIsAttached) {
    const auto key = fresh_key();
    auto seg = SysvShm::create(key, 4096).value();
    Ready attached;
    Ready removed;
    Ready wrote;
    auto child = test::ForkedChild::spawn([&] {
        auto a = seg.attach();
        CHILD_CHECK(a);
        attached.signal();
        removed.wait();
        std::memcpy(a->data(), "still here", 11);  // the memory lives on after IPC_RMID (F27)
        auto st = seg.stat();
        CHILD_CHECK(st && st->marked_for_removal);
        wrote.signal();
        return 0;  // _exit detaches: the last detach destroys the segment
    });
    ASSERT_TRUE(attached.wait());
    ASSERT_TRUE(seg.remove());
    auto by_key = SysvShm::open(key);  // the key is gone at once
    ASSERT_FALSE(by_key);
    EXPECT_EQ(by_key.error(), std::errc::no_such_file_or_directory);
    auto st = seg.stat().value();
    EXPECT_TRUE(st.marked_for_removal);
    EXPECT_EQ(st.attach_count, 1U);
    removed.signal();
    ASSERT_TRUE(wrote.wait());
    EXPECT_CHILD_OK(child.wait_for(10s));
    auto gone = seg.stat();
    ASSERT_FALSE(gone);
    EXPECT_EQ(gone.error(), std::errc::invalid_argument);  // destroyed at the last detach
}

TEST(SysvShmMp, WritingThroughAReadOnlyAttachmentFaults) {
    auto seg = private_segment(4096);
    auto ro = seg.attach_read_only().value();
    auto child = test::ForkedChild::spawn([&] {
        shm_test::default_fault_signals();
        *reinterpret_cast<volatile std::byte*>(const_cast<std::byte*>(ro.data())) = std::byte{1};
        return 0;
    });
    const auto res = child.wait_for(10s);
    EXPECT_EQ(res.signal, SIGSEGV) << res.describe();
    ro.reset();
    ASSERT_TRUE(seg.remove());
}

TEST(SysvShmMp, PermissionDeniedForAnotherUser) {
    if (::geteuid() != 0) {
        GTEST_SKIP() << "needs root to switch to the nobody user";
    }
    const auto key = fresh_key();
    auto seg = SysvShm::create(key, 4096, Permissions(0600)).value();
    ASSERT_TRUE(seg.set_permissions(Permissions(0640)));  // group read only; nobody is "other"
    auto child = test::ForkedChild::spawn([&] {
        CHILD_CHECK(shm_test::drop_to_nobody());
        auto by_key = SysvShm::open(key);
        CHILD_CHECK(!by_key && by_key.error() == std::errc::permission_denied);
        auto by_id = SysvShm::from_id(seg.id());  // IPC_STAT needs read permission too
        CHILD_CHECK(!by_id && by_id.error() == std::errc::permission_denied);
        auto rm = seg.remove();  // only the owner/creator may IPC_RMID
        CHILD_CHECK(!rm && rm.error() == std::errc::operation_not_permitted);
        return 0;
    });
    EXPECT_CHILD_OK(child.wait_for(10s));
    ASSERT_TRUE(seg.set_permissions(Permissions(0604)));  // other may read: attach read-only only
    auto child2 = test::ForkedChild::spawn([&] {
        CHILD_CHECK(shm_test::drop_to_nobody());
        CHILD_CHECK(!SysvShm::open(key, 0, Access::ReadWrite));
        // root's segment: trusted explicitly (an owner check refuses another uid's by default)
        auto s = SysvShm::open(key, 0, Access::ReadOnly, Ownership().trust(0));
        CHILD_CHECK(s);
        auto rw = s->attach();
        CHILD_CHECK(!rw && rw.error() == std::errc::permission_denied);
        auto ro = s->attach_read_only();
        CHILD_CHECK(ro);
        return 0;
    });
    EXPECT_CHILD_OK(child2.wait_for(10s));
    ASSERT_TRUE(seg.remove());
}

}  // namespace
}  // namespace ipckit
