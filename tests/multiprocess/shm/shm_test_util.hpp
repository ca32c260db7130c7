// SPDX-License-Identifier: MIT
// Helpers for the shm multiprocess tests (kept in this folder: not part of the shared harness).
#pragma once

#include <signal.h>
#include <sys/types.h>
#include <unistd.h>

#include <grp.h>

namespace ipckit::shm_test {

inline constexpr uid_t kNobody = 65534;

/// In a forked child: become nobody for good (groups too), so permission checks apply.
inline bool drop_to_nobody() {
    return ::setgroups(0, nullptr) == 0 && ::setresgid(kNobody, kNobody, kNobody) == 0 &&
           ::setresuid(kNobody, kNobody, kNobody) == 0;
}

/// In a forked child that is about to fault on purpose: let the signal kill it plainly, even
/// under sanitizers that install their own SIGSEGV/SIGBUS handlers.
inline void default_fault_signals() {
    struct sigaction sa {};
    sa.sa_handler = SIG_DFL;
    ::sigemptyset(&sa.sa_mask);
    ::sigaction(SIGSEGV, &sa, nullptr);
    ::sigaction(SIGBUS, &sa, nullptr);
}

}  // namespace ipckit::shm_test
