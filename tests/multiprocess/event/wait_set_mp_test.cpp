// SPDX-License-Identifier: MIT
// WaitSet across real processes: channel, event and socket members woken from another process
// through the doorbell, the deadline, a notifier and a sleeping WaitSet SIGKILLed, a member's
// file removed while waiting, and a ping-pong that fails when wake-ups are lost (each lost one
// costs a whole 50 ms slice).
#include "../../unit/event/event_test_util.hpp"
#include "event/doorbell.hpp"
#include "event/event_file.hpp"
#include "event/wait_set_hooks.hpp"
#include "forked_child.hpp"
#include "ipckit/event/wait_set.hpp"
#include "run_program.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include <gtest/gtest.h>

namespace ipckit {
namespace {

using namespace std::chrono_literals;
using test::as_bytes;
using test::chan_name;
using test::event_name;
using test::ForkedChild;
using test::small_config;
using Keys = std::vector<WaitSet::Key>;
using Clock = std::chrono::steady_clock;

Keys wait_keys(WaitSet& ws, Deadline d) {
    auto r = ws.wait(d);
    EXPECT_TRUE(r) << r.error().message();
    return r ? Keys(r->begin(), r->end()) : Keys{};
}

TEST(WaitSetMp, ChannelPublishInAnotherProcessRingsTheDoorbell) {
    const auto name = chan_name();
    auto sub = Subscriber::create(name, small_config()).value();
    auto ws = WaitSet::create().value();
    const auto k = ws.add(sub).value();
    const auto rings = detail::g_wait_set_rings.load();
    auto child = ForkedChild::spawn([&] {
        auto pub = Publisher::open(name).value();
        std::this_thread::sleep_for(200ms);
        CHILD_CHECK(pub.send(as_bytes("ring")));
        return 0;
    });
    const auto t0 = Clock::now();
    EXPECT_EQ(wait_keys(ws, Deadline::after(20s)), Keys{k});
    EXPECT_LT(Clock::now() - t0, 10s);
    EXPECT_CHILD_OK(child.wait_for(10s));
    auto s = sub.try_receive().value();
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(test::as_string(s->bytes()), "ring");
    EXPECT_TRUE(wait_keys(ws, Deadline::now()).empty());  // drains the doorbell
    EXPECT_GE(detail::g_wait_set_rings.load() - rings, 1U) << "woken by the doorbell";
    ASSERT_TRUE(Channel::remove(name));
}

TEST(WaitSetMp, EventNotifyAndSocketWriteInAnotherProcessWakeTheirMembers) {
    const auto name = event_name();
    auto l = EventListener::create(name).value();
    int sv[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv), 0);
    auto ws = WaitSet::create().value();
    const auto kl = ws.add(l).value();
    const auto ks = ws.add_fd(sv[0]).value();
    auto child = ForkedChild::spawn([&] {
        auto n = EventNotifier::open(name).value();
        std::this_thread::sleep_for(100ms);
        CHILD_CHECK(n.notify(9));
        std::this_thread::sleep_for(200ms);
        CHILD_CHECK(::write(sv[1], "s", 1) == 1);
        return 0;
    });
    EXPECT_EQ(wait_keys(ws, Deadline::after(20s)), Keys{kl});
    EXPECT_EQ(l.take().value(), (std::vector<EventCount>{{9, 1}}));
    EXPECT_EQ(wait_keys(ws, Deadline::after(20s)), Keys{ks});
    char b = 0;
    EXPECT_EQ(::read(sv[0], &b, 1), 1);
    EXPECT_CHILD_OK(child.wait_for(10s));
    const auto t0 = Clock::now();
    EXPECT_TRUE(wait_keys(ws, Deadline::after(150ms)).empty()) << "nothing more: the deadline";
    EXPECT_GE(Clock::now() - t0, 150ms);
    ::close(sv[0]);
    ::close(sv[1]);
    ASSERT_TRUE(Event::remove(name));
}

TEST(WaitSetMp, ANotifierSIGKILLedMidStreamLeavesTheWaitSetWorking) {
    const auto name = event_name();
    auto l = EventListener::create(name).value();
    auto ws = WaitSet::create().value();
    const auto k = ws.add(l).value();
    auto streamer = ForkedChild::spawn([&]() -> int {
        auto n = EventNotifier::open(name).value();
        for (;;) {
            CHILD_CHECK(n.notify(1));
        }
    });
    EXPECT_EQ(wait_keys(ws, Deadline::after(20s)), Keys{k});
    streamer.kill(SIGKILL);
    ASSERT_EQ(streamer.wait_for(10s).signal, SIGKILL);
    (void)l.take().value();
    EXPECT_TRUE(wait_keys(ws, Deadline::after(60ms)).empty());
    auto second = ForkedChild::spawn([&] {
        auto n = EventNotifier::open(name).value();
        std::this_thread::sleep_for(100ms);
        CHILD_CHECK(n.notify(2));
        return 0;
    });
    EXPECT_EQ(wait_keys(ws, Deadline::after(20s)), Keys{k});
    EXPECT_EQ(l.take().value(), (std::vector<EventCount>{{2, 1}}));
    EXPECT_CHILD_OK(second.wait_for(10s));
    EXPECT_EQ(l.corrupt(), 0U);
    ASSERT_TRUE(Event::remove(name));
}

TEST(WaitSetMp, AWaitSetSIGKILLedAsleepCostsPublishersOneIgnoredRing) {
    const auto name = chan_name();
    auto pub = Publisher::create(name, small_config(ChannelPolicy::Overwrite)).value();
    auto victim = ForkedChild::spawn([&] {
        auto sub = Subscriber::open(name).value();
        auto ws = WaitSet::create().value();
        CHILD_CHECK(ws.add(sub));
        auto r = ws.wait(Deadline::never());  // armed, asleep in epoll_wait
        return 1;                             // never reached
    });
    ASSERT_TRUE(test::wait_until_blocked_in(victim.pid(), SYS_epoll_wait, 10s));
    victim.kill(SIGKILL);
    ASSERT_EQ(victim.wait_for(10s).signal, SIGKILL);
    // Its slot still holds its token and its bit is armed: the next publish rings a dead name
    // (ignored) and takes the bit; the ones after pay one load.
    auto raw = Subscriber::open(name).value();  // keeps a subscriber so publishes are consumed
    const auto t0 = Clock::now();
    for (int i = 0; i < 1000; ++i) {
        ASSERT_TRUE(pub.send(as_bytes("x")));
    }
    EXPECT_LT(Clock::now() - t0, 5s);
    // A live WaitSet still works beside the dead one's slot.
    auto ws = WaitSet::create().value();
    const auto k = ws.add(raw).value();
    EXPECT_EQ(wait_keys(ws, Deadline::now()), Keys{k});
    ASSERT_TRUE(Channel::remove(name));
}

TEST(WaitSetMp, AMemberFileRemovedWhileWaitingIsAnErrorNamingIt) {
    const auto name = event_name();
    (void)Event::create(name).value();
    auto waiter = ForkedChild::spawn([&] {
        auto l = EventListener::open(name).value();
        auto ws = WaitSet::create().value();
        CHILD_CHECK(ws.add(l));
        auto r = ws.wait(Deadline::after(20s));
        CHILD_CHECK(!r);
        CHILD_CHECK(r.error().code() == std::errc::identifier_removed);
        CHILD_CHECK(r.error().message().find("event:" + name) != std::string::npos);
        return 0;
    });
    ASSERT_TRUE(test::wait_until_blocked_in(waiter.pid(), SYS_epoll_wait, 10s));
    const auto t0 = Clock::now();
    ASSERT_TRUE(Event::remove(name));
    EXPECT_CHILD_OK(waiter.wait_for(10s));
    EXPECT_LT(Clock::now() - t0, 5s);
}

// Parent: a WaitSet over a subscriber of channel B; child: a WaitSet over a listener of event E.
// Ping = notify E, pong = publish on B. A lost doorbell costs a whole 50 ms slice.
TEST(WaitSetMp, PingPongThroughTwoWaitSetsLosesNoWakeUp) {
    constexpr int kRounds = 1000;
    constexpr auto kSlowRound = 40ms;
    constexpr int kMaxSlowRounds = 10;
    const auto ev = event_name();
    const auto ch = chan_name();
    auto n = EventNotifier::create(ev).value();
    auto sub = Subscriber::create(ch, small_config()).value();
    auto peer = ForkedChild::spawn([&] {
        auto l = EventListener::open(ev).value();
        auto pub = Publisher::open(ch).value();
        auto ws = WaitSet::create().value();
        CHILD_CHECK(ws.add(l));
        CHILD_CHECK(pub.send(as_bytes("ready")));
        int have = 0;
        int slow = 0;
        while (have < kRounds) {
            const auto start = Clock::now();
            auto r = ws.wait(Deadline::after(5s));
            CHILD_CHECK(r && !r->empty());
            if (Clock::now() - start >= kSlowRound) {
                ++slow;
            }
            const auto counts = l.take().value();
            for (const auto& c : counts) {
                for (std::uint64_t i = 0; i < c.count; ++i) {
                    ++have;
                    CHILD_CHECK(pub.send(as_bytes("pong")));
                }
            }
        }
        if (slow > kMaxSlowRounds) {
            test::child_fail("peer: " + std::to_string(slow) + " waits took a whole slice");
        }
        return 0;
    });
    auto ws = WaitSet::create().value();
    const auto k = ws.add(sub).value();
    auto next = [&]() -> bool {
        const Deadline until = Deadline::after(5s);
        while (!until.expired()) {
            auto s = sub.try_receive().value();
            if (s) {
                return true;
            }
            auto r = ws.wait(until);
            if (!r) {
                return false;
            }
        }
        return false;
    };
    ASSERT_TRUE(next()) << "ready";
    int slow = 0;
    const auto start = Clock::now();
    for (int round = 0; round < kRounds; ++round) {
        ASSERT_TRUE(n.notify(0));
        const auto t0 = Clock::now();
        ASSERT_TRUE(next()) << "round " << round;
        if (Clock::now() - t0 >= kSlowRound) {
            ++slow;
        }
        (void)k;
    }
    const auto took = Clock::now() - start;
    EXPECT_CHILD_OK(peer.wait_for(20s));
    EXPECT_LE(slow, kMaxSlowRounds) << "round trips that took a whole slice: lost wake-ups";
    std::printf(
        "waitset ping-pong: %d rounds in %lld ms, %d slow\n",
        kRounds,
        static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(took).count()),
        slow);
    ASSERT_TRUE(Event::remove(ev));
    ASSERT_TRUE(Channel::remove(ch));
}

}  // namespace
}  // namespace ipckit

namespace ipckit {
namespace {

TEST(WaitSetExample, LoopOverAChannelASocketAndATimer) {
    const auto name = test::chan_name();
    test::RunOptions o;
    o.env.push_back("IPCKIT_SHM_DIR=" + test::chan_dir());
    auto r = test::run_program({test::build_path("examples/example_waitset_loop"), name}, o);
    ASSERT_TRUE(r.exited && r.exit_code == 0) << r.describe() << r.err;
    for (int i = 1; i <= 3; ++i) {
        EXPECT_NE(r.out.find("channel: message " + std::to_string(i)), std::string::npos) << r.out;
    }
    EXPECT_NE(r.out.find("socket: hello over the socket"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("done: 3 messages, 1 line, 3+ timer ticks"), std::string::npos) << r.out;
    EXPECT_FALSE(std::filesystem::exists(test::chan_path(name))) << "the example removes it";
}

}  // namespace
}  // namespace ipckit
