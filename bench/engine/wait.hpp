// SPDX-License-Identifier: MIT
// Deadlines inside the bench's children. Every wait has one, so a broken transport can never hang
// the bench: ipckit's deadline-taking calls and the timed system calls (futex, sigtimedwait) take
// phase_deadline() directly, spin loops poll it, and the plain blocking calls left (msgsnd and
// msgrcv) are interrupted by a SIGALRM timer armed for the same instant, which fires every 50 ms
// after it until the phase ends (no SA_RESTART), so they return EINTR and report a timeout.
// ipckit's wrappers retry EINTR: a write that blocks inside one (a full pipe whose reader hung) is
// bounded by the supervisor's budget for the whole transport instead.
#pragma once

#include "ipckit/core/deadline.hpp"
#include "ipckit/core/result.hpp"

#include <string>

namespace ipckit::bench {

/// In a child: installs the SIGALRM handler and the timer (call once after fork).
Result<void> init_child_deadlines();
/// Sets the deadline of the current phase and re-arms the timer.
void set_phase_deadline(Deadline deadline);
/// The deadline every wait in this process must respect.
Deadline phase_deadline();

/// The error a wait reports when phase_deadline() passed: "OP OBJECT: timed out (peer silent)".
Error timed_out(const char* op, const std::string& object);

/// For blocking calls interrupted by the timer: true (retry) while the deadline is ahead.
bool retry_after_eintr();

}  // namespace ipckit::bench
