// SPDX-License-Identifier: MIT
// Work-queue groups in one process: names, bounds, exclusive delivery, several groups beside a
// subscriber, the loan quota, delivery modes, inspect.
#include "channel/layout.hpp"
#include "channel_test_util.hpp"
#include "ipckit/channel/group_consumer.hpp"

#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace ipckit {
namespace {

using namespace std::chrono_literals;
using test::as_bytes;
using test::as_string;
using test::chan_name;
using test::small_config;

std::string text(const GroupSample& s) { return as_string(s.bytes()); }

TEST(ChannelGroup, NamesAreValidatedBeforeAnyFileAccess) {
    EXPECT_TRUE(GroupConsumer::validate_group_name("workers-1.a_b"));
    for (const char* bad : {"", "a b", "a/b", "x?y", "caf\xc3\xa9"}) {
        auto r = GroupConsumer::validate_group_name(bad);
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error(), std::errc::invalid_argument);
    }
    EXPECT_TRUE(GroupConsumer::validate_group_name(std::string(63, 'g')));
    EXPECT_FALSE(GroupConsumer::validate_group_name(std::string(64, 'g')));
    auto r = GroupConsumer::open("no-such-channel-" + chan_name(), "bad name");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), std::errc::invalid_argument);
}

TEST(ChannelGroup, EachMessageGoesToExactlyOneConsumerOfTheGroup) {
    const auto name = chan_name();
    auto pub = Publisher::create(name, small_config()).value();
    auto a = GroupConsumer::open(name, "w").value();
    auto b = GroupConsumer::open(name, "w").value();
    EXPECT_EQ(a.group_index(), b.group_index());
    EXPECT_NE(a.member_index(), b.member_index());
    for (int i = 0; i < 20; ++i) {
        ASSERT_TRUE(pub.send(as_bytes("m" + std::to_string(i))));
    }
    std::set<std::string> got;
    int from_a = 0;
    for (int i = 0; i < 20; ++i) {
        GroupConsumer& c = i % 2 == 0 ? a : b;
        auto s = c.try_receive().value();
        ASSERT_TRUE(s) << i;
        EXPECT_FALSE(s->redelivered());
        EXPECT_TRUE(got.insert(text(*s)).second) << "delivered twice: " << text(*s);
        from_a += i % 2 == 0 ? 1 : 0;
    }
    EXPECT_EQ(got.size(), 20U);
    EXPECT_FALSE(a.try_receive().value());
    EXPECT_FALSE(b.try_receive().value());
    EXPECT_EQ(a.received_count() + b.received_count(), 20U);
    EXPECT_EQ(static_cast<int>(a.received_count()), from_a);
}

TEST(ChannelGroup, SeveralGroupsAndASubscriberEachSeeEveryMessage) {
    const auto name = chan_name();
    auto pub = Publisher::create(name, small_config()).value();
    auto sub = Subscriber::open(name).value();
    auto g1a = GroupConsumer::open(name, "one").value();
    auto g1b = GroupConsumer::open(name, "one").value();
    auto g2 = GroupConsumer::open(name, "two").value();
    EXPECT_NE(g1a.group_index(), g2.group_index());
    for (int i = 0; i < 30; ++i) {
        ASSERT_TRUE(pub.send(as_bytes(std::to_string(i))));
    }
    std::multiset<std::string> one;
    std::multiset<std::string> two;
    std::multiset<std::string> plain;
    for (int i = 0; i < 30; ++i) {
        auto s = (i % 3 == 0 ? g1b : g1a).try_receive().value();
        ASSERT_TRUE(s);
        one.insert(text(*s));
        auto t = g2.try_receive().value();
        ASSERT_TRUE(t);
        two.insert(text(*t));
        auto u = sub.try_receive().value();
        ASSERT_TRUE(u);
        plain.insert(as_string(u->bytes()));
    }
    EXPECT_EQ(one, plain);
    EXPECT_EQ(two, plain);
    EXPECT_EQ(std::set<std::string>(one.begin(), one.end()).size(), 30U);
    EXPECT_FALSE(g1a.try_receive().value());
    EXPECT_FALSE(g1b.try_receive().value());
    EXPECT_FALSE(g2.try_receive().value());
}

TEST(ChannelGroup, ABlockModePublisherWaitsForTheSlowestGroupAndIsFreedByAcks) {
    const auto name = chan_name();
    auto c = small_config();  // 4 KiB lanes
    auto pub = Publisher::create(name, c).value();
    auto fast = GroupConsumer::open(name, "fast").value();
    auto slow = GroupConsumer::open(name, "slow").value();
    const std::string msg(200, 'x');
    int sent = 0;
    for (; sent < 100; ++sent) {
        auto l = pub.try_loan(msg.size()).value();
        if (!l) {
            break;
        }
        std::memcpy(l->data(), msg.data(), msg.size());
        ASSERT_TRUE(pub.publish(std::move(*l)));
        while (auto s = fast.try_receive().value()) {
        }
    }
    ASSERT_GT(sent, 5);
    ASSERT_LT(sent, 100) << "the slow group never held the publisher back";
    // A sample the slow group holds keeps its space; releasing it (the ack) frees it.
    auto held = slow.try_receive().value();
    ASSERT_TRUE(held);
    EXPECT_FALSE(pub.try_loan(msg.size()).value());
    held.reset();
    EXPECT_TRUE(pub.try_loan(msg.size()).value());
}

TEST(ChannelGroup, AConsumerHoldsAtMostMaxLoansSamples) {
    const auto name = chan_name();
    auto c = small_config();
    c.max_loans = 2;
    auto pub = Publisher::create(name, c).value();
    auto g = GroupConsumer::open(name, "q").value();
    for (int i = 0; i < 4; ++i) {
        ASSERT_TRUE(pub.send(as_bytes("x")));
    }
    auto s1 = g.try_receive().value();
    auto s2 = g.try_receive().value();
    ASSERT_TRUE(s1 && s2);
    auto r = g.try_receive();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), std::errc::no_buffer_space);
    s1.reset();
    EXPECT_TRUE(g.try_receive().value());
}

TEST(ChannelGroup, CopyingReceiveAcknowledgesAtOnce) {
    const auto name = chan_name();
    auto c = small_config();
    c.max_loans = 1;
    auto pub = Publisher::create(name, c).value();
    auto g = GroupConsumer::open(name, "q").value();
    for (int i = 0; i < 5; ++i) {
        ASSERT_TRUE(pub.send(as_bytes("copy" + std::to_string(i))));
    }
    std::vector<std::byte> buf;
    for (int i = 0; i < 5; ++i) {
        auto r = g.receive_until(buf, Deadline::after(1s)).value();
        ASSERT_TRUE(r);
        EXPECT_EQ(as_string(std::span(buf).first(r->size)), "copy" + std::to_string(i));
    }
    EXPECT_FALSE(g.receive_until(buf, Deadline::after(10ms)).value());
}

TEST(ChannelGroup, DeliveryIsFixedWhenTheGroupIsCreated) {
    const auto name = chan_name();
    auto pub = Publisher::create(name, small_config()).value();
    GroupOptions once;
    once.delivery = GroupDelivery::AtMostOnce;
    auto a = GroupConsumer::open(name, "g", once).value();
    EXPECT_EQ(a.delivery(), GroupDelivery::AtMostOnce);
    auto b = GroupConsumer::open(name, "g").value();  // no preference: joins as it is
    EXPECT_EQ(b.delivery(), GroupDelivery::AtMostOnce);
    GroupOptions least;
    least.delivery = GroupDelivery::AtLeastOnce;
    auto r = GroupConsumer::open(name, "g", least);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), std::errc::invalid_argument);
    EXPECT_NE(r.error().message().find("at-most-once"), std::string::npos) << r.error().message();
    EXPECT_EQ(GroupConsumer::open(name, "other").value().delivery(), GroupDelivery::AtLeastOnce);
}

TEST(ChannelGroup, LimitsAndUnsupportedChannelsAreClearErrors) {
    const auto name = chan_name();
    auto c = small_config();
    c.max_groups = 1;
    c.max_group_members = 1;
    auto pub = Publisher::create(name, c).value();
    auto a = GroupConsumer::open(name, "one").value();
    auto r = GroupConsumer::open(name, "one");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), std::errc::resource_unavailable_try_again);
    r = GroupConsumer::open(name, "two");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), std::errc::resource_unavailable_try_again);

    const auto over = chan_name();
    auto pub2 = Publisher::create(over, small_config(ChannelPolicy::Overwrite)).value();
    r = GroupConsumer::open(over, "g");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), std::errc::operation_not_supported);

    const auto none = chan_name();
    auto c0 = small_config();
    c0.max_groups = 0;
    auto pub3 = Publisher::create(none, c0).value();
    r = GroupConsumer::open(none, "g");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), std::errc::operation_not_supported);

    auto bad = small_config();
    bad.max_groups = 100000;
    EXPECT_EQ(Channel::create(chan_name(), bad).error(), std::errc::invalid_argument);
    bad = small_config();
    bad.max_group_members = 0;
    EXPECT_EQ(Channel::create(chan_name(), bad).error(), std::errc::invalid_argument);
}

TEST(ChannelGroup, AGroupWithNoLiveConsumerRestartsAtTheHead) {
    const auto name = chan_name();
    auto pub = Publisher::create(name, small_config()).value();
    {
        auto g = GroupConsumer::open(name, "g").value();
        ASSERT_TRUE(pub.send(as_bytes("seen")));
        EXPECT_TRUE(g.try_receive().value());
    }
    // Nobody in the group: it does not hold the publisher back, and a new consumer starts at
    // the head, like a new subscriber.
    for (int i = 0; i < 100; ++i) {
        ASSERT_TRUE(pub.send_until(as_bytes(std::string(100, 'z')), Deadline::after(1s)).value());
    }
    auto g = GroupConsumer::open(name, "g").value();
    EXPECT_FALSE(g.try_receive().value());
    ASSERT_TRUE(pub.send(as_bytes("after")));
    auto s = g.try_receive().value();
    ASSERT_TRUE(s);
    EXPECT_EQ(text(*s), "after");
}

TEST(ChannelGroup, InspectShowsGroupsConsumersAndPositions) {
    const auto name = chan_name();
    auto pub = Publisher::create(name, small_config()).value();
    auto a = GroupConsumer::open(name, "jobs").value();
    auto b = GroupConsumer::open(name, "jobs").value();
    for (int i = 0; i < 3; ++i) {
        ASSERT_TRUE(pub.send(as_bytes("j")));
    }
    auto s = a.try_receive().value();
    ASSERT_TRUE(s);
    auto info = Channel::inspect(name).value();
    ASSERT_EQ(info.groups.size(), 1U);
    const auto& g = info.groups[0];
    EXPECT_EQ(g.name, "jobs");
    EXPECT_FALSE(g.at_most_once);
    EXPECT_EQ(g.consumers, 2U);
    EXPECT_EQ(g.dead_consumers, 0U);
    EXPECT_EQ(g.received, 1U);
    EXPECT_EQ(g.in_flight, 1U);
    ASSERT_EQ(g.claims.size(), 1U);
    EXPECT_EQ(g.backlog[0], 2 * detail::record_bytes(1));
}

}  // namespace
}  // namespace ipckit
