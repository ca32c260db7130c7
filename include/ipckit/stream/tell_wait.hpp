// SPDX-License-Identifier: MIT
// TELL_WAIT / TELL_PARENT / WAIT_PARENT / TELL_CHILD / WAIT_CHILD (seed 003, Program 15.7):
// parent/child synchronisation after fork with two pipes. Reusable by any fork-based example.
#pragma once

#include "ipckit/core/deadline.hpp"
#include "ipckit/core/result.hpp"
#include "ipckit/export.hpp"
#include "ipckit/stream/pipe.hpp"

namespace ipckit {

/// Two pipes made before fork: the parent tells the child through one ('p'), the child tells
/// the parent through the other ('c'). Both processes keep a copy of the object after fork and
/// call only their side's functions. After fork, each side may call become_parent() /
/// become_child() to drop the ends it does not use (the seed keeps all four); then a wait on a
/// peer that died returns errc::broken_pipe ("peer closed") instead of hanging, and a tell to a
/// dead peer is errc::broken_pipe, never SIGPIPE. Ownership: the four ends (O_CLOEXEC), closed on
/// destruction. Thread-safety: none needed (one process per side).
///
/// @code
///   auto tw = TellWait::create().value();       // TELL_WAIT()
///   if (fork() == 0) { tw.wait_parent().value(); ...; tw.tell_parent().value(); _exit(0); }
///   ...; tw.tell_child().value(); tw.wait_child().value();
/// @endcode
class IPCKIT_API TellWait {
public:
    static Result<TellWait> create();

    /// Parent, after fork: closes the child's ends.
    void become_parent() noexcept {
        to_child_.reader.close();
        to_parent_.writer.close();
    }
    /// Child, after fork: closes the parent's ends.
    void become_child() noexcept {
        to_child_.writer.close();
        to_parent_.reader.close();
    }

    /// Child: lets the parent's wait_child() return.
    Result<void> tell_parent();
    /// Child: blocks until the parent's tell_child() (or the deadline: errc::timed_out).
    Result<void> wait_parent(Deadline deadline = Deadline::never());
    /// Parent: lets the child's wait_parent() return.
    Result<void> tell_child();
    /// Parent: blocks until the child's tell_parent().
    Result<void> wait_child(Deadline deadline = Deadline::never());

private:
    TellWait(Pipe to_child, Pipe to_parent)
        : to_child_(std::move(to_child)), to_parent_(std::move(to_parent)) {}
    Pipe to_child_;   // pfd1 in the seed: parent writes 'p', child reads
    Pipe to_parent_;  // pfd2: child writes 'c', parent reads
};

}  // namespace ipckit
