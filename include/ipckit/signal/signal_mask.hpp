// SPDX-License-Identifier: MIT
// ScopedSignalMask: block or unblock signals in the calling thread for a scope
// (pthread_sigmask(3)).
#pragma once

#include "ipckit/core/result.hpp"
#include "ipckit/export.hpp"
#include "ipckit/signal/signal_set.hpp"

#include <signal.h>  // NOLINT(modernize-deprecated-headers): POSIX sigset_t, sigaction, sigqueue

namespace ipckit {

/// Changes the calling thread's signal mask and restores the previous mask on destruction.
/// Blocking is per thread: a signal sent to the process can still be delivered to another thread
/// that does not block it, so block signals in main() before starting threads if a SignalFd is
/// to see them all (threads inherit the mask).
///
/// Must be destroyed on the thread that created it (it restores *that* thread's mask); move-only.
/// Fork: the child inherits the mask; exec keeps it too (signal(7)), so unblock before exec.
///
/// @code
///   auto blocked = ScopedSignalMask::block(SignalSet::of({SIGTERM}));
///   auto sfd = SignalFd::create(SignalSet::of({SIGTERM}));
/// @endcode
class IPCKIT_API ScopedSignalMask {
public:
    /// Adds `set` to the mask (SIG_BLOCK).
    static Result<ScopedSignalMask> block(const SignalSet& set);
    /// Removes `set` from the mask (SIG_UNBLOCK).
    static Result<ScopedSignalMask> unblock(const SignalSet& set);
    /// Replaces the mask (SIG_SETMASK).
    static Result<ScopedSignalMask> set(const SignalSet& set);
    /// The calling thread's current mask.
    static SignalSet current() noexcept;

    ScopedSignalMask(ScopedSignalMask&& other) noexcept;
    ScopedSignalMask& operator=(ScopedSignalMask&&) = delete;
    ScopedSignalMask(const ScopedSignalMask&) = delete;
    ScopedSignalMask& operator=(const ScopedSignalMask&) = delete;
    ~ScopedSignalMask();

    /// The mask that will be restored.
    [[nodiscard]] SignalSet previous() const noexcept { return SignalSet::from_native(old_); }

private:
    explicit ScopedSignalMask(const sigset_t& old) noexcept : old_(old), active_(true) {}
    sigset_t old_{};
    bool active_ = false;
};

}  // namespace ipckit
