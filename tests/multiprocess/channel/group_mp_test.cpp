// SPDX-License-Identifier: MIT
// Work-queue groups across processes: competing consumers split a stream exactly once, several
// groups beside a subscriber, a consumer SIGKILLed while holding a message (at-least-once and
// at-most-once), killed between winning a claim and recording it, a kill loop, and forged claim
// and held positions in the file.
#include "../../unit/channel/channel_test_util.hpp"
#include "channel/channel_file.hpp"
#include "channel/fault_point.hpp"
#include "eventually.hpp"
#include "forked_child.hpp"
#include "ipckit/channel/group_consumer.hpp"
#include "ipckit/core/mapping.hpp"
#include "run_program.hpp"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <random>
#include <set>
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
using test::as_string;
using test::chan_name;
using test::ForkedChild;
using test::small_config;

/// SharedCounters counters for parent/child hand-offs: a few flags, then one counter per message.



std::uint64_t seq_of(std::span<const std::byte> b) {
    std::uint64_t seq = 0;
    if (!test::check_message(b, &seq)) {
        return ~std::uint64_t{0};
    }
    return seq;
}

/// Publishes n checked messages of varying size (in this process).
void publish_checked(Publisher& pub, std::uint64_t first, std::uint64_t n) {
    for (std::uint64_t i = first; i < first + n; ++i) {
        auto l = pub.loan_for(8 + (i * 37) % 300, 10s);
        ASSERT_TRUE(l && *l);
        test::fill_message((*l)->bytes(), i);
        ASSERT_TRUE(pub.publish(std::move(**l)));
    }
}

/// A consumer child: takes messages until `total` were taken by the whole group, counting each
/// sequence number in `sh`; flag 1 counts joined consumers, flag 2 the messages taken.
int consume_until(SharedCounters& sh, const std::string& name, const std::string& group,
                  std::uint32_t total, int flag_joined, int flag_taken, std::uint32_t counter_base) {
    auto g = GroupConsumer::open(name, group);
    CHILD_CHECK(g);
    sh.at(flag_joined).fetch_add(1);
    const auto give_up = std::chrono::steady_clock::now() + 20s;
    while (sh.at(flag_taken).load() < total) {
        CHILD_CHECK(std::chrono::steady_clock::now() < give_up);
        auto s = g->receive_for(50ms);
        CHILD_CHECK(s);
        if (!*s) {
            continue;
        }
        const std::uint64_t seq = seq_of((*s)->bytes());
        CHILD_CHECK(seq < total);
        CHILD_CHECK(!(*s)->redelivered());
        sh.count(counter_base + seq).fetch_add(1);
        sh.at(flag_taken).fetch_add(1);
    }
    return 0;
}

TEST(GroupMp, ThreeConsumersSplitTheStreamEachMessageExactlyOnce) {
    const auto name = chan_name();
    constexpr std::uint32_t kN = 3000;
    SharedCounters sh(kN);
    auto pub = Publisher::create(name, small_config()).value();  // 4 KiB lanes: many waits
    std::vector<ForkedChild> consumers;
    for (int i = 0; i < 3; ++i) {
        consumers.push_back(ForkedChild::spawn([&] { return consume_until(sh, name, "w", kN, 1, 2, 0U); }));
    }
    ASSERT_TRUE(wait_flag(sh.at(1), 3, "three consumers joined"));
    publish_checked(pub, 0, kN);
    for (auto& c : consumers) {
        EXPECT_CHILD_OK(c.wait_for(30s));
    }
    for (std::uint32_t i = 0; i < kN; ++i) {
        ASSERT_EQ(sh.count(i).load(), 1U) << "message " << i;
    }
    EXPECT_EQ(sh.at(2).load(), kN);
    auto info = Channel::inspect(name).value();
    ASSERT_EQ(info.groups.size(), 1U);
    EXPECT_EQ(info.groups[0].redelivered, 0U);
    EXPECT_EQ(info.groups[0].lost, 0U);
    EXPECT_EQ(info.groups[0].corrupt, 0U);
}

TEST(GroupMp, TwoGroupsAndASubscriberAcrossProcessesEachSeeEveryMessageOnce) {
    const auto name = chan_name();
    constexpr std::uint32_t kN = 2000;
    SharedCounters sh(2 * kN);
    auto pub = Publisher::create(name, small_config()).value();
    std::vector<ForkedChild> children;
    for (int i = 0; i < 2; ++i) {
        children.push_back(ForkedChild::spawn([&] { return consume_until(sh, name, "a", kN, 1, 2, 0U); }));
        children.push_back(ForkedChild::spawn([&] { return consume_until(sh, name, "b", kN, 1, 3, kN); }));
    }
    children.push_back(ForkedChild::spawn([&] {
        auto sub = Subscriber::open(name);
        CHILD_CHECK(sub);
        sh.at(1).fetch_add(1);
        std::vector<std::byte> buf;
        for (std::uint64_t i = 0; i < kN; ++i) {
            auto r = sub->receive_until(buf, Deadline::after(10s));
            CHILD_CHECK(r && *r);
            CHILD_CHECK(seq_of(std::span(buf).first((*r)->size)) == i);
        }
        return 0;
    }));
    ASSERT_TRUE(wait_flag(sh.at(1), 5, "four consumers and a subscriber joined"));
    publish_checked(pub, 0, kN);
    for (auto& c : children) {
        EXPECT_CHILD_OK(c.wait_for(30s));
    }
    for (std::uint32_t i = 0; i < 2 * kN; ++i) {
        ASSERT_EQ(sh.count(i).load(), 1U) << (i < kN ? "group a, message " : "group b, message ")
                                         << i % kN;
    }
}

/// The victim joins, takes one message, reports its member index, and waits to be killed.
ForkedChild victim_holding(SharedCounters& sh, const std::string& name, const GroupOptions& o) {
    return ForkedChild::spawn([&sh, name, o]() -> int {
        auto g = GroupConsumer::open(name, "g", o);
        CHILD_CHECK(g);
        sh.at(3).store(g->member_index() + 1);
        auto s = g->receive_for(10s);
        CHILD_CHECK(s && *s);
        sh.at(4).store(static_cast<std::uint32_t>(seq_of((**s).bytes())) + 1);
        for (;;) {
            ::pause();  // holding it
        }
        return 0;
    });
}

TEST(GroupMp, AConsumerKilledWhileHoldingAMessageHasItRedeliveredAtLeastOnce) {
    const auto name = chan_name();
    SharedCounters sh;
    auto pub = Publisher::create(name, small_config()).value();
    auto survivor = GroupConsumer::open(name, "g").value();
    auto victim = victim_holding(sh, name, {});
    ASSERT_TRUE(wait_flag(sh.at(3), 1, "victim joined"));
    publish_checked(pub, 0, 1);
    ASSERT_TRUE(wait_flag(sh.at(4), 1, "victim holds a message"));
    EXPECT_EQ(sh.at(4).load(), 1U);  // message 0
    publish_checked(pub, 1, 2);
    victim.kill(SIGKILL);
    EXPECT_EQ(victim.wait_for(5s).signal, SIGKILL);
    std::multiset<std::uint64_t> got;
    std::uint64_t flagged = 0;
    for (int i = 0; i < 3; ++i) {
        auto s = survivor.receive_for(5s).value();
        ASSERT_TRUE(s) << i;
        const std::uint64_t seq = seq_of(s->bytes());
        got.insert(seq);
        if (s->redelivered()) {
            ++flagged;
            EXPECT_EQ(seq, 0U) << "only the held message is redelivered";
        }
    }
    EXPECT_EQ(got, (std::multiset<std::uint64_t>{0, 1, 2}));
    EXPECT_EQ(flagged, 1U);
    EXPECT_EQ(survivor.redelivered_count(), 1U);
    EXPECT_FALSE(survivor.receive_for(100ms).value());
    auto info = Channel::inspect(name).value();
    ASSERT_EQ(info.groups.size(), 1U);
    EXPECT_EQ(info.groups[0].redelivered, 1U);
    EXPECT_EQ(info.groups[0].lost, 0U);
    EXPECT_EQ(info.groups[0].consumers, 1U);
    EXPECT_EQ(info.groups[0].dead_consumers, 0U) << "the dead record was reclaimed";
    EXPECT_EQ(info.groups[0].in_flight, 0U);
}

TEST(GroupMp, AtMostOnceDropsAndCountsWhatAKilledConsumerHeld) {
    const auto name = chan_name();
    SharedCounters sh;
    auto pub = Publisher::create(name, small_config()).value();
    GroupOptions o;
    o.delivery = GroupDelivery::AtMostOnce;
    auto survivor = GroupConsumer::open(name, "g", o).value();
    auto victim = victim_holding(sh, name, o);
    ASSERT_TRUE(wait_flag(sh.at(3), 1, "victim joined"));
    publish_checked(pub, 0, 1);
    ASSERT_TRUE(wait_flag(sh.at(4), 1, "victim holds a message"));
    publish_checked(pub, 1, 2);
    victim.kill(SIGKILL);
    EXPECT_EQ(victim.wait_for(5s).signal, SIGKILL);
    std::multiset<std::uint64_t> got;
    while (auto s = survivor.receive_for(300ms).value()) {
        EXPECT_FALSE(s->redelivered());
        got.insert(seq_of(s->bytes()));
    }
    EXPECT_EQ(got, (std::multiset<std::uint64_t>{1, 2}));
    auto info = Channel::inspect(name).value();
    ASSERT_EQ(info.groups.size(), 1U);
    EXPECT_TRUE(info.groups[0].at_most_once);
    EXPECT_EQ(info.groups[0].lost, 1U);
    EXPECT_EQ(info.groups[0].redelivered, 0U);
    EXPECT_EQ(info.groups[0].dead_consumers, 0U);
    // The publisher is not held back by the dropped message: a whole lane goes through.
    for (int i = 0; i < 40; ++i) {
        ASSERT_TRUE(pub.send_until(as_bytes(std::string(200, 'x')), Deadline::after(2s)).value());
        ASSERT_TRUE(survivor.receive_for(2s).value());
    }
}

TEST(GroupMp, KilledBetweenWinningAClaimAndRecordingItIsStillRedelivered) {
    const auto name = chan_name();
    SharedCounters sh;
    auto pub = Publisher::create(name, small_config()).value();
    auto survivor = GroupConsumer::open(name, "g").value();
    publish_checked(pub, 0, 1);
    auto victim = ForkedChild::spawn([&] {
        auto g = GroupConsumer::open(name, "g");
        CHILD_CHECK(g);
        arm_fault("chan.group.after_claim:kill");
        (void)g->try_receive();
        return 3;  // not reached
    });
    EXPECT_EQ(victim.wait_for(10s).signal, SIGKILL);
    publish_checked(pub, 1, 1);
    std::multiset<std::uint64_t> got;
    std::uint64_t flagged = 0;
    while (auto s = survivor.receive_for(300ms).value()) {
        got.insert(seq_of(s->bytes()));
        flagged += s->redelivered() ? 1U : 0U;
    }
    EXPECT_EQ(got, (std::multiset<std::uint64_t>{0, 1}));
    EXPECT_EQ(flagged, 1U);
}

using test::is_stopped;

// A consumer paused (preempted, SIGSTOPped) between reading a record's stamp at the claim it
// loaded and reading its length, while the rest of the group takes that record and the publisher
// laps over it, reads a length from another record's payload. Its claim is stale, not forged:
// corrupt must stay 0 (the chaos facility `group` saw group_corrupt=0..9 per 3 s run here).
TEST(GroupMp, AConsumerPausedMidClaimWhileTheGroupLapsItCountsNoCorruption) {
    const auto name = chan_name();
    SharedCounters sh;
    const auto c = small_config();  // lane 4096 bytes
    auto pub = Publisher::create(name, c).value();
    auto other = GroupConsumer::open(name, "g").value();
    publish_checked(pub, 0, 1);  // so the paused claim is not at the ring's start
    ASSERT_TRUE(other.receive_for(2s).value());
    auto paused = ForkedChild::spawn([&] {
        auto g = GroupConsumer::open(name, "g");
        CHILD_CHECK(g);
        arm_fault("chan.group.after_stamp:stop");
        sh.at(0).store(1);
        for (int polls = 0;; ++polls) {
            CHILD_CHECK(polls < 10000000);
            auto r = g->try_receive();
            CHILD_CHECK(r);
            if (sh.at(1).load() != 0) {
                arm_fault("");
                CHILD_CHECK(!*r);  // the group took everything while we were paused
                break;
            }
            CHILD_CHECK(!*r);
        }
        if (g->corrupt_count() != 0) {
            test::child_fail("corrupt_count=" + std::to_string(g->corrupt_count()) +
                             " after a pause, though nothing was forged");
        }
        return 0;
    });
    ASSERT_TRUE(wait_flag(sh.at(0), 1, "the paused consumer joined"));
    publish_checked(pub, 1, 1);
    ASSERT_TRUE(test::eventually(
        10s,
        "the consumer stopped after reading the stamp",
        [&] { return is_stopped(paused.pid()); },
        1ms));
    ASSERT_TRUE(other.receive_for(2s).value());
    // Lap it: the record it read the stamp of is overwritten by another record's payload.
    const std::uint64_t rec = detail::record_bytes(1000);
    for (std::uint64_t i = 0; i < c.lane_bytes / rec + 2; ++i) {
        auto l = pub.loan_for(1000, 2s);
        ASSERT_TRUE(l && *l);
        std::fill((*l)->bytes().begin(), (*l)->bytes().end(), std::byte{0xff});
        ASSERT_TRUE(pub.publish(std::move(**l)));
        ASSERT_TRUE(other.receive_for(2s).value());
    }
    sh.at(1).store(1);
    paused.kill(SIGCONT);
    EXPECT_CHILD_OK(paused.wait_for(10s));
    auto info = Channel::inspect(name).value();
    ASSERT_EQ(info.groups.size(), 1U);
    EXPECT_EQ(info.groups[0].corrupt, 0U);
}

// The same pause before the stamp is read: the lapped bytes at the stale claim are no record
// and the tail is more than a lane ahead, which a claim still in place would mean forged. The
// tail is checked on every 1024th empty poll (kTailCheckPolls): the paused poll is made that one.
TEST(GroupMp, AConsumerPausedBeforeItsTailCheckWhileTheGroupLapsItCountsNoCorruption) {
    const auto name = chan_name();
    SharedCounters sh;
    const auto c = small_config();  // lane 4096 bytes
    auto pub = Publisher::create(name, c).value();
    auto other = GroupConsumer::open(name, "g").value();
    publish_checked(pub, 0, 1);
    ASSERT_TRUE(other.receive_for(2s).value());
    auto paused = ForkedChild::spawn([&] {
        auto g = GroupConsumer::open(name, "g");
        CHILD_CHECK(g);
        for (int i = 0; i < 1023; ++i) {  // empty polls, one lane: one empty look each
            auto r = g->try_receive();
            CHILD_CHECK(r && !*r);
        }
        arm_fault("chan.group.before_stamp:stop");
        sh.at(0).store(1);
        auto r = g->try_receive();  // stops at once; resumes after the lap
        arm_fault("");
        CHILD_CHECK(r && !*r);  // the group took everything while we were paused
        if (g->corrupt_count() != 0) {
            test::child_fail("corrupt_count=" + std::to_string(g->corrupt_count()) +
                             " after a pause, though nothing was forged");
        }
        return 0;
    });
    ASSERT_TRUE(wait_flag(sh.at(0), 1, "the paused consumer made its empty polls"));
    ASSERT_TRUE(test::eventually(
        10s,
        "the consumer stopped before reading the stamp",
        [&] { return is_stopped(paused.pid()); },
        1ms));
    publish_checked(pub, 1, 1);
    ASSERT_TRUE(other.receive_for(2s).value());
    const std::uint64_t rec = detail::record_bytes(1000);
    for (std::uint64_t i = 0; i < c.lane_bytes / rec + 2; ++i) {
        auto l = pub.loan_for(1000, 2s);
        ASSERT_TRUE(l && *l);
        std::fill((*l)->bytes().begin(), (*l)->bytes().end(), std::byte{0xff});
        ASSERT_TRUE(pub.publish(std::move(**l)));
        ASSERT_TRUE(other.receive_for(2s).value());
    }
    // Each retry passes the fault point again: keep continuing it until it exits.
    std::atomic<bool> done{false};
    std::thread resumer([&] {
        while (!done.load()) {
            if (is_stopped(paused.pid())) {
                paused.kill(SIGCONT);
            }
            std::this_thread::sleep_for(1ms);
        }
    });
    paused.kill(SIGCONT);
    const auto result = paused.wait_for(10s);
    done.store(true);
    resumer.join();
    EXPECT_CHILD_OK(result);
    auto info = Channel::inspect(name).value();
    ASSERT_EQ(info.groups.size(), 1U);
    EXPECT_EQ(info.groups[0].corrupt, 0U);
}

TEST(GroupMp, ConsumersKilledAtRandomInstantsLoseNothingAtLeastOnce) {
    const auto name = chan_name();
    constexpr std::uint32_t kN = 1500;
    SharedCounters sh(kN);
    auto c = small_config();
    c.max_group_members = 16;
    auto pub = Publisher::create(name, c).value();
    // Flag 2: messages taken; a message seen twice must be flagged redelivered the second time.
    auto take = [&](GroupConsumer& g) -> int {
        auto s = g.receive_for(20ms);
        CHILD_CHECK(s);
        if (!*s) {
            return 0;
        }
        const std::uint64_t seq = seq_of((*s)->bytes());
        CHILD_CHECK(seq < kN);
        const std::uint32_t before = sh.count(seq).fetch_add(1);
        CHILD_CHECK(before == 0 || (*s)->redelivered());
        if (before == 0) {
            sh.at(2).fetch_add(1);
        }
        return 1;
    };
    auto steady = ForkedChild::spawn([&] {
        auto g = GroupConsumer::open(name, "g");
        CHILD_CHECK(g);
        sh.at(1).fetch_add(1);
        const auto give_up = std::chrono::steady_clock::now() + 25s;
        while (sh.at(2).load() < kN) {
            CHILD_CHECK(std::chrono::steady_clock::now() < give_up);
            (void)take(*g);
        }
        return 0;
    });
    ASSERT_TRUE(wait_flag(sh.at(1), 1, "steady consumer joined"));
    auto producer = ForkedChild::spawn([&] {
        auto p = Publisher::open(name);
        CHILD_CHECK(p);
        for (std::uint64_t i = 0; i < kN; ++i) {
            auto l = p->loan_for(8 + (i * 37) % 300, 20s);
            CHILD_CHECK(l && *l);
            test::fill_message((*l)->bytes(), i);
            CHILD_CHECK(p->publish(std::move(**l)));
            if (i % 8 == 0) {
                std::this_thread::sleep_for(200us);  // paced: the kills land mid-stream
            }
        }
        return 0;
    });
    std::mt19937 rng(12345);
    int kills = 0;
    while (sh.at(2).load() < kN && kills < 40) {
        auto victim = ForkedChild::spawn([&]() -> int {
            auto g = GroupConsumer::open(name, "g");
            CHILD_CHECK(g);
            for (;;) {
                (void)take(*g);
            }
            return 0;
        });
        std::this_thread::sleep_for(std::chrono::microseconds(300 + rng() % 3000));
        victim.kill(SIGKILL);
        (void)victim.wait_for(5s);
        ++kills;
    }
    EXPECT_CHILD_OK(producer.wait_for(30s));
    EXPECT_CHILD_OK(steady.wait_for(30s));
    EXPECT_GE(kills, 10) << "the stream ended before the kill loop got going";
    for (std::uint32_t i = 0; i < kN; ++i) {
        ASSERT_GE(sh.count(i).load(), 1U) << "message " << i << " lost";
    }
    auto info = Channel::inspect(name).value();
    ASSERT_EQ(info.groups.size(), 1U);
    EXPECT_EQ(info.groups[0].lost, 0U);
    EXPECT_EQ(info.groups[0].corrupt, 0U);
}

/// The channel file mapped read-write, as a hostile peer of the same uid sees it.
detail::ChannelFile raw_file(const std::string& name) {
    return detail::ChannelFile::open(name, {}, detail::Role::Subscriber).value();
}

TEST(GroupMp, ForgedClaimsAreCountedAndResynchronisedNeverReadOutsideALane) {
    const auto name = chan_name();
    auto pub = Publisher::create(name, small_config()).value();
    auto victim_group = GroupConsumer::open(name, "forged").value();
    auto healthy = GroupConsumer::open(name, "healthy").value();
    auto raw = raw_file(name);
    const std::uint32_t gi = victim_group.group_index();
    std::set<std::uint64_t> healthy_seen;
    std::uint64_t next = 0;
    const std::uint64_t forged[] = {
        3,                             // not a record boundary
        std::uint64_t{1} << 40,        // far ahead of the tail
        ~std::uint64_t{0} - 15,        // a huge aligned value
        0,                             // backwards, to a record already taken
        16,                            // inside a record
    };
    for (const std::uint64_t value : forged) {
        publish_checked(pub, next, 4);
        next += 4;
        auto s = victim_group.try_receive().value();
        ASSERT_TRUE(s);
        s.reset();
        const std::uint64_t before = victim_group.corrupt_count();
        raw.claim(gi, 0).store(value);
        // Whatever it delivers is a whole message of this lane; the forgery is counted.
        std::vector<std::byte> buf;
        for (int i = 0; i < 8; ++i) {
            auto r = victim_group.receive_until(buf, Deadline::after(20ms));
            ASSERT_TRUE(r) << r.error().message();
            if (*r) {
                EXPECT_NE(seq_of(std::span(buf).first((*r)->size)), ~std::uint64_t{0});
            }
        }
        EXPECT_GT(victim_group.corrupt_count(), before) << "forged claim " << value;
        // The other group is not affected at all: every message exactly once.
        while (auto h = healthy.try_receive().value()) {
            EXPECT_TRUE(healthy_seen.insert(seq_of(h->bytes())).second);
        }
    }
    EXPECT_EQ(healthy_seen.size(), next);
    EXPECT_EQ(healthy.corrupt_count(), 0U);
    // The forged group works again for new messages.
    publish_checked(pub, next, 3);
    std::set<std::uint64_t> after;
    while (auto s = victim_group.receive_for(50ms).value()) {
        EXPECT_TRUE(after.insert(seq_of(s->bytes())).second);
    }
    EXPECT_EQ(after, (std::set<std::uint64_t>{next, next + 1, next + 2}));
    auto info = Channel::inspect(name).value();
    ASSERT_EQ(info.groups.size(), 2U);
    EXPECT_GT(info.groups[gi].corrupt, 0U);
}

TEST(GroupMp, ForgedHeldPositionsOfADeadConsumerAreDroppedAndCounted) {
    struct Forgery {
        std::uint64_t pos;
        std::uint32_t lane;
    };
    for (const Forgery f : {Forgery{5, 0}, Forgery{std::uint64_t{1} << 40, 0}, Forgery{0, 999},
                            Forgery{~std::uint64_t{0} - 1, 0}}) {
        const auto name = chan_name();
        SharedCounters sh;
        auto pub = Publisher::create(name, small_config()).value();
        auto survivor = GroupConsumer::open(name, "g").value();
        auto victim = victim_holding(sh, name, {});
        ASSERT_TRUE(wait_flag(sh.at(3), 1, "victim joined"));
        publish_checked(pub, 0, 1);
        ASSERT_TRUE(wait_flag(sh.at(4), 1, "victim holds a message"));
        victim.kill(SIGKILL);
        EXPECT_EQ(victim.wait_for(5s).signal, SIGKILL);
        auto raw = raw_file(name);
        const std::uint32_t mi = sh.at(3).load() - 1;
        auto& e = raw.entry(survivor.group_index(), mi, 0);
        ASSERT_EQ(e.pos.load(), 0U) << "the victim's held entry";
        e.lane.store(f.lane);
        e.pos.store(f.pos);
        publish_checked(pub, 1, 1);
        std::multiset<std::uint64_t> got;
        while (auto s = survivor.receive_for(300ms).value()) {
            got.insert(seq_of(s->bytes()));
        }
        EXPECT_EQ(got, (std::multiset<std::uint64_t>{1})) << "forged pos " << f.pos << " lane " << f.lane;
        EXPECT_GE(survivor.corrupt_count(), 1U) << "forged pos " << f.pos << " lane " << f.lane;
        auto info = Channel::inspect(name).value();
        EXPECT_EQ(info.groups[0].dead_consumers, 0U);
    }
}

TEST(GroupMp, ScribbledGroupTableNeverCrashesAConsumer) {
    const auto name = chan_name();
    auto pub = Publisher::create(name, small_config()).value();
    auto a = GroupConsumer::open(name, "g").value();
    auto raw = raw_file(name);
    const auto& geo = raw.geometry();
    std::mt19937_64 rng(7);
    auto* base = reinterpret_cast<unsigned char*>(&raw.group(0));  // NOLINT
    const std::uint64_t bytes = geo.group_record_bytes;  // group 0 only: its head, claims, members
    for (int round = 0; round < 200; ++round) {
        if (auto l = pub.try_loan(64).value()) {
            test::fill_message(l->bytes(), static_cast<std::uint64_t>(round));
            ASSERT_TRUE(pub.publish(std::move(*l)));
        }
        const std::uint64_t off = rng() % bytes;
        if (off >= 4) {  // (byte 0 is the table mutex's lock byte; its value is only a state)
            base[off] = static_cast<unsigned char>(rng());  // NOLINT
        }
        std::vector<std::byte> buf;
        auto r = a.receive_until(buf, Deadline::after(1ms));
        if (r && *r) {
            EXPECT_LE((*r)->size, geo.max_message_size);
        }
    }
    SUCCEED() << "corrupt events counted: " << a.corrupt_count();
}

TEST(GroupExample, WorkerPoolDoesEveryJobOnce) {
    const auto name = chan_name();
    test::RunOptions o;
    o.env.push_back("IPCKIT_SHM_DIR=" + test::chan_dir());
    auto r = test::run_program({test::build_path("examples/example_worker_pool"), name, "3"}, o);
    ASSERT_TRUE(r.exited && r.exit_code == 0) << r.describe() << r.err;
    EXPECT_NE(r.out.find("publisher: 30 jobs done, sum of squares 9455 (correct)"),
              std::string::npos)
        << r.out;
    for (int w = 0; w < 3; ++w) {
        EXPECT_NE(r.out.find("worker " + std::to_string(w) + ": "), std::string::npos) << r.out;
    }
}

}  // namespace
}  // namespace ipckit
