// SPDX-License-Identifier: MIT
// Multi-process channel tests: broadcast across processes, SIGKILL at fault points, dead and
// stopped subscribers, futex wake-ups across processes, half-initialised files, concurrent
// cleanup, read-only payloads, removal by an outside party.
#include "../../unit/channel/channel_test_util.hpp"
#include "../../unit/channel/creator_kill_matrix.hpp"
#include "channel/fault_point.hpp"
#include "channel/layout.hpp"
#include "eventually.hpp"
#include "forked_child.hpp"
#include "ipckit/core/mapping.hpp"
#include "run_program.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <sched.h>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace ipckit {
namespace {

using namespace std::chrono_literals;
using test::SharedCounters;
using test::wait_flag;
using test::arm_fault;
using test::as_bytes;
using test::chan_name;
using test::ForkedChild;
using test::small_config;

/// A page of shared atomics for parent/child hand-offs.


using test::is_stopped;


TEST(ChannelMp, BroadcastAcrossProcessesLosslessWithPerPublisherOrder) {
    const auto name = chan_name();
    auto c = small_config();
    c.lane_bytes = 16384;
    ASSERT_TRUE(Channel::create(name, c));
    constexpr std::uint64_t kPer = 5000;
    SharedCounters sh;
    std::vector<ForkedChild> subs;
    for (int s = 0; s < 2; ++s) {
        subs.push_back(ForkedChild::spawn([&] {
            auto sub = Subscriber::open(name);
            CHILD_CHECK(sub);
            sh.at(0).fetch_add(1);
            std::uint64_t next[4] = {0, 0, 0, 0};
            std::array<std::byte, 1024> buf{};
            for (std::uint64_t i = 0; i < 2 * kPer; ++i) {
                auto r = sub->receive_until(buf, Deadline::after(10s));
                CHILD_CHECK(r && *r);
                std::uint64_t seq = 0;
                CHILD_CHECK(test::check_message(std::span(buf).first((*r)->size), &seq));
                CHILD_CHECK((*r)->publisher < 4);
                CHILD_CHECK(seq == next[(*r)->publisher]++);  // per-publisher order, no loss
                CHILD_CHECK((*r)->lost_before == 0);
            }
            return 0;
        }));
    }
    ASSERT_TRUE(wait_flag(sh.at(0), 2, "both subscribers joined"));
    std::vector<ForkedChild> pubs;
    for (int p = 0; p < 2; ++p) {
        pubs.push_back(ForkedChild::spawn([&, p] {
            auto pub = Publisher::open(name);
            CHILD_CHECK(pub);
            for (std::uint64_t i = 0; i < kPer; ++i) {
                auto l = pub->loan_for(8 + (i * 37 + static_cast<std::uint64_t>(p)) % 1000, 10s);
                CHILD_CHECK(l && *l);
                test::fill_message((*l)->bytes(), i);
                CHILD_CHECK(pub->publish(std::move(**l)));
            }
            return 0;
        }));
    }
    for (auto& ch : pubs) {
        EXPECT_CHILD_OK(ch.wait_for(30s));
    }
    for (auto& ch : subs) {
        EXPECT_CHILD_OK(ch.wait_for(30s));
    }
}

class PublisherKilled : public ::testing::TestWithParam<const char*> {};

TEST_P(PublisherKilled, AtAFaultPointNeverBlocksOthersNorExposesATornMessage) {
    const std::string point = GetParam();
    const auto name = chan_name();
    auto c = small_config();
    c.lane_bytes = 16384;
    auto sub = Subscriber::create(name, c).value();
    auto victim = ForkedChild::spawn([&] {
        auto pub = Publisher::open(name);
        CHILD_CHECK(pub);
        for (std::uint64_t i = 0; i < 5; ++i) {
            auto l = pub->loan(64);
            CHILD_CHECK(l);
            test::fill_message(l->bytes(), i);
            CHILD_CHECK(pub->publish(std::move(*l)));
        }
        arm_fault((point + ":kill").c_str());
        auto l = pub->loan(64);
        CHILD_CHECK(l);
        test::fill_message(l->bytes(), 5);
        (void)pub->publish(std::move(*l));
        return 3;  // not reached
    });
    const auto res = victim.wait_for(10s);
    ASSERT_EQ(res.signal, SIGKILL) << res.describe();
    auto info = Channel::inspect(name).value();
    ASSERT_EQ(info.publishers.size(), 1U);
    EXPECT_FALSE(info.publishers[0].alive) << "inspect shows the killed publisher dead";
    EXPECT_EQ(info.publishers[0].pid, victim.pid());
    // Another publisher is not blocked; a replacement takes over the dead lane.
    auto other = Publisher::open(name).value();
    for (std::uint64_t i = 0; i < 5; ++i) {
        ASSERT_TRUE(other.send(as_bytes("other")));
    }
    std::uint64_t from_victim_lane = 0;
    std::uint64_t lost = 0;
    while (auto s = sub.try_receive().value()) {
        lost += s->lost_before();
        if (s->size() == 64) {
            std::uint64_t seq = 0;
            ASSERT_TRUE(test::check_message(s->bytes(), &seq)) << "torn message delivered";
            ASSERT_EQ(seq, from_victim_lane);
            ++from_victim_lane;
        }
    }
    // after_commit: the sixth was committed (stamp stored) but the tail not advanced: it is
    // delivered exactly once; otherwise it was never committed and is never exposed.
    const bool committed = point == "chan.publish.after_commit";
    EXPECT_EQ(from_victim_lane, committed ? 6U : 5U);
    // Take over the dead lane: the message number of the abandoned publish is reported lost
    // when the kill came after the number was spent (mid_write), never duplicated.
    std::vector<Publisher> more;
    for (int i = 0; i < 3; ++i) {
        auto p = Publisher::open(name);
        if (p) {
            more.push_back(std::move(*p));
        }
    }
    ASSERT_FALSE(more.empty());
    for (auto& p : more) {
        ASSERT_TRUE(p.send(as_bytes("takeover")));
    }
    while (auto s = sub.try_receive().value()) {
        lost += s->lost_before();
        EXPECT_NE(s->size(), 64U) << "a victim message delivered twice";
    }
    EXPECT_EQ(lost, 0U) << "no message number is skipped or reused by the lane's next owner";
    EXPECT_EQ(sub.corrupt_count(), 0U);
}

INSTANTIATE_TEST_SUITE_P(FaultPoints,
                         PublisherKilled,
                         ::testing::Values("chan.publish.after_claim",
                                           "chan.publish.mid_write",
                                           "chan.publish.after_commit"));

TEST(ChannelMp, SubscriberKilledWhileHoldingLoansDoesNotStopABlockingPublisher) {
    const auto name = chan_name();
    auto c = small_config();  // 4096-byte lane: 8 records of 512
    SharedCounters sh;
    auto survivor = Subscriber::create(name, c).value();
    auto pub = Publisher::open(name).value();
    auto victim = ForkedChild::spawn([&] {
        auto sub = Subscriber::open(name);
        CHILD_CHECK(sub);
        sh.at(0).store(1);
        std::vector<Sample> held;
        while (held.size() < 3) {
            auto s = sub->receive_until(Deadline::after(10s));
            CHILD_CHECK(s && *s);
            held.push_back(std::move(**s));
        }
        ::raise(SIGKILL);
        return 0;
    });
    ASSERT_TRUE(wait_flag(sh.at(0), 1, "the victim subscriber joined"));
    std::uint64_t next = 0;
    std::uint64_t seen = 0;
    for (std::uint64_t i = 0; i < 60; ++i) {
        auto l = pub.loan_for(496, 10s);
        ASSERT_TRUE(l) << l.error().message();
        ASSERT_TRUE(*l) << "publisher blocked for ever at message " << i;
        test::fill_message((*l)->bytes(), next++);
        ASSERT_TRUE(pub.publish(std::move(**l)));
        while (auto s = survivor.try_receive().value()) {
            std::uint64_t seq = 0;
            ASSERT_TRUE(test::check_message(s->bytes(), &seq));
            ASSERT_EQ(seq, seen++);
        }
    }
    EXPECT_EQ(seen, 60U) << "the surviving subscriber lost nothing";
    EXPECT_EQ(victim.wait_for(10s).signal, SIGKILL);
    auto info = Channel::inspect(name).value();
    for (auto& s : info.subscribers) {
        EXPECT_TRUE(s.alive) << "the dead subscriber's record was reclaimed";
    }
}

TEST(ChannelMp, StoppedSubscriberIsNotDeadAndThePublisherTimesOutNamingIt) {
    const auto name = chan_name();
    auto c = small_config();
    auto pub = Publisher::create(name, c).value();
    SharedCounters sh;
    auto stopped = ForkedChild::spawn([&] {
        auto sub = Subscriber::open(name);
        CHILD_CHECK(sub);
        sh.at(0).store(1);
        ::raise(SIGSTOP);
        std::array<std::byte, 1024> buf{};
        std::uint64_t n = 0;
        while (n < 20) {
            auto r = sub->receive_until(buf, Deadline::after(10s));
            CHILD_CHECK(r && *r);
            std::uint64_t seq = 0;
            CHILD_CHECK(test::check_message(std::span(buf).first((*r)->size), &seq));
            CHILD_CHECK(seq == n);
            ++n;
        }
        return 0;
    });
    ASSERT_TRUE(wait_flag(sh.at(0), 1, "the subscriber joined"));
    ASSERT_TRUE(test::eventually(
        10s, "the subscriber stopped (state T)", [&] { return is_stopped(stopped.pid()); }, 1ms));
    std::uint64_t sent = 0;
    for (;;) {
        auto l = pub.loan_for(496, 200ms);
        ASSERT_TRUE(l);
        if (!*l) {
            break;
        }
        test::fill_message((*l)->bytes(), sent++);
        ASSERT_TRUE(pub.publish(std::move(**l)));
        ASSERT_LT(sent, 20U);
    }
    EXPECT_EQ(pub.blocked_by(), stopped.pid()) << "the timeout names the stopped subscriber";
    auto info = Channel::inspect(name).value();
    ASSERT_EQ(info.subscribers.size(), 1U);
    EXPECT_TRUE(info.subscribers[0].alive) << "stopped is alive";
    stopped.kill(SIGCONT);
    while (sent < 20) {
        auto l = pub.loan_for(496, 10s);
        ASSERT_TRUE(l && *l);
        test::fill_message((*l)->bytes(), sent++);
        ASSERT_TRUE(pub.publish(std::move(**l)));
    }
    EXPECT_CHILD_OK(stopped.wait_for(10s));
}

// Overwrite mode: a subscriber paused between its floor check and its tail check (preempted,
// SIGSTOPped) while the publisher laps it by more than a lane finds the tail more than a lane
// ahead. That is an ordinary lap, not a corrupt tail: the subscriber must resume at the floor and
// count the loss, and corrupt_count() must stay 0 (the chaos soak saw corrupt_count=2 here).
TEST(ChannelMp, OverwriteSubscriberPausedBeforeItsTailCheckCountsALapNotCorruption) {
    const auto name = chan_name();
    auto c = small_config(ChannelPolicy::Overwrite);
    ASSERT_TRUE(Channel::create(name, c));
    auto pub = Publisher::open(name).value();
    constexpr std::size_t kLen = 48;
    const std::uint64_t lap = c.lane_bytes / detail::record_bytes(kLen) + 1;
    const std::uint64_t total = 3 * lap + 5;  // more than two lanes while it is paused
    SharedCounters sh;
    auto sub = ForkedChild::spawn([&] {
        auto s = Subscriber::open(name);
        CHILD_CHECK(s);
        arm_fault("chan.subscribe.before_tail_check:stop");
        std::array<std::byte, 1024> buf{};
        // Empty polls until one checks the tail, which stops us there; the parent publishes,
        // then continues us.
        std::uint64_t last = 0;
        std::uint64_t got = 0;
        for (int polls = 0; last + 1 < total; ++polls) {
            CHILD_CHECK(polls < 1000000);
            auto r = got == 0 ? s->try_receive(buf) : s->receive_until(buf, Deadline::after(10s));
            CHILD_CHECK(r);
            if (!*r) {
                CHILD_CHECK(got == 0);
                continue;
            }
            arm_fault("");
            CHILD_CHECK(test::check_message(std::span(buf).first((*r)->size), &last));
            ++got;
        }
        if (s->corrupt_count() != 0) {
            test::child_fail("corrupt_count=" + std::to_string(s->corrupt_count()) +
                             " after an ordinary lap (received " + std::to_string(got) +
                             ", lost " + std::to_string(s->lost_count()) + ")");
        }
        CHILD_CHECK(s->received_count() + s->lost_count() == total);
        return 0;
    });
    ASSERT_TRUE(test::eventually(
        10s, "the subscriber stopped at its tail check", [&] { return is_stopped(sub.pid()); },
        1ms));
    for (std::uint64_t i = 0; i < total; ++i) {
        auto l = pub.try_loan(kLen).value();
        ASSERT_TRUE(l);
        test::fill_message(l->bytes(), i);
        ASSERT_TRUE(pub.publish(std::move(*l)));
    }
    sub.kill(SIGCONT);
    EXPECT_CHILD_OK(sub.wait_for(10s));
}

TEST(ChannelMp, FutexWakeAcrossProcessesNeverLosesAWakeUp) {
    const auto name = chan_name();
    auto c = small_config();
    c.options.spin_polls = 0;  // always sleep: exercises the futex path
    ASSERT_TRUE(Channel::create(name, c));
    constexpr int kRounds = 2000;
    SharedCounters sh;
    auto child = ForkedChild::spawn([&] {
        ChannelOptions o;
        o.spin_polls = 0;
        auto sub = Subscriber::open(name, o);
        CHILD_CHECK(sub);
        auto pub = Publisher::open(name, o);
        CHILD_CHECK(pub);
        sh.at(0).store(1);
        std::array<std::byte, 64> buf{};
        for (int i = 0; i < kRounds;) {
            auto r = sub->receive_until(buf, Deadline::after(10s));
            CHILD_CHECK(r && *r);  // a lost wake would time out here
            if ((*r)->publisher == pub->lane()) {
                continue;  // our own echo (broadcast)
            }
            CHILD_CHECK(pub->send(std::span(buf).first((*r)->size)));
            ++i;
        }
        return 0;
    });
    ASSERT_TRUE(wait_flag(sh.at(0), 1, "the child joined"));
    ChannelOptions o;
    o.spin_polls = 0;
    auto sub = Subscriber::open(name, o).value();
    auto pub = Publisher::open(name, o).value();
    std::array<std::byte, 64> buf{};
    std::minstd_rand rng(1);
    int echoed = 0;
    for (int i = 0; i < kRounds; ++i) {
        if (i % 500 == 0) {
            ASSERT_TRUE(test::wait_until_blocked_in(child.pid(), SYS_futex, 10s));
        } else if (rng() % 4 == 0) {
            std::this_thread::sleep_for(std::chrono::microseconds(rng() % 200));
        }
        ASSERT_TRUE(pub.send(std::as_bytes(std::span(&i, 1))));
        // Our own subscriber sees our message too (broadcast); skip it, wait for the echo.
        for (;;) {
            auto r = sub.receive_until(buf, Deadline::after(10s));
            ASSERT_TRUE(r && *r) << "round " << i;
            if ((*r)->publisher != pub.lane()) {
                ++echoed;
                break;
            }
        }
    }
    EXPECT_EQ(echoed, kRounds);
    EXPECT_CHILD_OK(child.wait_for(10s));
}

TEST(ChannelMp, KilledWaiterDoesNotSwallowTheWakeUp) {
    const auto name = chan_name();
    auto c = small_config();
    c.options.spin_polls = 0;
    ASSERT_TRUE(Channel::create(name, c));
    auto waiter = [&] {
        ChannelOptions o;
        o.spin_polls = 0;
        auto sub = Subscriber::open(name, o);
        CHILD_CHECK(sub);
        auto s = sub->receive_until(Deadline::after(10s));
        CHILD_CHECK(s && *s);
        return 0;
    };
    auto a = ForkedChild::spawn(waiter);
    auto b = ForkedChild::spawn(waiter);
    ASSERT_TRUE(test::wait_until_blocked_in(a.pid(), SYS_futex, 10s));
    ASSERT_TRUE(test::wait_until_blocked_in(b.pid(), SYS_futex, 10s));
    a.kill(SIGKILL);
    EXPECT_EQ(a.wait_for(10s).signal, SIGKILL);
    auto pub = Publisher::open(name).value();
    ASSERT_TRUE(pub.send(as_bytes("once")));
    EXPECT_CHILD_OK(b.wait_for(10s));
}

class CreatorKilled : public ::testing::TestWithParam<const char*> {};

TEST_P(CreatorKilled, OpenerReportsIncompleteInitialisationAndRecreateWorks) {
    const auto name = chan_name();
    const std::string point = GetParam();
    auto creator = ForkedChild::spawn([&] {
        arm_fault((point + ":kill").c_str());
        (void)Channel::create(name, small_config());
        return 3;
    });
    ASSERT_EQ(creator.wait_for(10s).signal, SIGKILL);
    ChannelOptions o;
    o.init_wait = 2000ms;
    auto r = Subscriber::open(name, o);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), std::errc::state_not_recoverable) << r.error().message();
    EXPECT_NE(r.error().message().find("initialisation never completed"), std::string::npos)
        << r.error().message();
    ASSERT_TRUE(Channel::remove(name));
    EXPECT_TRUE(Channel::create(name, small_config()));
}

INSTANTIATE_TEST_SUITE_P(InitSteps,
                         CreatorKilled,
                         ::testing::Values("chan.create.after_open",
                                           "chan.create.after_fallocate",
                                           "chan.create.before_publish"));

TEST(ChannelMp, ConcurrentCleanupFreesEachDeadParticipantExactlyOnce) {
    const auto name = chan_name();
    auto c = small_config();
    ASSERT_TRUE(Channel::create(name, c));
    SharedCounters sh;
    {
        std::vector<ForkedChild> victims;
        for (int i = 0; i < 3; ++i) {  // all alive at once, so each holds its own record
            victims.push_back(ForkedChild::spawn([&, i] {
                std::optional<Publisher> p;
                std::optional<Subscriber> s;
                if (i == 0) {
                    p.emplace(Publisher::open(name).value());
                } else {
                    s.emplace(Subscriber::open(name).value());
                }
                sh.at(0).fetch_add(1);
                CHILD_CHECK(wait_flag(sh.at(2), 1, "the parent's go"));
                ::raise(SIGKILL);
                return 0;
            }));
        }
        ASSERT_TRUE(wait_flag(sh.at(0), 3, "the three victims joined"));
        sh.at(2).store(1);
        for (auto& v : victims) {
            ASSERT_EQ(v.wait_for(10s).signal, SIGKILL);
        }
    }
    std::vector<ForkedChild> cleaners;
    for (int i = 0; i < 8; ++i) {
        cleaners.push_back(ForkedChild::spawn([&] {
            auto n = Channel::cleanup_dead(name);
            CHILD_CHECK(n);
            sh.at(1).fetch_add(*n);
            return 0;
        }));
    }
    for (auto& ch : cleaners) {
        EXPECT_CHILD_OK(ch.wait_for(10s));
    }
    EXPECT_EQ(sh.at(1).load(), 3U);
    auto live = Subscriber::open(name).value();
    auto info = Channel::inspect(name).value();
    EXPECT_EQ(info.publishers.size(), 0U);
    ASSERT_EQ(info.subscribers.size(), 1U);
    EXPECT_TRUE(info.subscribers[0].alive);
}

TEST(ChannelMp, CleanupNeverReclaimsAStartingParticipant) {
    const auto name = chan_name();
    ASSERT_TRUE(Channel::create(name, small_config()));
    auto cleaner = ForkedChild::spawn([&] {
        std::uint32_t freed = 0;
        for (int i = 0; i < 3000; ++i) {
            auto n = Channel::cleanup_dead(name);
            CHILD_CHECK(n);
            freed += *n;
        }
        CHILD_CHECK(freed == 0);
        return 0;
    });
    for (int i = 0; i < 3000; ++i) {
        auto s = Subscriber::open(name);
        ASSERT_TRUE(s) << s.error().message();
    }
    EXPECT_CHILD_OK(cleaner.wait_for(30s));
}

TEST(ChannelMp, SubscribersCannotWritePayloads) {
    const auto name = chan_name();
    auto pub = Publisher::create(name, small_config()).value();
    SharedCounters sh;
    auto child = ForkedChild::spawn([&] {
        auto sub = Subscriber::open(name);
        CHILD_CHECK(sub);
        sh.at(0).store(1);
        auto s = sub->receive_until(Deadline::after(10s));
        CHILD_CHECK(s && *s);
        struct sigaction sa {};
        sa.sa_handler = [](int) { ::_exit(42); };
        ::sigaction(SIGSEGV, &sa, nullptr);
        auto* p = const_cast<std::byte*>((*s)->data());  // NOLINT: the point of the test
        *static_cast<volatile std::byte*>(p) = std::byte{'X'};
        return 0;  // reached only if the write succeeded
    });
    ASSERT_TRUE(wait_flag(sh.at(0), 1, "the subscriber joined"));
    auto other = Subscriber::open(name).value();
    ASSERT_TRUE(pub.send(as_bytes("original")));
    const auto res = child.wait_for(10s);
    EXPECT_TRUE(res.exited && res.exit_code == 42) << res.describe();
    auto s = other.try_receive().value();
    ASSERT_TRUE(s);
    EXPECT_EQ(test::as_string(s->bytes()), "original");
}

TEST(ChannelMp, RemovedFileIsReportedToAWaitingSubscriber) {
    const auto name = chan_name();
    auto c = small_config();
    c.options.spin_polls = 0;
    auto sub = Subscriber::create(name, c).value();
    ASSERT_TRUE(Channel::remove(name));
    auto r = sub.receive_for(2s);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), std::errc::identifier_removed) << r.error().message();
    EXPECT_NE(r.error().message().find("RemoveIPC"), std::string::npos);
}

}  // namespace
}  // namespace ipckit

namespace ipckit {
namespace {

TEST(ChannelExample, PubSubExamplePrintsEveryTick) {
    const auto name = test::chan_name();
    test::RunOptions o;
    o.env.push_back("IPCKIT_SHM_DIR=" + test::chan_dir());
    auto r = test::run_program({test::build_path("examples/example_chan_pubsub"), name}, o);
    ASSERT_TRUE(r.exited && r.exit_code == 0) << r.describe() << r.err;
    for (int i = 1; i <= 5; ++i) {
        EXPECT_NE(r.out.find("subscriber: tick " + std::to_string(i) + " price"), std::string::npos)
            << r.out;
    }
    EXPECT_NE(r.out.find("subscriber: stop after 5 ticks"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("publisher: sent 5 ticks and a stop"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace ipckit

namespace ipckit {
namespace {

using namespace std::chrono_literals;

TEST(ChannelMp, NotificationFdBecomesReadableForPollWhenAnotherProcessPublishes) {
    const auto name = test::chan_name();
    auto sub = Subscriber::create(name, test::small_config()).value();
    auto fd = sub.notification_fd();
    ASSERT_TRUE(fd) << fd.error().message();
    pollfd pfd{*fd, POLLIN, 0};
    EXPECT_EQ(::poll(&pfd, 1, 0), 0) << "nothing published yet";
    constexpr int kCount = 200;
    auto publisher = test::ForkedChild::spawn([&] {
        auto pub = Publisher::open(name);
        CHILD_CHECK(pub);
        std::minstd_rand rng(3);
        for (int i = 0; i < kCount; ++i) {
            if (rng() % 3 == 0) {
                std::this_thread::sleep_for(std::chrono::microseconds(rng() % 500));
            }
            CHILD_CHECK(pub->send_until(std::as_bytes(std::span(&i, 1)), Deadline::after(10s)));
        }
        return 0;
    });
    int next = 0;
    while (next < kCount) {
        pfd.revents = 0;
        ASSERT_EQ(::poll(&pfd, 1, 10'000), 1) << "readiness missed at message " << next;
        std::uint64_t counter = 0;
        (void)::read(*fd, &counter, sizeof counter);
        while (auto s = sub.try_receive().value()) {
            auto v = s->copy_as<int>();
            ASSERT_TRUE(v);
            ASSERT_EQ(*v, next);
            ++next;
        }
    }
    EXPECT_CHILD_OK(publisher.wait_for(10s));
}

}  // namespace
}  // namespace ipckit

namespace ipckit {
namespace {

using namespace std::chrono_literals;

TEST(ChannelMp, SubscriberKilledWhileJoiningDoesNotBlockABlockingPublisher) {
    const auto name = test::chan_name();
    auto pub = Publisher::create(name, test::small_config()).value();
    auto victim = test::ForkedChild::spawn([&] {
        ::setenv("IPCKIT_FAULT_POINT", "chan.subscribe.after_lock:kill", 1);
        detail::reload_fault_points();
        (void)Subscriber::open(name);
        return 3;
    });
    ASSERT_EQ(victim.wait_for(10s).signal, SIGKILL);
    auto info = Channel::inspect(name).value();
    ASSERT_EQ(info.subscribers.size(), 1U) << "the half-joined record is visible";
    EXPECT_FALSE(info.subscribers[0].alive);
    for (int i = 0; i < 50; ++i) {  // far more than the ring holds: nobody live to wait for
        auto l = pub.loan_for(496, 10s);
        ASSERT_TRUE(l && *l) << i;
        ASSERT_TRUE(pub.publish(std::move(**l)));
    }
    EXPECT_TRUE(Channel::inspect(name).value().subscribers.empty()) << "reclaimed by the publisher";
}

}  // namespace
}  // namespace ipckit

namespace ipckit {
namespace {

/// Reads one byte from `fd` (the readiness hand-off below); false on EOF or error.
bool read_token(int fd) {
    char c = 0;
    ssize_t n = 0;
    while ((n = ::read(fd, &c, 1)) < 0 && errno == EINTR) {
    }
    return n == 1;
}

/// B13: a dead subscriber's pid is given to an unrelated live process (a new PID namespace makes
/// the reuse certain: ns_last_pid is set back). Liveness comes from the record's OFD lock, so the
/// record is still dead: a blocking publisher reclaims it instead of waiting for the impostor.
TEST(ChannelMp, ReusedPidOfADeadSubscriberIsStillDead) {
    const auto name = chan_name();
    auto c = small_config();  // 4096-byte lanes: a few 496-byte messages fill one
    ASSERT_TRUE(Channel::create(name, c));
    auto outer = ForkedChild::spawn([&] {
        if (::unshare(CLONE_NEWPID) != 0) {
            return 77;  // no CAP_SYS_ADMIN here: reported as a skip below
        }
        const pid_t init = ::fork();  // pid 1 of the new namespace
        if (init == 0) {
            int ready[2];
            CHILD_CHECK(::pipe(ready) == 0);
            const pid_t victim = ::fork();
            if (victim == 0) {
                auto sub = Subscriber::open(name);
                CHILD_CHECK(sub);
                (void)::write(ready[1], "j", 1);
                ::pause();  // holds its record (and lane) until killed
                ::_exit(0);
            }
            CHILD_CHECK(read_token(ready[0]));
            CHILD_CHECK(::kill(victim, SIGKILL) == 0);
            CHILD_CHECK(::waitpid(victim, nullptr, 0) == victim);
            // The next fork in this namespace gets the dead subscriber's pid.
            FILE* f = std::fopen("/proc/sys/kernel/ns_last_pid", "w");
            CHILD_CHECK(f != nullptr);
            std::fprintf(f, "%d", victim - 1);
            std::fclose(f);
            const pid_t impostor = ::fork();
            if (impostor == 0) {
                ::pause();
                ::_exit(0);
            }
            CHILD_CHECK(impostor == victim);
            auto pub = Publisher::open(name);
            CHILD_CHECK(pub);
            for (int i = 0; i < 32; ++i) {  // several laps of the 4 KiB lane
                auto l = pub->loan_for(496, 10s);
                CHILD_CHECK(l && *l);  // never blocked by the dead record
                CHILD_CHECK(pub->publish(std::move(**l)));
            }
            auto info = Channel::inspect(name);
            CHILD_CHECK(info);
            for (const auto& s : info->subscribers) {
                CHILD_CHECK(!(s.pid == victim && s.alive));  // the impostor's pid, yet dead
            }
            ::kill(impostor, SIGKILL);
            ::waitpid(impostor, nullptr, 0);
            ::_exit(0);
        }
        int status = 0;
        if (init < 0 || ::waitpid(init, &status, 0) != init) {
            return 2;
        }
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    });
    auto r = outer.wait_for(30s);
    if (r.exited && r.exit_code == 77) {
        GTEST_SKIP() << "unshare(CLONE_NEWPID) needs CAP_SYS_ADMIN";
    }
    EXPECT_CHILD_OK(r);
}

}  // namespace
}  // namespace ipckit

namespace ipckit {
namespace {

/// B23, short: 40 creators killed from outside at random instants (the soak runs 1000).
TEST(ChannelMp, CreatorKilledAtRandomInstantsLeavesAUsableName) {
    const auto out = test::run_creator_kill_matrix(40, 23);
    EXPECT_EQ(out.created + out.stale_init + out.absent, 40);
    std::printf("[ matrix   ] created %d, stale init %d, absent %d\n",
                out.created,
                out.stale_init,
                out.absent);
}

}  // namespace
}  // namespace ipckit
