// SPDX-License-Identifier: MIT
// sys::call retries a system call interrupted by a real signal. The child waits until the parent
// is asleep in read(2) (from /proc), signals it, waits until it is asleep again, then writes:
// deterministic, no sleeps.
#include "eventually.hpp"
#include "forked_child.hpp"
#include "ipckit/core/mapping.hpp"
#include "sys/syscall.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>

#include <gtest/gtest.h>

namespace ipckit {
namespace {

using namespace std::chrono_literals;

std::atomic<int>* g_handled = nullptr;  // in a shared mapping: the child reads the count
void count_signal(int /*sig*/) { g_handled->fetch_add(1); }

class EintrTest : public ::testing::Test {
protected:
    void SetUp() override {
        shared_ = std::move(Mapping::map_anonymous(4096).value());
        g_handled = new (shared_.data()) std::atomic<int>(0);
        struct sigaction sa {};
        sa.sa_handler = count_signal;
        sa.sa_flags = 0;  // no SA_RESTART: read(2) fails with EINTR
        ASSERT_EQ(::sigaction(SIGUSR1, &sa, &old_), 0);
        ASSERT_EQ(::pipe2(fds_, O_CLOEXEC), 0);
    }
    void TearDown() override {
        ::sigaction(SIGUSR1, &old_, nullptr);
        ::close(fds_[0]);
        ::close(fds_[1]);
    }
    // Child: interrupt the parent's read `signals` times, then write one byte.
    test::ForkedChild interrupter(int signals) {
        const pid_t parent = ::getpid();
        return test::ForkedChild::spawn([parent, signals, wfd = fds_[1]] {
            for (int i = 0; i < signals; ++i) {
                CHILD_CHECK(test::wait_until_blocked_in(parent, SYS_read, 10s));
                CHILD_CHECK(::kill(parent, SIGUSR1) == 0);
                CHILD_CHECK(test::eventually(
                    20s,
                    "the parent's SIGUSR1 handler to run",
                    [&] { return g_handled->load() > i; },
                    100us));
                CHILD_CHECK(g_handled->load() == i + 1);
            }
            CHILD_CHECK(test::wait_until_blocked_in(parent, SYS_read, 10s));
            CHILD_CHECK(::write(wfd, "x", 1) == 1);
            return 0;
        });
    }
    Mapping shared_;
    struct sigaction old_ {};
    int fds_[2] = {-1, -1};
};

TEST_F(EintrTest, RawReadFailsWithEintrWithoutRetry) {
    auto child = interrupter(1);
    char c = 0;
    auto r = sys::call_once("read", "pipe", [&] { return ::read(fds_[0], &c, 1); });
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), std::errc::interrupted);
    // Drain the byte the child writes after our read returned.
    auto again = sys::call("read", "pipe", [&] { return ::read(fds_[0], &c, 1); });
    EXPECT_TRUE(again);
    EXPECT_CHILD_OK(child.wait_for(10s));
}

TEST_F(EintrTest, CallRetriesReadInterruptedBySignals) {
    auto child = interrupter(3);
    char c = 0;
    auto r = sys::call("read", "pipe", [&] { return ::read(fds_[0], &c, 1); });
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(*r, 1);
    EXPECT_EQ(c, 'x');
    EXPECT_EQ(g_handled->load(), 3);
    EXPECT_CHILD_OK(child.wait_for(10s));
}

}  // namespace
}  // namespace ipckit
