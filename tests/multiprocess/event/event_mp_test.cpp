// SPDX-License-Identifier: MIT
// Events across real processes: exact counts, coalescing, broadcast to every listener, listeners
// and notifiers SIGKILLed, and a ping-pong that would hang on a lost wake-up.
#include "../../unit/event/event_test_util.hpp"
#include "event/event_file.hpp"
#include "forked_child.hpp"
#include "ipckit/core/mapping.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <sched.h>
#include <thread>

#include <gtest/gtest.h>

namespace ipckit {
namespace {

using namespace std::chrono_literals;
using Totals = std::map<std::uint32_t, std::uint64_t>;
using test::collect;
using test::event_name;
using test::ForkedChild;

/// The raw value of counter `id`, read from the file as any process could.
std::uint64_t raw_counter(const std::string& name, std::uint32_t id) {
    auto n = EventNotifier::open(name).value();  // keeps the file open while we read it
    const int fd = ::open(test::event_path(name).c_str(), O_RDONLY | O_CLOEXEC);
    std::uint64_t v = 0;
    const auto off = static_cast<off_t>(detail::kEventHeaderBytes + id * detail::kCounterBytes);
    EXPECT_EQ(::pread(fd, &v, sizeof v, off), static_cast<ssize_t>(sizeof v));
    ::close(fd);
    return v;
}

TEST(EventMp, NotifyInOneProcessIsTakenInAnotherWithExactCounts) {
    const auto name = event_name();
    auto l = EventListener::create(name).value();
    auto child = ForkedChild::spawn([&] {
        auto n = EventNotifier::open(name).value();
        for (int i = 0; i < 5; ++i) {
            CHILD_CHECK(n.notify(3));
        }
        CHILD_CHECK(n.notify(7));
        return 0;
    });
    const Totals got = collect(l, {{3, 5}, {7, 1}}, 10s);
    EXPECT_CHILD_OK(child.wait_for(10s));
    EXPECT_EQ(got, (Totals{{3, 5}, {7, 1}}));
    EXPECT_TRUE(l.take().value().empty()) << "nothing more than was notified";
    ASSERT_TRUE(Event::remove(name));
}

TEST(EventMp, ManyNotifiesCoalesceIntoOneCount) {
    const auto name = event_name();
    auto l = EventListener::create(name).value();
    auto child = ForkedChild::spawn([&] {
        auto n = EventNotifier::open(name).value();
        for (int i = 0; i < 1000; ++i) {
            CHILD_CHECK(n.notify(4));
        }
        return 0;
    });
    EXPECT_CHILD_OK(child.wait_for(10s));
    EXPECT_EQ(l.take().value(), (std::vector<EventCount>{{4, 1000}}));
    EXPECT_TRUE(l.take().value().empty());
    ASSERT_TRUE(Event::remove(name));
}

TEST(EventMp, ConcurrentNotifiersInManyProcessesAreCountedExactly) {
    const auto name = event_name();
    auto l = EventListener::create(name).value();
    constexpr int kNotifiers = 4;
    constexpr int kEach = 500;
    std::vector<ForkedChild> children;
    for (int i = 0; i < kNotifiers; ++i) {
        children.push_back(ForkedChild::spawn([&] {
            auto n = EventNotifier::open(name).value();
            for (int k = 0; k < kEach; ++k) {
                CHILD_CHECK(n.notify(1));
                if (k % 3 == 0) {
                    CHILD_CHECK(n.notify(2));
                }
            }
            return 0;
        }));
    }
    const Totals want{{1, kNotifiers * kEach}, {2, kNotifiers * ((kEach + 2) / 3)}};
    const Totals got = collect(l, want, 20s);
    for (auto& c : children) {
        EXPECT_CHILD_OK(c.wait_for(20s));
    }
    EXPECT_EQ(got, want);
    EXPECT_TRUE(l.take().value().empty());
    ASSERT_TRUE(Event::remove(name));
}

/// A child listener: opens, says it is ready (id 0), then counts ids 1 and 2 until it has
/// `want1`/`want2` and checks nothing more arrives within a short wait.
int counting_listener(const std::string& name, std::uint64_t want1, std::uint64_t want2) {
    auto l = EventListener::open(name).value();
    CHILD_CHECK(EventNotifier::open(name).value().notify(0));
    Totals got = collect(l, {{1, want1}, {2, want2}}, 20s);
    CHILD_CHECK(got[1] == want1);
    CHILD_CHECK(got[2] == want2);
    auto more = l.wait(Deadline::after(50ms)).value();
    if (more) {
        for (const auto& c : *more) {
            CHILD_CHECK(c.id == 0);  // only siblings' "ready"
        }
    }
    CHILD_CHECK(l.corrupt() == 0);
    return 0;
}

TEST(EventMp, EveryListenerSeesEveryNotification) {
    const auto name = event_name();
    auto ready = EventListener::create(name).value();
    auto n = EventNotifier::open(name).value();
    constexpr int kListeners = 3;
    std::vector<ForkedChild> children;
    for (int i = 0; i < kListeners; ++i) {
        children.push_back(ForkedChild::spawn([&] { return counting_listener(name, 300, 200); }));
    }
    const Totals r = collect(ready, {{0, kListeners}}, 10s);
    ASSERT_EQ(r.at(0), static_cast<std::uint64_t>(kListeners)) << "listeners ready";
    for (int i = 0; i < 300; ++i) {
        ASSERT_TRUE(n.notify(1));
        if (i < 200) {
            ASSERT_TRUE(n.notify(2));
        }
        if (i % 50 == 0) {
            std::this_thread::sleep_for(1ms);  // let listeners fall asleep between bursts
        }
    }
    for (auto& c : children) {
        EXPECT_CHILD_OK(c.wait_for(30s));
    }
    ASSERT_TRUE(Event::remove(name));
}

TEST(EventMp, AListenerKilledWhileAsleepChangesNothingForTheOthers) {
    const auto name = event_name();
    auto l = EventListener::create(name).value();
    auto n = EventNotifier::open(name).value();
    auto victim = ForkedChild::spawn([&] {
        auto mine = EventListener::open(name).value();
        CHILD_CHECK(EventNotifier::open(name).value().notify(0));
        for (;;) {
            (void)mine.wait(Deadline::never());
        }
        return 0;
    });
    ASSERT_EQ(collect(l, {{0, 1}}, 10s)[0], 1U);
    ASSERT_TRUE(test::wait_until_sleeping(victim.pid(), 10s));
    victim.kill(SIGKILL);
    const auto end = victim.wait_for(10s);
    ASSERT_EQ(end.signal, SIGKILL) << end.describe();

    auto survivor = ForkedChild::spawn([&] { return counting_listener(name, 100, 0); });
    ASSERT_EQ(collect(l, {{0, 1}}, 10s)[0], 1U);
    for (int i = 0; i < 100; ++i) {
        ASSERT_TRUE(n.notify(1));
    }
    EXPECT_EQ(collect(l, {{1, 100}}, 10s), (Totals{{1, 100}}));
    EXPECT_CHILD_OK(survivor.wait_for(30s));
    EXPECT_EQ(l.corrupt(), 0U);
    ASSERT_TRUE(Event::remove(name));
}

TEST(EventMp, ANotifierKilledMidStreamLeavesAConsistentFile) {
    const auto name = event_name();
    auto l = EventListener::create(name).value();
    auto streamer = ForkedChild::spawn([&] {
        auto n = EventNotifier::open(name).value();
        for (;;) {
            CHILD_CHECK(n.notify(1));
        }
        return 0;
    });
    Totals seen = collect(l, {{1, 2000}}, 10s);
    ASSERT_GE(seen[1], 2000U);
    streamer.kill(SIGKILL);
    const auto end = streamer.wait_for(10s);
    ASSERT_EQ(end.signal, SIGKILL) << end.describe();
    test::accumulate(seen, l.take().value());
    // Every increment that landed was seen exactly once: the listener's total is the counter.
    EXPECT_EQ(seen[1], raw_counter(name, 1));
    EXPECT_EQ(l.corrupt(), 0U);

    // The file is as good as new for everyone.
    auto fresh = EventListener::open(name).value();
    auto child = ForkedChild::spawn([&] {
        CHILD_CHECK(EventNotifier::open(name).value().notify(1));
        return 0;
    });
    EXPECT_CHILD_OK(child.wait_for(10s));
    EXPECT_EQ(l.take().value(), (std::vector<EventCount>{{1, 1}}));
    EXPECT_EQ(fresh.take().value(), (std::vector<EventCount>{{1, 1}}));
    ASSERT_TRUE(Event::remove(name));
}

/// One side of the ping-pong: waits for the peer's `in` count to reach `round` (each wait
/// bounded), sometimes after a random delay, then notifies `out`. False on a timeout or error.
/// A listener sleeps in slices of 50 ms (to notice a removed file), so a lost wake-up does not
/// hang: it shows as a wait of a whole slice. Waits at least this long are counted as "slow".
constexpr auto kSlowWait = 40ms;
/// On a loaded 2-CPU machine a few waits may be slow for other reasons; a lost wake-up makes
/// most of the rounds in which the peer slept slow (hundreds of the 2,000).
constexpr std::uint64_t kMaxSlowWaits = 20;

bool pong_round(EventListener& l,
                EventNotifier& n,
                std::uint32_t in,
                std::uint32_t out,
                std::uint64_t& have,
                std::uint64_t round,
                std::uint64_t& rng,
                std::uint64_t& slow) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    switch (rng % 4) {
        case 0:
            break;  // answer at once: the peer is probably still spinning into its wait
        case 1:
            sched_yield();
            break;
        default:
            std::this_thread::sleep_for(std::chrono::microseconds(rng % 200));  // peer asleep
            break;
    }
    if (!n.notify(out)) {
        return false;
    }
    while (have < round) {
        const auto start = std::chrono::steady_clock::now();
        auto got = l.wait(Deadline::after(5s));
        if (std::chrono::steady_clock::now() - start >= kSlowWait) {
            ++slow;
        }
        if (!got || !*got) {
            return false;
        }
        for (const auto& c : **got) {
            if (c.id == in) {
                have += c.count;
            }
        }
    }
    return have == round;
}

TEST(EventMp, PingPongOfTwoThousandRoundsLosesNoWakeUp) {
    constexpr std::uint64_t kRounds = 2000;
    const auto name = event_name();
    EventConfig c;
    c.max_ids = 3;
    auto l = EventListener::create(name, c).value();
    auto n = EventNotifier::open(name).value();
    auto peer = ForkedChild::spawn([&] {
        auto pl = EventListener::open(name).value();
        auto pn = EventNotifier::open(name).value();
        CHILD_CHECK(pn.notify(2));  // ready
        std::uint64_t have = 0;
        std::uint64_t rng = 0x1234567U + static_cast<std::uint64_t>(::getpid());
        std::uint64_t slow = 0;
        // Waits for ping k, answers pong k (its own pongs and "ready" come back too: ignored).
        while (have < kRounds) {
            const auto start = std::chrono::steady_clock::now();
            auto got = pl.wait(Deadline::after(5s));
            if (std::chrono::steady_clock::now() - start >= kSlowWait) {
                ++slow;
            }
            CHILD_CHECK(got && *got);
            std::uint64_t pings = 0;
            for (const auto& cnt : **got) {
                if (cnt.id == 0) {
                    pings += cnt.count;
                }
            }
            CHILD_CHECK(pings <= 1);  // one ping in flight at a time
            have += pings;
            for (std::uint64_t k = 0; k < pings; ++k) {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                if (rng % 2 == 0) {
                    std::this_thread::sleep_for(std::chrono::microseconds(rng % 200));
                }
                CHILD_CHECK(pn.notify(1));
            }
        }
        if (slow > kMaxSlowWaits) {
            test::child_fail("peer: " + std::to_string(slow) + " waits took a whole sleep slice");
        }
        return 0;
    });
    ASSERT_EQ(collect(l, {{2, 1}}, 10s)[2], 1U);
    std::uint64_t have = 0;
    std::uint64_t rng = 0x9876543U;
    std::uint64_t slow = 0;
    const auto start = std::chrono::steady_clock::now();
    for (std::uint64_t round = 1; round <= kRounds; ++round) {
        ASSERT_TRUE(pong_round(l, n, 1, 0, have, round, rng, slow))
            << "round " << round << ": pongs " << have;
    }
    const auto took = std::chrono::steady_clock::now() - start;
    EXPECT_CHILD_OK(peer.wait_for(10s));
    EXPECT_EQ(have, kRounds);
    EXPECT_LE(slow, kMaxSlowWaits) << "waits that took a whole sleep slice: lost wake-ups";
    std::printf(
        "ping-pong: %llu rounds in %lld ms, %llu slow waits\n",
        static_cast<unsigned long long>(kRounds),
        static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(took).count()),
        static_cast<unsigned long long>(slow));
    ASSERT_TRUE(Event::remove(name));
}

TEST(EventMp, AWaitInAnotherProcessTimesOutAsTheEmptyOutcome) {
    const auto name = event_name();
    ASSERT_TRUE(Event::create(name));
    auto child = ForkedChild::spawn([&] {
        auto l = EventListener::open(name).value();
        const auto start = std::chrono::steady_clock::now();
        auto r = l.wait(Deadline::after(100ms));
        CHILD_CHECK(r);
        CHILD_CHECK(!r->has_value());
        CHILD_CHECK(std::chrono::steady_clock::now() - start >= 100ms);
        return 0;
    });
    EXPECT_CHILD_OK(child.wait_for(10s));
    ASSERT_TRUE(Event::remove(name));
}

}  // namespace
}  // namespace ipckit
