// SPDX-License-Identifier: MIT
// Group consumers as WaitSet members, across real processes: two consumer processes, each
// sleeping in its own WaitSet, split a stream published by a third exactly once; a member
// SIGKILLed while holding a message wakes the surviving member's WaitSet, which gets it again
// (redelivered); an already-claimable message costs no system call.
#include "../../unit/channel/channel_test_util.hpp"
#include "channel/fault_point.hpp"
#include "event/wait_set_hooks.hpp"
#include "eventually.hpp"
#include "forked_child.hpp"
#include "ipckit/channel/group_consumer.hpp"
#include "ipckit/core/mapping.hpp"
#include "ipckit/event/wait_set.hpp"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>

#include <gtest/gtest.h>

namespace ipckit {
namespace {

using namespace std::chrono_literals;
using test::SharedCounters;
using test::as_bytes;
using test::as_string;
using test::chan_name;
using test::ForkedChild;
using test::small_config;
using Keys = std::vector<WaitSet::Key>;


using test::is_stopped;

Keys wait_keys(WaitSet& ws, Deadline d) {
    auto r = ws.wait(d);
    EXPECT_TRUE(r) << r.error().message();
    return r ? Keys(r->begin(), r->end()) : Keys{};
}

TEST(GroupWaitSet, TwoConsumersInWaitSetsSplitTheStreamExactlyOnce) {
    const auto name = chan_name();
    constexpr std::uint32_t kN = 600;
    SharedCounters sh(kN);
    auto pub = Publisher::create(name, small_config()).value();  // 4 KiB lanes: many waits
    auto consumer = [&] {
        auto g = GroupConsumer::open(name, "w");
        CHILD_CHECK(g);
        auto ws = WaitSet::create();
        CHILD_CHECK(ws);
        auto k = ws->add(*g);
        CHILD_CHECK(k);
        sh.at(1).fetch_add(1);
        const auto give_up = std::chrono::steady_clock::now() + 30s;
        while (sh.at(2).load() < kN) {
            CHILD_CHECK(std::chrono::steady_clock::now() < give_up);
            auto keys = ws->wait(Deadline::after(50ms));  // short: the other one may take the last
            CHILD_CHECK(keys);
            CHILD_CHECK(keys->empty() || (keys->size() == 1 && (*keys)[0] == *k));
            for (;;) {
                auto s = g->try_receive();
                CHILD_CHECK(s);
                if (!*s) {
                    break;
                }
                const auto text = as_string((*s)->bytes());
                const auto seq = std::stoul(text);
                CHILD_CHECK(seq < kN);
                sh.count(seq).fetch_add(1);
                sh.at(2).fetch_add(1);
            }
        }
        return 0;
    };
    auto a = ForkedChild::spawn(consumer);
    auto b = ForkedChild::spawn(consumer);
    ASSERT_TRUE(
        test::eventually(10s, "two consumers joined", [&] { return sh.at(1).load() == 2; }));
    for (std::uint32_t i = 0; i < kN; ++i) {
        if (i % 50 == 0) {
            std::this_thread::sleep_for(5ms);  // let both fall asleep now and then
        }
        auto l = pub.loan_for(16, 10s);
        ASSERT_TRUE(l && *l);
        const std::string text = std::to_string(i);
        std::memcpy((*l)->bytes().data(), text.data(), text.size());
        (*l)->resize(text.size());
        ASSERT_TRUE(pub.publish(std::move(**l)));
    }
    EXPECT_CHILD_OK(a.wait_for(30s));
    EXPECT_CHILD_OK(b.wait_for(30s));
    for (std::uint32_t i = 0; i < kN; ++i) {
        ASSERT_EQ(sh.count(i).load(), 1U) << "message " << i;
    }
    ASSERT_TRUE(Channel::remove(name));
}

TEST(GroupWaitSet, MemberKilledHoldingAMessageWakesTheOtherWithTheRedelivery) {
    const auto name = chan_name();
    SharedCounters sh;
    auto pub = Publisher::create(name, small_config()).value();
    auto g = GroupConsumer::open(name, "w").value();
    auto ws = WaitSet::create().value();
    const auto k = ws.add(g).value();
    auto doomed = ForkedChild::spawn([&] {
        auto mine = GroupConsumer::open(name, "w");
        CHILD_CHECK(mine);
        sh.at(0).store(1);
        auto s = mine->receive_for(10s);
        CHILD_CHECK(s && *s);
        sh.at(1).store(1);
        std::this_thread::sleep_for(30s);  // holds it until SIGKILLed
        return 0;
    });
    ASSERT_TRUE(
        test::eventually(10s, "the doomed member joined", [&] { return sh.at(0).load() == 1; }));
    ASSERT_TRUE(pub.send(as_bytes("job")));
    // The message is claimable until the doomed member takes it: do not take it here.
    ASSERT_TRUE(
        test::eventually(10s, "the doomed member holds it", [&] { return sh.at(1).load() == 1; }));
    EXPECT_TRUE(wait_keys(ws, Deadline::after(60ms)).empty()) << "held by a live member";
    doomed.kill(SIGKILL);
    (void)doomed.wait_for(10s);
    EXPECT_EQ(wait_keys(ws, Deadline::after(10s)), Keys{k}) << "the dead member's message";
    const auto calls = detail::g_wait_set_syscalls.load();
    EXPECT_EQ(wait_keys(ws, Deadline::now()), Keys{k});
    EXPECT_EQ(detail::g_wait_set_syscalls.load(), calls) << "adopted and pending: no system call";
    auto s = g.try_receive().value();
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(as_string(s->bytes()), "job");
    EXPECT_TRUE(s->redelivered());
    s.reset();
    EXPECT_TRUE(wait_keys(ws, Deadline::after(60ms)).empty());
    ASSERT_TRUE(Channel::remove(name));
}

TEST(GroupWaitSet, PublishBetweenTheLastCheckAndTheSleepRingsTheDoorbell) {
    const auto name = chan_name();
    auto pub = Publisher::create(name, small_config()).value();
    auto consumer = ForkedChild::spawn([&] {
        auto g = GroupConsumer::open(name, "w");
        CHILD_CHECK(g);
        auto ws = WaitSet::create();
        CHILD_CHECK(ws);
        auto k = ws->add(*g);
        CHILD_CHECK(k);
        const auto rings = detail::g_wait_set_rings.load();
        test::arm_fault("waitset.before_sleep:stop");
        auto keys = ws->wait(Deadline::after(20s));
        test::arm_fault("");
        CHILD_CHECK(keys);
        CHILD_CHECK(keys->size() == 1 && (*keys)[0] == *k);
        CHILD_CHECK(detail::g_wait_set_rings.load() - rings >= 1);  // not the 50 ms slice
        auto s = g->try_receive();
        CHILD_CHECK(s && *s);
        CHILD_CHECK(as_string((**s).bytes()) == "late");
        return 0;
    });
    ASSERT_TRUE(test::eventually(
        10s,
        "the consumer's WaitSet stopped before its sleep",
        [&] { return is_stopped(consumer.pid()); },
        1ms));
    ASSERT_TRUE(pub.send(as_bytes("late")));
    consumer.kill(SIGCONT);
    EXPECT_CHILD_OK(consumer.wait_for(10s));
    ASSERT_TRUE(Channel::remove(name));
}

}  // namespace
}  // namespace ipckit
