// SPDX-License-Identifier: MIT
// queue_signal: send a signal with a payload to another process (sigqueue(3)).
#pragma once

#include "ipckit/core/result.hpp"
#include "ipckit/export.hpp"

#include <sys/types.h>

#include <cstdint>

namespace ipckit {

/// Sends `signo` to `pid` with an integer payload (si_value.sival_int; SignalInfo::value).
/// Realtime signals (SIGRTMIN..SIGRTMAX) are queued, each with its payload, and delivered in
/// order; standard signals are merged while pending and only one payload survives.
/// Errors: errc::no_such_process "sigqueue pid 4242: No such process";
/// errc::operation_not_permitted (another user's process); errc::resource_unavailable_try_again
/// when the receiver's queue is full (RLIMIT_SIGPENDING, named in the detail).
IPCKIT_API Result<void> queue_signal(pid_t pid, int signo, std::int32_t value);
/// Same with a pointer-sized payload (si_value.sival_ptr; SignalInfo::ptr). The receiver sees the
/// number, not memory: a pointer is only meaningful where both sides map the same address.
IPCKIT_API Result<void> queue_signal_ptr(pid_t pid, int signo, std::uintptr_t value);

}  // namespace ipckit
