// SPDX-License-Identifier: MIT
// Unix sockets between processes: echo with deadlines, a memfd passed to a child that uses it,
// peer credentials and pidfds of another process, per-message credentials.
#include "forked_child.hpp"
#include "ipc_registry.hpp"
#include "ipckit/core/io.hpp"
#include "ipckit/socket/listener.hpp"
#include "ipckit/socket/socket.hpp"
#include "socket_test_util.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <fstream>

#include <gtest/gtest.h>

namespace ipckit {
namespace {

using namespace std::chrono_literals;
using socket_test::bytes_of;
using socket_test::text_of;

// "Pid:" from /proc/self/fdinfo/<pidfd>: the process a pidfd refers to.
pid_t pid_of_pidfd(int pidfd) {
    std::ifstream in("/proc/self/fdinfo/" + std::to_string(pidfd));
    std::string key;
    while (in >> key) {
        if (key == "Pid:") {
            pid_t pid = 0;
            in >> pid;
            return pid;
        }
    }
    return -1;
}

TEST(UnixPeer, EchoBetweenProcessesOverAStreamSocket) {
    const std::string path = test::unique_path("echo.sock");
    auto addr = SocketAddress::unix_domain(path).value();
    auto listener = Listener::bind(addr);
    ASSERT_TRUE(listener) << listener.error().message();
    auto child = test::ForkedChild::spawn([&] {
        auto s = Socket::connect(addr, SocketType::Stream, Deadline::after(10s));
        CHILD_CHECK(s);
        for (int i = 0; i < 50; ++i) {
            const std::string msg = "message " + std::to_string(i);
            CHILD_CHECK(s->send(bytes_of(msg), Deadline::after(10s)));
            std::array<std::byte, 64> buf{};
            std::size_t got = 0;
            while (got < msg.size()) {
                auto n = s->receive(std::span(buf).subspan(got), Deadline::after(10s));
                CHILD_CHECK(n && n->has_value() && **n > 0);
                got += **n;
            }
            CHILD_CHECK(text_of(std::span(buf).first(got)) == msg);
        }
        return 0;
    });
    auto conn = listener->accept(Deadline::after(10s));
    ASSERT_TRUE(conn && conn->has_value());
    std::array<std::byte, 256> buf{};
    for (;;) {
        auto n = (*conn)->receive(buf, Deadline::after(10s));
        ASSERT_TRUE(n && n->has_value());
        if (**n == 0) {
            break;
        }
        ASSERT_TRUE((*conn)->send(std::span(buf).first(**n), Deadline::after(10s)));
    }
    EXPECT_CHILD_OK(child.wait_for(10s));
}

TEST(UnixPeer, AMemfdPassedToAnotherProcessIsUsedThere) {
    auto [parent_end, child_end] = Socket::pair(SocketType::SeqPacket).value();
    auto child = test::ForkedChild::spawn([&] {
        parent_end.close();
        std::array<std::byte, 16> buf{};
        auto m = child_end.receive_with_fds(buf, 2, Deadline::after(10s));
        CHILD_CHECK(m && m->has_value());
        CHILD_CHECK((*m)->fds.size() == 2);
        CHILD_CHECK(socket_test::is_cloexec((*m)->fds[0].get()));
        // Read what the parent wrote into the memfd, write an answer into the pipe.
        char text[64] = {};
        const ssize_t n = ::pread((*m)->fds[0].get(), text, sizeof text - 1, 0);
        CHILD_CHECK(n > 0);
        const std::string answer = "child read: " + std::string(text, static_cast<std::size_t>(n));
        CHILD_CHECK(::write((*m)->fds[1].get(), answer.data(), answer.size()) ==
                    static_cast<ssize_t>(answer.size()));
        return 0;
    });
    child_end.close();
    UniqueFd memfd(::memfd_create("ipckit-test", MFD_CLOEXEC));
    ASSERT_TRUE(memfd);
    ASSERT_EQ(::write(memfd.get(), "from the parent", 15), 15);
    int p[2];
    ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
    UniqueFd r(p[0]);
    UniqueFd w(p[1]);
    const std::array<int, 2> fds{memfd.get(), w.get()};
    ASSERT_TRUE(parent_end.send_fds(bytes_of("fds"), fds, Deadline::after(10s)));
    w.reset();
    std::array<std::byte, 64> buf{};
    auto n = read_exact(r.get(), buf, Deadline::after(10s), "pipe");
    ASSERT_TRUE(n) << n.error().message();
    EXPECT_EQ(text_of(std::span(buf).first(*n)), "child read: from the parent");
    EXPECT_CHILD_OK(child.wait_for(10s));
}

TEST(UnixPeer, PeerCredentialsAndPidfdNameTheConnectingProcess) {
    const std::string path = test::unique_path("cred.sock");
    auto addr = SocketAddress::unix_domain(path).value();
    auto listener = Listener::bind(addr);
    ASSERT_TRUE(listener);
    auto child = test::ForkedChild::spawn([&] {
        auto s = Socket::connect(addr, SocketType::Stream, Deadline::after(10s));
        CHILD_CHECK(s);
        auto cred = s->peer_credentials();  // the listener's side: the parent
        CHILD_CHECK(cred && cred->pid == ::getppid());
        std::array<std::byte, 1> buf{};
        auto n = s->receive(buf, Deadline::after(10s));  // wait for the parent to finish
        CHILD_CHECK(n && n->has_value());
        return 0;
    });
    auto conn = listener->accept(Deadline::after(10s));
    ASSERT_TRUE(conn && conn->has_value());
    auto cred = (*conn)->peer_credentials();
    ASSERT_TRUE(cred) << cred.error().message();
    EXPECT_EQ(cred->pid, child.pid());
    EXPECT_EQ(cred->uid, ::geteuid());
    auto pidfd = (*conn)->peer_pidfd();
    ASSERT_TRUE(pidfd) << pidfd.error().message();
    if (pidfd->has_value()) {
        EXPECT_EQ(pid_of_pidfd((*pidfd)->get()), child.pid());
    }
    (*conn)->close();
    EXPECT_CHILD_OK(child.wait_for(10s));
}

TEST(UnixPeer, EachMessageCarriesItsSendersCredentials) {
    const std::string path = test::unique_path("passcred.sock");
    auto receiver = Socket::bind(SocketAddress::unix_domain(path).value());
    ASSERT_TRUE(receiver);
    ASSERT_TRUE(receiver->set_pass_credentials(true));
    auto child = test::ForkedChild::spawn([&] {
        auto s = Socket::open(AddressFamily::Unix, SocketType::Datagram);
        CHILD_CHECK(s);
        CHILD_CHECK(s->send_to(bytes_of("from child"), SocketAddress::unix_domain(path).value()));
        return 0;
    });
    ASSERT_TRUE(Socket::open(AddressFamily::Unix, SocketType::Datagram)
                    .value()
                    .send_to(bytes_of("from parent"), SocketAddress::unix_domain(path).value()));
    int from_child = 0;
    int from_parent = 0;
    for (int i = 0; i < 2; ++i) {
        std::array<std::byte, 32> buf{};
        auto m = receiver->receive_with_fds(buf, 0, Deadline::after(10s));
        ASSERT_TRUE(m && m->has_value());
        ASSERT_TRUE((*m)->credentials.has_value());
        const std::string text = text_of(std::span(buf).first((*m)->size));
        if (text == "from child") {
            EXPECT_EQ((*m)->credentials->pid, child.pid());
            ++from_child;
        } else {
            EXPECT_EQ((*m)->credentials->pid, ::getpid());
            ++from_parent;
        }
    }
    EXPECT_EQ(from_child, 1);
    EXPECT_EQ(from_parent, 1);
    EXPECT_CHILD_OK(child.wait_for(10s));
}

TEST(UnixPeer, DescriptorsThatFindNoFreeSlotAreReportedAndNoneLeak) {
    // B20/A20: the receiver is at RLIMIT_NOFILE. The kernel installs what fits, drops the rest
    // and sets MSG_CTRUNC; the receiver must report it and close the ones that did arrive.
    auto [a, b] = Socket::pair(SocketType::SeqPacket).value();
    auto child = test::ForkedChild::spawn([&] {
        a.close();
        const int open_now = socket_test::open_fd_count();
        const rlimit low{static_cast<rlim_t>(open_now + 6), static_cast<rlim_t>(open_now + 6)};
        CHILD_CHECK(::setrlimit(RLIMIT_NOFILE, &low) == 0);
        std::array<std::byte, 8> buf{};
        auto m = b.receive_with_fds(buf, 20, Deadline::after(10s));
        CHILD_CHECK(!m);
        CHILD_CHECK(m.error().message().find("ancillary data truncated") != std::string::npos);
        CHILD_CHECK(socket_test::open_fd_count() == open_now);
        return 0;
    });
    b.close();
    std::vector<UniqueFd> owned;
    std::vector<int> fds;
    for (int i = 0; i < 20; ++i) {
        owned.emplace_back(::open("/dev/null", O_RDONLY | O_CLOEXEC));
        fds.push_back(owned.back().get());
    }
    ASSERT_TRUE(a.send_fds(bytes_of("many"), fds, Deadline::after(10s)));
    EXPECT_CHILD_OK(child.wait_for(10s));
}

TEST(UnixPeer, ABlockedAcceptIsWokenByAConnectFromAnotherProcess) {
    const std::string path = test::unique_path("wake.sock");
    auto addr = SocketAddress::unix_domain(path).value();
    auto listener = Listener::bind(addr);
    ASSERT_TRUE(listener);
    auto child = test::ForkedChild::spawn([&] {
        auto c = listener->accept(Deadline::after(10s));
        CHILD_CHECK(c && c->has_value());
        return 0;
    });
    ASSERT_TRUE(test::wait_until_blocked_in(child.pid(), SYS_poll, 10s));
    auto s = Socket::connect(addr, SocketType::Stream, Deadline::after(10s));
    ASSERT_TRUE(s) << s.error().message();
    EXPECT_CHILD_OK(child.wait_for(10s));
}

}  // namespace
}  // namespace ipckit
