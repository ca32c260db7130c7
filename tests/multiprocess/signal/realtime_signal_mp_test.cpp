// SPDX-License-Identifier: MIT
// Realtime signals between processes: queued (not merged), in order, each with its payload. A
// failed send does not end a test before the child's own report is collected.
#include "forked_child.hpp"
#include "ipckit/core/io.hpp"
#include "ipckit/core/unique_fd.hpp"
#include "ipckit/signal/signal_fd.hpp"
#include "ipckit/signal/signal_mask.hpp"
#include "ipckit/signal/signal_queue.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

namespace ipckit {
namespace {

using namespace std::chrono_literals;

struct Pipe {
    UniqueFd r;
    UniqueFd w;
    Pipe() {
        int fds[2];
        EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);
        r.reset(fds[0]);
        w.reset(fds[1]);
    }
};

TEST(RealtimeSignals, HundredQueuedSignalsArriveInOrderWithTheirPayloads) {
    constexpr int kCount = 100;
    const int signo = SIGRTMIN + 2;
    Pipe ready;
    const pid_t parent = ::getpid();
    auto child = test::ForkedChild::spawn([&] {
        ready.r.reset();
        auto blocked = ScopedSignalMask::block(SignalSet::of({signo}));
        CHILD_CHECK(blocked);
        auto sfd = SignalFd::create(SignalSet::of({signo}));
        CHILD_CHECK(sfd);
        const std::byte go{1};
        CHILD_CHECK(write_all(
            ready.w.get(), std::span(&go, 1), FdKind::Other, Deadline::after(10s), "ready"));
        for (int i = 0; i < kCount; ++i) {
            auto info = sfd->read(Deadline::after(10s));
            CHILD_CHECK(info && info->has_value());
            CHILD_CHECK((*info)->signo == signo);
            CHILD_CHECK((*info)->code == SI_QUEUE);
            CHILD_CHECK((*info)->pid == parent);
            if ((*info)->value != i) {
                test::child_fail("signal " + std::to_string(i) + " carried " +
                                 std::to_string((*info)->value));
            }
        }
        auto extra = sfd->try_read();
        CHILD_CHECK(extra && !extra->has_value());
        return 0;
    });
    ready.w.reset();
    std::byte go{};
    auto n = read_exact(ready.r.get(), std::span(&go, 1), Deadline::after(10s), "ready");
    ASSERT_TRUE(n && *n == 1);
    for (int i = 0; i < kCount; ++i) {
        auto r = queue_signal(child.pid(), signo, i);
        if (!r) {  // ESRCH here means the child already failed: wait for its own report below
            ADD_FAILURE() << "signal " << i << ": " << r.error().message();
            break;
        }
    }
    EXPECT_CHILD_OK(child.wait_for(10s));
}

TEST(RealtimeSignals, APointerSizedPayloadArrivesWhole) {
    const int signo = SIGRTMIN + 3;
    Pipe ready;
    constexpr std::uintptr_t kValue = 0x1234'5678'9abc'def0ULL;
    auto child = test::ForkedChild::spawn([&] {
        ready.r.reset();
        auto blocked = ScopedSignalMask::block(SignalSet::of({signo}));
        CHILD_CHECK(blocked);
        auto sfd = SignalFd::create(SignalSet::of({signo}));
        CHILD_CHECK(sfd);
        const std::byte go{1};
        CHILD_CHECK(write_all(
            ready.w.get(), std::span(&go, 1), FdKind::Other, Deadline::after(10s), "ready"));
        auto info = sfd->read(Deadline::after(10s));
        CHILD_CHECK(info && info->has_value());
        CHILD_CHECK((*info)->ptr == kValue);
        return 0;
    });
    ready.w.reset();
    std::byte go{};
    ASSERT_TRUE(read_exact(ready.r.get(), std::span(&go, 1), Deadline::after(10s), "ready"));
    auto sent = queue_signal_ptr(child.pid(), signo, kValue);
    EXPECT_TRUE(sent) << sent.error().message();
    EXPECT_CHILD_OK(child.wait_for(10s));
}

TEST(RealtimeSignals, StandardSignalsMergeWhileRealtimeOnesQueue) {
    // The contrast that makes realtime signals worth using: three SIGUSR1 sent while blocked
    // arrive once; three SIGRTMIN arrive three times.
    const auto set = SignalSet::of({SIGUSR1, SIGRTMIN});
    Pipe ready;
    Pipe done;
    auto child = test::ForkedChild::spawn([&] {
        ready.r.reset();
        done.w.reset();
        auto blocked = ScopedSignalMask::block(set);
        CHILD_CHECK(blocked);
        auto sfd = SignalFd::create(set);
        CHILD_CHECK(sfd);
        const std::byte go{1};
        CHILD_CHECK(write_all(
            ready.w.get(), std::span(&go, 1), FdKind::Other, Deadline::after(10s), "ready"));
        std::byte sent{};
        CHILD_CHECK(read_exact(done.r.get(), std::span(&sent, 1), Deadline::after(10s), "done"));
        int usr1 = 0;
        int rt = 0;
        while (auto info = sfd->try_read()) {
            if (!info->has_value()) {
                break;
            }
            ((*info)->signo == SIGUSR1 ? usr1 : rt)++;
        }
        CHILD_CHECK(usr1 == 1);
        CHILD_CHECK(rt == 3);
        return 0;
    });
    ready.w.reset();
    done.r.reset();
    std::byte go{};
    ASSERT_TRUE(read_exact(ready.r.get(), std::span(&go, 1), Deadline::after(10s), "ready"));
    for (int i = 0; i < 3; ++i) {
        auto usr1 = queue_signal(child.pid(), SIGUSR1, i);
        auto rt = queue_signal(child.pid(), SIGRTMIN, i);
        EXPECT_TRUE(usr1 && rt) << "round " << i << ": the child is gone?";
    }
    EXPECT_TRUE(
        write_all(done.w.get(), std::span(&go, 1), FdKind::Other, Deadline::after(10s), "done"));
    EXPECT_CHILD_OK(child.wait_for(10s));
}

}  // namespace
}  // namespace ipckit
