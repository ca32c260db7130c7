// SPDX-License-Identifier: MIT
#include "ipckit/signal/signal_action.hpp"
#include "ipckit/signal/signal_fd.hpp"
#include "ipckit/signal/signal_mask.hpp"
#include "ipckit/signal/signal_queue.hpp"
#include "ipckit/signal/signal_set.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <fstream>

#include <gtest/gtest.h>

namespace ipckit {
namespace {

using namespace std::chrono_literals;

TEST(SignalSet, NamesAndMembership) {
    auto s = SignalSet::of({SIGUSR1, SIGRTMIN + 3});
    EXPECT_TRUE(s.contains(SIGUSR1));
    EXPECT_FALSE(s.contains(SIGUSR2));
    EXPECT_EQ(s.to_string(), "{SIGUSR1, SIGRTMIN+3}");
    s.remove(SIGUSR1);
    EXPECT_EQ(s.to_string(), "{SIGRTMIN+3}");
    EXPECT_TRUE(SignalSet().empty());
    EXPECT_EQ(signal_name(SIGTERM), "SIGTERM");
    EXPECT_EQ(signal_name(SIGRTMIN), "SIGRTMIN");
}

TEST(ScopedSignalMask, BlocksForTheScopeAndRestores) {
    ASSERT_FALSE(ScopedSignalMask::current().contains(SIGUSR2));
    {
        auto blocked = ScopedSignalMask::block(SignalSet::of({SIGUSR2}));
        ASSERT_TRUE(blocked);
        EXPECT_TRUE(ScopedSignalMask::current().contains(SIGUSR2));
        {
            auto unblocked = ScopedSignalMask::unblock(SignalSet::of({SIGUSR2}));
            ASSERT_TRUE(unblocked);
            EXPECT_FALSE(ScopedSignalMask::current().contains(SIGUSR2));
        }
        EXPECT_TRUE(ScopedSignalMask::current().contains(SIGUSR2));
    }
    EXPECT_FALSE(ScopedSignalMask::current().contains(SIGUSR2));
}

TEST(SignalFd, RefusesSignalsThatAreNotBlocked) {
    auto sfd = SignalFd::create(SignalSet::of({SIGUSR1}));
    ASSERT_FALSE(sfd);
    EXPECT_EQ(sfd.error().code(), std::errc::invalid_argument);
    EXPECT_NE(sfd.error().message().find("not blocked in this thread: {SIGUSR1}"),
              std::string::npos)
        << sfd.error().message();
}

TEST(SignalFd, ReadsAQueuedSignalWithItsPayload) {
    const auto set = SignalSet::of({SIGRTMIN + 1});
    auto blocked = ScopedSignalMask::block(set).value();
    auto sfd = SignalFd::create(set);
    ASSERT_TRUE(sfd) << sfd.error().message();
    auto none = sfd->try_read();
    ASSERT_TRUE(none);
    EXPECT_FALSE(none->has_value());
    ASSERT_TRUE(queue_signal(::getpid(), SIGRTMIN + 1, 4242));
    auto info = sfd->read(Deadline::after(5s));
    ASSERT_TRUE(info && info->has_value());
    EXPECT_EQ((*info)->signo, SIGRTMIN + 1);
    EXPECT_EQ((*info)->code, SI_QUEUE);
    EXPECT_EQ((*info)->pid, ::getpid());
    EXPECT_EQ((*info)->value, 4242);
    auto timeout = sfd->read(Deadline::after(10ms));
    ASSERT_TRUE(timeout);
    EXPECT_FALSE(timeout->has_value());
}

std::atomic<int> g_handled{0};
std::atomic<int> g_value{0};
void count_handler(int) {
    g_handled.fetch_add(1);
}
void info_handler(int, siginfo_t* si, void*) {
    g_value.store(si->si_value.sival_int);
}

TEST(SignalAction, InstallsAndRestoresThePreviousDisposition) {
    struct sigaction before {};
    ASSERT_EQ(::sigaction(SIGUSR1, nullptr, &before), 0);
    {
        auto a = SignalAction::install(SIGUSR1, count_handler);
        ASSERT_TRUE(a) << a.error().message();
        ASSERT_EQ(::raise(SIGUSR1), 0);
        EXPECT_EQ(g_handled.load(), 1);
    }
    struct sigaction after {};
    ASSERT_EQ(::sigaction(SIGUSR1, nullptr, &after), 0);
    EXPECT_EQ(after.sa_handler, before.sa_handler);
}

TEST(SignalAction, InfoHandlerSeesTheQueuedPayload) {
    auto a = SignalAction::install(SIGUSR2, info_handler);
    ASSERT_TRUE(a);
    ASSERT_TRUE(queue_signal(::getpid(), SIGUSR2, 77));
    EXPECT_EQ(g_value.load(), 77);  // delivered to this thread before sigqueue returns
    auto ignore = SignalAction::ignore(SIGUSR2);
    ASSERT_TRUE(ignore);
    ASSERT_TRUE(queue_signal(::getpid(), SIGUSR2, 78));
    EXPECT_EQ(g_value.load(), 77);
}

TEST(SignalAction, RejectsSignalsThatCannotBeCaught) {
    auto a = SignalAction::install(SIGKILL, count_handler);
    ASSERT_FALSE(a);
    EXPECT_EQ(a.error().code(), std::errc::invalid_argument);
    EXPECT_NE(a.error().message().find("sigaction SIGKILL"), std::string::npos);
}

TEST(QueueSignal, ToAPidThatDoesNotExistIsEsrch) {
    // A child we reaped: its pid is free (and pid reuse within this test is vanishingly rare).
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        ::_exit(0);
    }
    ASSERT_EQ(::waitpid(pid, nullptr, 0), pid);
    auto r = queue_signal(pid, SIGRTMIN, 1);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), std::errc::no_such_process);
    EXPECT_EQ(r.error().errno_name(), "ESRCH");
    EXPECT_NE(r.error().message().find("sigqueue pid " + std::to_string(pid) + ": No such process"),
              std::string::npos)
        << r.error().message();
    // Beyond pid_max no process can exist at all.
    long pid_max = 0;
    std::ifstream("/proc/sys/kernel/pid_max") >> pid_max;
    ASSERT_GT(pid_max, 0);
    auto beyond = queue_signal(static_cast<pid_t>(pid_max + 1), SIGRTMIN, 1);
    ASSERT_FALSE(beyond);
    EXPECT_EQ(beyond.error().code(), std::errc::no_such_process);
}

}  // namespace
}  // namespace ipckit
