// SPDX-License-Identifier: MIT
// Small helpers the sync multiprocess tests share (kept in this folder, not in tests/support).
#pragma once

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <thread>

namespace ipckit::test_sync {

/// Polls `cond` every 200 us until it holds or `timeout` passes. For conditions the kernel
/// reports (GETNCNT, a counter in shared memory), never for guessing how long a peer needs.
inline bool eventually(const std::function<bool()>& cond,
                       std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (!cond()) {
        if (std::chrono::steady_clock::now() >= end) {
            return false;
        }
        std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    return true;
}

/// A SIGUSR1 handler installed *without* SA_RESTART that counts deliveries in shared memory.
inline std::atomic<int>* g_signals = nullptr;
extern "C" inline void count_sigusr1(int /*sig*/) {
    g_signals->fetch_add(1);
}
inline void install_counting_handler(std::atomic<int>* counter) {
    g_signals = counter;
    struct sigaction sa {};
    sa.sa_handler = count_sigusr1;
    sa.sa_flags = 0;  // no SA_RESTART: the blocking call sees EINTR
    ::sigaction(SIGUSR1, &sa, nullptr);
}

}  // namespace ipckit::test_sync
