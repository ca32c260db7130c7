// SPDX-License-Identifier: MIT
// Flags and counters shared between a test and the children it forks (an anonymous shared
// mapping survives fork), and the wait for a peer's report in them.
#pragma once

#include "eventually.hpp"
#include "ipckit/core/mapping.hpp"

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <gtest/gtest.h>

namespace ipckit::test {

/// Flags and counters in an anonymous shared mapping that forked children and the parent both
/// see: flag `at(i)` on its own cache line in the first page, then `counters` per-message counts.
struct SharedCounters {
    explicit SharedCounters(std::size_t counters = 0)
        : map(Mapping::map_anonymous(4096 + counters * 4).value()) {}
    Mapping map;
    std::atomic<std::uint32_t>& at(int i) {
        return *reinterpret_cast<std::atomic<std::uint32_t>*>(map.data() + 64 * i);  // NOLINT
    }
    std::atomic<std::uint32_t>& count(std::uint64_t seq) {
        return *reinterpret_cast<std::atomic<std::uint32_t>*>(map.data() + 4096 +
                                                              4 * seq);  // NOLINT
    }
};

/// Waits until the shared counter `f` reaches `v` (a peer's report), naming `what` on a timeout.
inline ::testing::AssertionResult wait_flag(std::atomic<std::uint32_t>& f,
                                            std::uint32_t v,
                                            std::string_view what) {
    return eventually(std::chrono::seconds(10), what, [&] { return f.load() >= v; });
}

}  // namespace ipckit::test
