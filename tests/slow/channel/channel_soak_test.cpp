// SPDX-License-Identifier: MIT
// Opt-in soak runs (label slow): wake-up storm (C08), sizes across the range (C11) and
// join/leave churn (C16) across processes. `ctest --preset soak -R ChannelSoak`.
#include "../../unit/channel/channel_test_util.hpp"
#include "../../unit/channel/creator_kill_matrix.hpp"
#include "eventually.hpp"
#include "forked_child.hpp"
#include "ipckit/core/mapping.hpp"

#include <random>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace ipckit {
namespace {

using namespace std::chrono_literals;
using test::ForkedChild;

TEST(ChannelSoak, WakeUpStormManySleepingSubscribersNoLostWake) {
    const auto name = test::chan_name();
    auto c = test::small_config();
    c.max_subscribers = 32;
    c.lane_bytes = 1 << 16;
    c.options.spin_polls = 0;
    ASSERT_TRUE(Channel::create(name, c));
    constexpr int kSubs = 16;
    constexpr std::uint64_t kCount = 100'000;
    auto flag = Mapping::map_anonymous(4096).value();
    auto* joined = new (flag.data()) std::atomic<std::uint32_t>(0);
    std::vector<ForkedChild> subs;
    for (int i = 0; i < kSubs; ++i) {
        subs.push_back(ForkedChild::spawn([&] {
            ChannelOptions o;
            o.spin_polls = 0;
            auto sub = Subscriber::open(name, o);
            CHILD_CHECK(sub);
            joined->fetch_add(1);
            std::array<std::byte, 1024> buf{};
            for (std::uint64_t k = 0; k < kCount; ++k) {
                auto r = sub->receive_until(buf, Deadline::after(10s));
                CHILD_CHECK(r && *r);
                std::uint64_t seq = 0;
                CHILD_CHECK(test::check_message(std::span(buf).first((*r)->size), &seq) &&
                            seq == k);
            }
            return 0;
        }));
    }
    ASSERT_TRUE(
        test::eventually(10s, "every subscriber joined", [&] { return joined->load() >= kSubs; }));
    auto pub = Publisher::open(name).value();
    std::mt19937 rng(5);
    for (std::uint64_t k = 0; k < kCount; ++k) {
        if (rng() % 1000 == 0) {
            std::this_thread::sleep_for(std::chrono::microseconds(100 + rng() % 10'000));
        }
        auto l = pub.loan_for(8 + rng() % 64, 10s);
        ASSERT_TRUE(l && *l);
        test::fill_message((*l)->bytes(), k);
        ASSERT_TRUE(pub.publish(std::move(**l)));
    }
    for (auto& s : subs) {
        EXPECT_CHILD_OK(s.wait_for(120s));
    }
}

TEST(ChannelSoak, MillionMessagesOfEverySizeWithChecksums) {
    const auto name = test::chan_name();
    auto c = test::small_config();
    c.lane_bytes = 1 << 16;
    c.max_message_size = 8192;
    ASSERT_TRUE(Channel::create(name, c));
    constexpr std::uint64_t kCount = 1'000'000;
    auto flag = Mapping::map_anonymous(4096).value();
    auto* joined = new (flag.data()) std::atomic<std::uint32_t>(0);
    auto sub = ForkedChild::spawn([&] {
        auto s = Subscriber::open(name);
        CHILD_CHECK(s);
        joined->store(1);
        std::vector<std::byte> buf(8192);
        for (std::uint64_t k = 0; k < kCount; ++k) {
            auto r = s->receive_until(buf, Deadline::after(10s));
            CHILD_CHECK(r && *r);
            std::uint64_t seq = 0;
            CHILD_CHECK((*r)->size < 8 ||
                        (test::check_message(std::span(buf).first((*r)->size), &seq) && seq == k));
        }
        return 0;
    });
    ASSERT_TRUE(
        test::eventually(10s, "the subscriber joined", [&] { return joined->load() != 0; }));
    auto pub = Publisher::open(name).value();
    std::mt19937 rng(11);
    const std::size_t edges[] = {0, 1, 7, 8, 15, 16, 17, 8191, 8192, 8176, 8177};
    for (std::uint64_t k = 0; k < kCount; ++k) {
        const std::size_t size = k % 10 == 0 ? edges[(k / 10) % std::size(edges)] : rng() % 8193;
        auto l = pub.loan_for(size, 10s);
        ASSERT_TRUE(l && *l);
        test::fill_message((*l)->bytes(), k);
        ASSERT_TRUE(pub.publish(std::move(**l)));
    }
    EXPECT_CHILD_OK(sub.wait_for(300s));
}

TEST(ChannelSoak, JoinAndLeaveChurnGivesContiguousRangesAndNoGhosts) {
    const auto name = test::chan_name();
    auto c = test::small_config();
    c.lane_bytes = 1 << 16;
    ASSERT_TRUE(Channel::create(name, c));
    auto flag = Mapping::map_anonymous(4096).value();
    auto* stop = new (flag.data()) std::atomic<std::uint32_t>(0);
    auto publisher = ForkedChild::spawn([&] {
        auto pub = Publisher::open(name);
        CHILD_CHECK(pub);
        for (std::uint64_t k = 0; stop->load() == 0; ++k) {
            auto l = pub->loan_for(16, 1s);
            CHILD_CHECK(l);
            if (*l) {
                test::fill_message((**l).bytes(), k);
                CHILD_CHECK(pub->publish(std::move(**l)));
            }
        }
        return 0;
    });
    std::vector<ForkedChild> churners;
    for (int t = 0; t < 3; ++t) {
        churners.push_back(ForkedChild::spawn([&] {
            const auto until = std::chrono::steady_clock::now() + 10s;
            while (std::chrono::steady_clock::now() < until) {
                auto sub = Subscriber::open(name);
                CHILD_CHECK(sub);
                const auto leave = std::chrono::steady_clock::now() + 10ms;
                std::optional<std::uint64_t> last;
                std::array<std::byte, 64> buf{};
                while (std::chrono::steady_clock::now() < leave) {
                    auto r = sub->receive_until(buf, Deadline::after(1s));
                    CHILD_CHECK(r);
                    if (!*r)
                        continue;
                    std::uint64_t seq = 0;
                    CHILD_CHECK(test::check_message(std::span(buf).first((*r)->size), &seq));
                    CHILD_CHECK(!last || seq == *last + 1);  // contiguous from where it joined
                    last = seq;
                }
            }
            return 0;
        }));
    }
    for (auto& ch : churners) {
        EXPECT_CHILD_OK(ch.wait_for(60s));
    }
    stop->store(1);
    EXPECT_CHILD_OK(publisher.wait_for(10s));
    auto info = Channel::inspect(name).value();
    EXPECT_TRUE(info.subscribers.empty()) << "no ghosts left in the subscriber table";
}

}  // namespace
}  // namespace ipckit

namespace ipckit {
namespace {

/// B23: 1000 creators killed from outside at random instants; every run ends created, stale
/// (reported, removed, re-created) or absent; never a hang, never a corrupt file.
TEST(ChannelSoak, CreatorKilledAtRandomInstantsThousandRuns) {
    const auto out = test::run_creator_kill_matrix(1000, 1000);
    EXPECT_EQ(out.created + out.stale_init + out.absent, 1000);
    EXPECT_GT(out.stale_init + out.absent, 0) << "the kills never landed during creation";
    std::printf("[ matrix   ] created %d, stale init %d, absent %d\n",
                out.created,
                out.stale_init,
                out.absent);
}

}  // namespace
}  // namespace ipckit
