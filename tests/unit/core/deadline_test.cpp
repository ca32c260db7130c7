// SPDX-License-Identifier: MIT
#include <climits>

#include <gtest/gtest.h>

#include "ipckit/core/deadline.hpp"

namespace ipckit {
namespace {

using namespace std::chrono_literals;

TEST(Deadline, AfterIsNowPlusTimeout) {
    const auto before = Deadline::Clock::now();
    const Deadline d = Deadline::after(5s);
    const auto after = Deadline::Clock::now();
    EXPECT_GE(d.time_point(), before + 5s);
    EXPECT_LE(d.time_point(), after + 5s);
    EXPECT_FALSE(d.expired());
    EXPECT_LE(d.remaining(), 5s);
    EXPECT_GT(d.remaining(), 4s);
}

TEST(Deadline, NegativeAndZeroTimeoutsAreAlreadyExpired) {
    EXPECT_TRUE(Deadline::after(-1s).expired());
    EXPECT_TRUE(Deadline::after(0s).expired());
    EXPECT_EQ(Deadline::after(-1s).remaining(), 0ns);
    EXPECT_EQ(Deadline::now().to_poll_timeout_ms(), 0);
}

TEST(Deadline, HugeTimeoutsSaturateToNever) {
    const Deadline d = Deadline::after(std::chrono::nanoseconds::max());
    EXPECT_TRUE(d.is_never());
    EXPECT_FALSE(d.expired());
    EXPECT_EQ(d.to_poll_timeout_ms(), -1);
    EXPECT_EQ(d.remaining(), std::chrono::nanoseconds::max());
    const Deadline hours = Deadline::after(std::chrono::hours(24 * 365 * 400));  // beyond ~292 y
    EXPECT_TRUE(hours.is_never());
}

TEST(Deadline, NeverConvertsToAFarButValidTimespec) {
    const timespec ts = Deadline::never().to_realtime_timespec();
    EXPECT_GT(ts.tv_sec, 4'000'000'000LL);  // past 2096: effectively never
    EXPECT_GE(ts.tv_nsec, 0);
    EXPECT_LT(ts.tv_nsec, 1'000'000'000);
}

TEST(Deadline, PollTimeoutRoundsUpSoPollNeverWakesEarly) {
    const Deadline d = Deadline::after(1500us);
    const int ms = d.to_poll_timeout_ms();
    EXPECT_GE(ms, 1);
    EXPECT_LE(ms, 2);
    const Deadline far = Deadline::after(std::chrono::hours(24 * 365));
    EXPECT_EQ(far.to_poll_timeout_ms(), INT_MAX);
}

TEST(Deadline, RealtimeTimespecIsNormalisedAndAheadOfTheWallClock) {
    timespec now{};
    ::clock_gettime(CLOCK_REALTIME, &now);
    const timespec ts = Deadline::after(2500ms).to_realtime_timespec();
    EXPECT_GE(ts.tv_nsec, 0);
    EXPECT_LT(ts.tv_nsec, 1'000'000'000);
    const double delta = static_cast<double>(ts.tv_sec - now.tv_sec) +
                         static_cast<double>(ts.tv_nsec - now.tv_nsec) / 1e9;
    EXPECT_GT(delta, 2.0);
    EXPECT_LE(delta, 2.6);
}

TEST(Deadline, MonotonicTimespecMatchesTheSteadyClock) {
    const Deadline d = Deadline::after(1s);
    const timespec ts = d.to_monotonic_timespec();
    const auto ns = std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
    EXPECT_EQ(ns, d.time_point().time_since_epoch());
}

TEST(Deadline, RelativeTimespecIsTheRemainingTime) {
    const timespec ts = Deadline::after(3s).to_relative_timespec();
    EXPECT_TRUE(ts.tv_sec == 2 || ts.tv_sec == 3);
    EXPECT_GE(ts.tv_nsec, 0);
    const timespec zero = Deadline::now().to_relative_timespec();
    EXPECT_EQ(zero.tv_sec, 0);
    EXPECT_EQ(zero.tv_nsec, 0);
}

TEST(Deadline, MalformedUserTimespecsAreRefusedBeforeTheKernel) {
    auto bad_nsec = deadline_from_realtime_timespec(timespec{1, 1'000'000'000});
    ASSERT_FALSE(bad_nsec);
    EXPECT_EQ(bad_nsec.error().code(), std::errc::invalid_argument);
    EXPECT_NE(bad_nsec.error().detail().find("tv_nsec"), std::string::npos);
    EXPECT_FALSE(deadline_from_realtime_timespec(timespec{1, -1}));
    EXPECT_FALSE(deadline_from_realtime_timespec(timespec{-5, 0}));
}

TEST(Deadline, UserRealtimeTimespecBecomesAMonotonicDeadline) {
    timespec now{};
    ::clock_gettime(CLOCK_REALTIME, &now);
    auto d = deadline_from_realtime_timespec(timespec{now.tv_sec + 10, now.tv_nsec});
    ASSERT_TRUE(d);
    EXPECT_GT(d->remaining(), 9s);
    EXPECT_LE(d->remaining(), 10s);
    auto past = deadline_from_realtime_timespec(timespec{now.tv_sec - 10, 0});
    ASSERT_TRUE(past);
    EXPECT_TRUE(past->expired());
}

}  // namespace
}  // namespace ipckit
