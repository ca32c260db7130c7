// SPDX-License-Identifier: MIT
// Named fault points for deterministic crash tests: IPCKIT_FAULT_POINT=name:kill (or :stop,
// :exit) in the environment makes the process act at that point. Compiled only with
// IPCKIT_FAULT_POINTS; disarmed cost is one relaxed load of a cached flag.
#pragma once

#include <atomic>

namespace ipckit::detail {

/// -1 unknown, 0 disarmed, 1 armed.
extern std::atomic<int> g_fault_state;
void fault_point_hit(const char* name) noexcept;
/// Re-reads IPCKIT_FAULT_POINT (tests call it in a forked child after setenv).
void reload_fault_points() noexcept;

}  // namespace ipckit::detail

// A macro, not a function: it must compile to nothing without IPCKIT_FAULT_POINTS and to a
// single relaxed load with it, on the channel's hot paths.
#if defined(IPCKIT_FAULT_POINTS) && IPCKIT_FAULT_POINTS
// NOLINTNEXTLINE(cppcoreguidelines-macro-usage): see above
#define IPCKIT_FAULT_POINT(name)                                                             \
    do {                                                                                     \
        if (::ipckit::detail::g_fault_state.load(std::memory_order_relaxed) != 0)       \
            [[unlikely]] {                                                                   \
                ::ipckit::detail::fault_point_hit(name);                                \
            }                                                                                \
    } while (false)
#else
// NOLINTNEXTLINE(cppcoreguidelines-macro-usage): see above
#define IPCKIT_FAULT_POINT(name) \
    do {                         \
    } while (false)
#endif
