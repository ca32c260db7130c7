// SPDX-License-Identifier: MIT
// The rt-signal transport's announcements against a peer that is gone. The follower exits right
// after its last acknowledgement and the supervisor reaps it; the leader, receiving that
// acknowledgement, still announces "slot empty" with sigqueue, which can then find no process
// (ESRCH). Seen as "leader: sigqueue pid N: No such process" on the rt-signal row of a loaded
// machine; here the race is made certain by reaping the peer first.
#include "engine/transport.hpp"
#include "engine/wait.hpp"
#include "forked_child.hpp"
#include "transports/registry.hpp"

#include <signal.h>

#include <array>
#include <chrono>
#include <cstddef>

#include <gtest/gtest.h>

namespace ipckit {
namespace {

using namespace std::chrono_literals;

TEST(BenchRtSignal, ReceivingTheLastMessageOfAPeerThatHasExitedIsNotAnError) {
    // As the engine does before fork: both signals blocked, so they queue instead of killing.
    sigset_t rt;
    sigemptyset(&rt);
    sigaddset(&rt, SIGRTMIN);
    sigaddset(&rt, SIGRTMIN + 1);
    sigset_t old;
    ASSERT_EQ(::sigprocmask(SIG_BLOCK, &rt, &old), 0);
    auto transport = bench::make_rt_signal();
    ASSERT_TRUE(transport->setup({64, "rt-signal-test", "/tmp"}));
    auto peer = test::ForkedChild::spawn([] { return 0; });
    ASSERT_TRUE(peer.wait_for(5s).ok());  // exited and reaped: its pid now names no process
    ASSERT_TRUE(transport->attach(bench::Role::Leader, peer.pid()));
    bench::set_phase_deadline(Deadline::after(5s));

    // The peer's last message: its "slot full" signal is queued here already (length 16).
    sigval value{};
    value.sival_int = 16;
    ASSERT_EQ(::sigqueue(::getpid(), SIGRTMIN, value), 0);
    std::array<std::byte, 64> buffer{};
    auto got = transport->receive(buffer);

    EXPECT_TRUE(got) << got.error().message();
    bench::set_phase_deadline(Deadline::never());
    transport->teardown();
    // Drain anything left queued, then restore the mask.
    const timespec zero{0, 0};
    while (::sigtimedwait(&rt, nullptr, &zero) > 0) {
    }
    ::sigprocmask(SIG_SETMASK, &old, nullptr);
}

}  // namespace
}  // namespace ipckit
