// SPDX-License-Identifier: MIT
#include "forked_child.hpp"
#include "ipc_registry.hpp"
#include "ipckit/shm/memfd.hpp"
#include "ipckit/shm/posix_shm.hpp"
#include "shm_test_util.hpp"

#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <grp.h>

#include <gtest/gtest.h>

namespace ipckit {
namespace {

using namespace std::chrono_literals;

PosixName fresh_name() {
    return PosixName::make(test::unique_shm_name()).value();
}

TEST(PosixShmMp, AnotherProcessOpensByNameAndSharesTheBytes) {
    auto name = fresh_name();
    auto shm = PosixShm::create(name, 4096).value();
    auto mine = shm.map().value();
    auto child = test::ForkedChild::spawn([&] {
        auto peer = PosixShm::open(name);
        CHILD_CHECK(peer);
        CHILD_CHECK(peer->size().value() == 4096);
        auto r = peer->map();
        CHILD_CHECK(r);
        std::memcpy(r->data(), "from child", 11);
        return 0;
    });
    EXPECT_CHILD_OK(child.wait_for(10s));
    EXPECT_STREQ(reinterpret_cast<const char*>(mine.data()), "from child");
}

TEST(PosixShmMp, AForkChildsCopyOfTheCreatorDoesNotRemoveTheName) {
    auto name = fresh_name();
    auto shm = PosixShm::create(name, 4096).value();
    auto child = test::ForkedChild::spawn([&] {
        { PosixShm copy = std::move(shm); }  // the creator's destructor runs in the child
        return 0;
    });
    EXPECT_CHILD_OK(child.wait_for(10s));
    EXPECT_TRUE(PosixShm::open(name)) << "the child removed the parent's name";
}

TEST(PosixShmMp, TheCreatorDoesNotRemoveANameSomeoneElseRecreated) {
    auto name = fresh_name();
    {
        auto first = PosixShm::create(name, 4096).value();
        ASSERT_TRUE(PosixShm::unlink(name));
        auto second = PosixShm::create(name, 8192).value();
        second.keep_name();  // a peer's object now holds the name
    }  // `first` is destroyed here and must leave the peer's object alone
    auto still = PosixShm::open(name);
    ASSERT_TRUE(still) << "the first creator removed the re-created object";
    EXPECT_EQ(still->size().value(), 8192U);
}

TEST(PosixShmMp, WritingThroughAReadOnlyMappingFaults) {
    // The API prevents it at compile time (ReadOnlyRegion hands out const bytes, see
    // region_test.cpp); a caller who casts the const away gets SIGSEGV, not a silent write.
    auto name = fresh_name();
    auto shm = PosixShm::create(name, 4096).value();
    auto ro = shm.map_read_only().value();
    auto child = test::ForkedChild::spawn([&] {
        shm_test::default_fault_signals();
        auto* p = const_cast<std::byte*>(ro.data());
        *reinterpret_cast<volatile std::byte*>(p) = std::byte{1};
        return 0;
    });
    const auto res = child.wait_for(10s);
    EXPECT_FALSE(res.exited) << res.describe();
    EXPECT_EQ(res.signal, SIGSEGV) << res.describe();
    EXPECT_EQ(ro.data()[0], std::byte{0});
}

TEST(PosixShmMp, PermissionDeniedForAnotherUser) {
    if (::geteuid() != 0) {
        GTEST_SKIP() << "needs root to switch to the nobody user";
    }
    auto name = fresh_name();
    auto shm = PosixShm::create(name, 4096).value();  // 0600, owned by root
    auto child = test::ForkedChild::spawn([&] {
        CHILD_CHECK(shm_test::drop_to_nobody());
        auto r = PosixShm::open(name, Access::ReadOnly);
        CHILD_CHECK(!r);
        CHILD_CHECK(r.error() == std::errc::permission_denied);
        CHILD_CHECK(r.error().message() == "shm_open " + name.str() + ": Permission denied");
        auto u = PosixShm::unlink(name);  // /dev/shm is sticky: nobody cannot remove root's file
        CHILD_CHECK(!u);
        return 0;
    });
    EXPECT_CHILD_OK(child.wait_for(10s));
}

TEST(PosixShmMp, PeerTruncationIsTheCallersRiskButDetectable) {
    // F14: a peer with write access shrinks the object; our mapping's pages past the new end now
    // raise SIGBUS. ipckit cannot prevent that for a named object; size() reveals it, and a
    // sealed Memfd (next test) prevents it.
    auto name = fresh_name();
    auto shm = PosixShm::create(name, 2 * 4096).value();
    auto region = shm.map().value();
    region.data()[4096] = std::byte{1};
    auto peer = test::ForkedChild::spawn([&] {
        auto p = PosixShm::open(name);
        CHILD_CHECK(p);
        CHILD_CHECK(::ftruncate(p->native_handle(), 0) == 0);  // the hostile peer
        return 0;
    });
    EXPECT_CHILD_OK(peer.wait_for(10s));
    EXPECT_EQ(shm.size().value(), 0U);  // the check a careful reader makes
    auto toucher = test::ForkedChild::spawn([&] {
        shm_test::default_fault_signals();
        return static_cast<int>(*reinterpret_cast<volatile std::byte*>(region.data() + 4096));
    });
    const auto res = toucher.wait_for(10s);
    EXPECT_EQ(res.signal, SIGBUS) << res.describe();
    auto populate = region.populate();  // the checked way: an error, no signal
    ASSERT_FALSE(populate);
    EXPECT_EQ(populate.error(), std::errc::bad_address);
    EXPECT_NE(populate.error().message().find("SIGBUS"), std::string::npos);
}

// Sends `fd` over a Unix socket with SCM_RIGHTS (the stream area owns the real API).
bool send_fd(int sock, int fd) {
    char byte = 'f';
    iovec iov{&byte, 1};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
    return ::sendmsg(sock, &msg, MSG_NOSIGNAL) == 1;
}

int recv_fd(int sock) {
    char byte = 0;
    iovec iov{&byte, 1};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    if (::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != 1) {
        return -1;
    }
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    if (c == nullptr || c->cmsg_type != SCM_RIGHTS) {
        return -1;
    }
    int fd = -1;
    std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
    return fd;
}

TEST(PosixShmMp, SealedMemfdPassedOverAUnixSocket) {
    int sv[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    UniqueFd parent_end(sv[0]);
    UniqueFd child_end(sv[1]);
    auto child = test::ForkedChild::spawn([&] {
        // Receiver: refuses an unsealed segment, accepts a sealed one, cannot shrink it.
        const Seals need = Seals::Shrink | Seals::Grow;
        auto first = Memfd::from_received(UniqueFd(recv_fd(child_end.get())), need, 1 << 20);
        CHILD_CHECK(!first);
        CHILD_CHECK(first.error() == std::errc::operation_not_permitted);
        auto second = Memfd::from_received(UniqueFd(recv_fd(child_end.get())), need, 1 << 20);
        CHILD_CHECK(second);
        auto ro = second->map_read_only();
        CHILD_CHECK(ro);
        CHILD_CHECK(std::memcmp(ro->data(), "sealed frame", 12) == 0);
        CHILD_CHECK(::ftruncate(second->native_handle(), 0) == -1 && errno == EPERM);
        return 0;
    });
    auto unsealed = Memfd::create("unsealed", 4096).value();
    ASSERT_TRUE(send_fd(parent_end.get(), unsealed.native_handle()));
    auto sealed = Memfd::create("frame", 4096).value();
    {
        auto w = sealed.map().value();
        std::memcpy(w.data(), "sealed frame", 12);
    }
    ASSERT_TRUE(sealed.add_seals(Seals::Shrink | Seals::Grow));
    ASSERT_TRUE(send_fd(parent_end.get(), sealed.native_handle()));
    EXPECT_CHILD_OK(child.wait_for(10s));
}

TEST(PosixShmMp, MemfdIsSharedWithAForkedChild) {
    auto m = Memfd::create("forked", 4096).value();
    auto r = m.map().value();
    auto child = test::ForkedChild::spawn([&] {
        std::memcpy(r.data(), "child wrote", 12);
        return 0;
    });
    EXPECT_CHILD_OK(child.wait_for(10s));
    EXPECT_STREQ(reinterpret_cast<const char*>(r.data()), "child wrote");
}

}  // namespace
}  // namespace ipckit
