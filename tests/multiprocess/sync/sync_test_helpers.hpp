// SPDX-License-Identifier: MIT
// Small helpers the sync multiprocess tests share (kept in this folder, not in tests/support;
// polling is tests/support/eventually.hpp).
#pragma once

#include <signal.h>
#include <unistd.h>

#include <atomic>

namespace ipckit::test_sync {

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
