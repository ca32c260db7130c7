// SPDX-License-Identifier: MIT
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <pthread.h>

#include <numeric>
#include <vector>

#include <gtest/gtest.h>

#include "core/io_sigpipe.hpp"
#include "forked_child.hpp"
#include "ipc_registry.hpp"
#include "ipckit/core/io.hpp"
#include "ipckit/core/unique_fd.hpp"

namespace ipckit {
namespace {

using namespace std::chrono_literals;

struct Pipe {
    UniqueFd r;
    UniqueFd w;
    explicit Pipe(int flags = 0) {
        int fds[2];
        EXPECT_EQ(::pipe2(fds, O_CLOEXEC | flags), 0);
        r.reset(fds[0]);
        w.reset(fds[1]);
    }
};

std::span<const std::byte> bytes_of(const std::string& s) { return std::as_bytes(std::span(s)); }

// The parent runs with SIGPIPE at its default action (death) to prove the shield works.
class DefaultSigpipe : public ::testing::Test {
protected:
    void SetUp() override { old_ = ::signal(SIGPIPE, SIG_DFL); }
    void TearDown() override { ::signal(SIGPIPE, old_); }
    sighandler_t old_{};
};

TEST_F(DefaultSigpipe, WriteToAPipeWithNoReaderIsEpipeNotDeath) {
    Pipe p;
    p.r.reset();
    auto r = write_all(p.w.get(), bytes_of("hello"), FdKind::Other, Deadline::never(), "pipe");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), std::errc::broken_pipe);
    EXPECT_NE(r.error().message().find("wrote 0 of 5 bytes"), std::string::npos);
    sigset_t pending;
    sigpending(&pending);
    EXPECT_EQ(sigismember(&pending, SIGPIPE), 0);  // consumed, not left pending
}

// The signal-mask shield is what kernels before 6.18 get; force it so it stays tested here.
TEST_F(DefaultSigpipe, MaskShieldFallbackIsEpipeNotDeath) {
    struct Force {
        Force() { detail::force_sigpipe_mask_shield = true; }
        ~Force() { detail::force_sigpipe_mask_shield = false; }
        Force(const Force&) = delete;
        Force& operator=(const Force&) = delete;
    } force;
    Pipe p;
    p.r.reset();
    auto r = write_all(p.w.get(), bytes_of("hello"), FdKind::Other, Deadline::never(), "pipe");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), std::errc::broken_pipe);
    sigset_t pending;
    sigpending(&pending);
    EXPECT_EQ(sigismember(&pending, SIGPIPE), 0);
}

// With RWF_NOSIGNAL no SIGPIPE is generated at all, so a thread that blocks SIGPIPE is not left
// with one pending either (the mask shield leaves it to such a thread).
TEST_F(DefaultSigpipe, RwfNosignalWriteLeavesNoSigpipePendingInABlockingThread) {
    if (!detail::kernel_honours_rwf_nosignal()) {
        GTEST_SKIP() << "kernel before 6.18: no RWF_NOSIGNAL";
    }
    sigset_t pipe_only;
    sigset_t old;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    ASSERT_EQ(pthread_sigmask(SIG_BLOCK, &pipe_only, &old), 0);
    Pipe p;
    p.r.reset();
    auto r = write_all(p.w.get(), bytes_of("hello"), FdKind::Other, Deadline::never(), "pipe");
    sigset_t pending;
    sigpending(&pending);
    const bool left_pending = sigismember(&pending, SIGPIPE) == 1;
    if (left_pending) {
        const timespec zero{0, 0};
        (void)sigtimedwait(&pipe_only, nullptr, &zero);
    }
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), std::errc::broken_pipe);
    EXPECT_FALSE(left_pending);
}

// pwritev2 with offset -1 must behave as write(2): at the file position, which it advances.
TEST(Io, OtherWritesToAFileUseAndAdvanceTheFilePosition) {
    const std::string path = test::unique_path("io");
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    ASSERT_TRUE(fd.valid());
    ASSERT_TRUE(write_all(fd.get(), bytes_of("hello"), FdKind::Other, Deadline::never(), path));
    ASSERT_EQ(::lseek(fd.get(), 0, SEEK_SET), 0);
    ASSERT_TRUE(write_all(fd.get(), bytes_of("J"), FdKind::Other, Deadline::never(), path));
    EXPECT_EQ(::lseek(fd.get(), 0, SEEK_CUR), 1);
    char buf[8] = {};
    ASSERT_EQ(::pread(fd.get(), buf, sizeof buf, 0), 5);
    EXPECT_EQ(std::string(buf, 5), "Jello");
}

TEST_F(DefaultSigpipe, SocketWriteToAClosedPeerIsEpipeNotDeath) {
    int sv[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    UniqueFd a(sv[0]);
    ::close(sv[1]);
    auto r = write_all(a.get(), bytes_of("x"), FdKind::Socket, Deadline::never(), "socketpair");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), std::errc::broken_pipe);
}

TEST(Io, WriteAllResumesPartialWritesAcrossProcesses) {
    Pipe p;
    std::vector<std::byte> big(4 << 20);
    for (std::size_t i = 0; i < big.size(); ++i) {
        big[i] = static_cast<std::byte>(i * 7);
    }
    auto child = test::ForkedChild::spawn([&] {
        p.w.reset();
        std::vector<std::byte> got(big.size());
        auto n = read_exact(p.r.get(), got, Deadline::after(20s), "pipe");
        CHILD_CHECK(n && *n == big.size());
        CHILD_CHECK(got == big);
        return 0;
    });
    p.r.reset();
    ASSERT_TRUE(write_all(p.w.get(), big, FdKind::Other, Deadline::never(), "pipe"));
    p.w.reset();
    EXPECT_CHILD_OK(child.wait_for(20s));
}

TEST(Io, ReadSomeTimesOutAsAnOrdinaryOutcome) {
    Pipe p;
    std::byte buf[8];
    auto r = read_some(p.r.get(), buf, Deadline::after(10ms), "pipe");
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->has_value());
}

TEST(Io, ReadExactStopsShortOnlyAtEndOfFile) {
    Pipe p;
    ASSERT_TRUE(write_all(p.w.get(), bytes_of("abc"), FdKind::Other, Deadline::never(), "pipe"));
    p.w.reset();
    std::byte buf[8];
    auto n = read_exact(p.r.get(), buf, Deadline::after(5s), "pipe");
    ASSERT_TRUE(n);
    EXPECT_EQ(*n, 3U);
}

TEST(Io, ReadExactTimeoutReportsProgress) {
    Pipe p;
    ASSERT_TRUE(write_all(p.w.get(), bytes_of("ab"), FdKind::Other, Deadline::never(), "pipe"));
    std::byte buf[8];
    auto n = read_exact(p.r.get(), buf, Deadline::after(20ms), "pipe");
    ASSERT_FALSE(n);
    EXPECT_EQ(n.error().code(), std::errc::timed_out);
    EXPECT_NE(n.error().message().find("read 2 of 8 bytes"), std::string::npos);
}

TEST(Io, NonBlockingWriteToAFullPipeTimesOutWithProgress) {
    Pipe p(O_NONBLOCK);
    std::vector<std::byte> big(1 << 20);
    auto r = write_all(p.w.get(), big, FdKind::Other, Deadline::after(20ms), "pipe");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), std::errc::timed_out);
    EXPECT_NE(r.error().detail().find("of 1048576 bytes"), std::string::npos);
}

}  // namespace
}  // namespace ipckit

namespace ipckit {
namespace {

TEST(Io, IgnoringSigpipeProcessWideKeepsEpipeAnErrorWithoutTheShield) {
    // In a child: the process-wide setting must not leak into the other tests of this binary.
    auto child = test::ForkedChild::spawn([] {
        ::signal(SIGPIPE, SIG_DFL);
        CHILD_CHECK(ignore_sigpipe_process_wide());
        struct sigaction now {};
        CHILD_CHECK(::sigaction(SIGPIPE, nullptr, &now) == 0 && now.sa_handler == SIG_IGN);
        int fds[2];
        CHILD_CHECK(::pipe2(fds, O_CLOEXEC) == 0);
        ::close(fds[0]);
        const std::string msg = "x";
        auto r = write_all(fds[1], std::as_bytes(std::span(msg)), FdKind::Other, Deadline::never(), "pipe");
        CHILD_CHECK(!r && r.error().code() == std::errc::broken_pipe);
        return 0;
    });
    EXPECT_CHILD_OK(child.wait_for(10s));
}

}  // namespace
}  // namespace ipckit
