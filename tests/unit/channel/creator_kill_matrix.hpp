// SPDX-License-Identifier: MIT
// B23: the creator of a channel SIGKILLed from outside at a random instant, many times. Used by
// a short run in the default suite and a 1000-run soak (label slow).
#pragma once

#include "channel_test_util.hpp"
#include "forked_child.hpp"

#include <signal.h>

#include <chrono>
#include <random>
#include <string>

#include <gtest/gtest.h>

namespace ipckit::test {

/// How the runs ended: every run must end in one of these.
struct KillMatrixOutcome {
    int created = 0;     ///< the creator finished: the channel opens
    int stale_init = 0;  ///< killed mid-initialisation: reported, removed, re-created
    int absent = 0;      ///< killed before the file existed: created afresh
};

/// Runs `runs` creations killed after a random delay of up to about two creation times.
inline KillMatrixOutcome run_creator_kill_matrix(int runs, std::uint32_t seed) {
    using namespace std::chrono_literals;
    KillMatrixOutcome out;
    std::mt19937 rng(seed);
    // Calibrate: one creation (in a fresh process, like the runs) sets the delay range.
    const auto t0 = std::chrono::steady_clock::now();
    {
        const auto name = chan_name();
        auto c = ForkedChild::spawn([&] { return Channel::create(name, small_config()) ? 0 : 1; });
        EXPECT_CHILD_OK(c.wait_for(10s));
        (void)Channel::remove(name);
    }
    const auto span_us = std::max<long>(50,
                                        2 * std::chrono::duration_cast<std::chrono::microseconds>(
                                                std::chrono::steady_clock::now() - t0)
                                                .count());
    for (int run = 0; run < runs; ++run) {
        SCOPED_TRACE("run " + std::to_string(run) + ", seed " + std::to_string(seed));
        const auto name = chan_name();
        auto creator =
            ForkedChild::spawn([&] { return Channel::create(name, small_config()) ? 0 : 1; });
        const auto delay = std::chrono::microseconds(rng() % static_cast<std::uint32_t>(span_us));
        const auto until = std::chrono::steady_clock::now() + delay;
        while (std::chrono::steady_clock::now() < until) {  // spin: sleeps are too coarse here
        }
        creator.kill(SIGKILL);
        const auto r = creator.wait_for(10s);
        EXPECT_TRUE(r.signal == SIGKILL || (r.exited && r.exit_code == 0)) << r.message;

        ChannelOptions o;
        o.init_wait = 2000ms;  // bounded: a dead creator must be told apart well before this
        bool opened = false;
        if (auto sub = Subscriber::open(name, o)) {
            opened = true;
            ++out.created;
        } else if (sub.error() == std::errc::no_such_file_or_directory) {
            ++out.absent;
            EXPECT_TRUE(Channel::create(name, small_config()));
        } else if (sub.error() == std::errc::state_not_recoverable) {
            ++out.stale_init;
            EXPECT_TRUE(Channel::remove(name)) << "a stale file can be removed";
            EXPECT_TRUE(Channel::create(name, small_config()));
        } else {
            ADD_FAILURE() << "unexpected outcome: " << sub.error().message();
        }
        if (!opened) {  // whatever happened, the name works now
            auto again = Subscriber::open(name, o);
            EXPECT_TRUE(again) << again.error().message();
        }
        EXPECT_TRUE(Channel::remove(name));
    }
    return out;
}

}  // namespace ipckit::test
