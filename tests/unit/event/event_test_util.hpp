// SPDX-License-Identifier: MIT
// Helpers shared by the event tests (unit and multiprocess).
#pragma once

#include "../channel/channel_test_util.hpp"
#include "ipckit/event/event.hpp"
#include "ipckit/event/event_listener.hpp"
#include "ipckit/event/event_notifier.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace ipckit::test {

/// A unique event name; its file lives in chan_dir() (this run's private IPCKIT_SHM_DIR).
inline std::string event_name() {
    (void)chan_dir();
    return unique_shm_name("event").substr(1);
}

inline std::string event_path(const std::string& name) {
    return chan_dir() + "/" + name + ".event";
}

/// Adds what take()/wait() returned into per-id totals.
inline void accumulate(std::map<std::uint32_t, std::uint64_t>& totals,
                       const std::vector<EventCount>& got) {
    for (const auto& c : got) {
        totals[c.id] += c.count;
    }
}

/// Waits (each wait bounded) until the totals of `ids` reach `want` each or `limit` passes;
/// returns the totals seen. Stops early on an error.
inline std::map<std::uint32_t, std::uint64_t> collect(
    EventListener& l,
    const std::map<std::uint32_t, std::uint64_t>& want,
    std::chrono::milliseconds limit) {
    std::map<std::uint32_t, std::uint64_t> totals;
    const Deadline until = Deadline::after(limit);
    auto done = [&] {
        for (const auto& [id, n] : want) {
            if (totals[id] < n) {
                return false;
            }
        }
        return true;
    };
    while (!done() && !until.expired()) {
        auto got = l.wait(until);
        if (!got || !*got) {
            break;
        }
        accumulate(totals, **got);
    }
    return totals;
}

}  // namespace ipckit::test
