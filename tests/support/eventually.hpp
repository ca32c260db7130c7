// SPDX-License-Identifier: MIT
// eventually(): the one way tests wait for a state another process or the kernel reports (a flag
// in shared memory, a lock taken, a waiter counted). It polls with a hard timeout and, when the
// state never comes, says what it waited for and for how long.
#pragma once

#include <chrono>
#include <string_view>
#include <thread>

#include <gtest/gtest.h>

namespace ipckit::test {

/// Polls `condition` (at once, then every `interval`) until it returns true or `timeout` has
/// passed. Succeeds as soon as the condition holds; on timeout the failure reads
///   "timed out after 5003 ms (limit 5000 ms) waiting for: the child holds the lock".
/// Poll for states a peer or the kernel reports, never to guess how long a peer needs.
///
/// @code
///   ASSERT_TRUE(test::eventually(5s, "the child holds the lock", [&] { return held->load(); }));
///   CHILD_CHECK(test::eventually(5s, "the parent's go", [&] { return go->load() == 1; }));
/// @endcode
/// (In a forked child it is an ordinary bool test: no gtest assertion is made.)
template <class Condition>
::testing::AssertionResult eventually(
    std::chrono::milliseconds timeout,
    std::string_view what,
    Condition&& condition,
    std::chrono::microseconds interval = std::chrono::microseconds(200)) {
    const auto start = std::chrono::steady_clock::now();
    for (;;) {
        if (condition()) {
            return ::testing::AssertionSuccess();
        }
        const auto now = std::chrono::steady_clock::now();
        if (now - start >= timeout) {
            const auto waited =
                std::chrono::duration_cast<std::chrono::milliseconds>(now - start).count();
            return ::testing::AssertionFailure() << "timed out after " << waited << " ms (limit "
                                                 << timeout.count() << " ms) waiting for: " << what;
        }
        std::this_thread::sleep_for(interval);
    }
}

}  // namespace ipckit::test
