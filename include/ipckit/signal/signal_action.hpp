// SPDX-License-Identifier: MIT
// SignalAction: install a signal disposition for a scope (sigaction(2)).
#pragma once

#include "ipckit/core/result.hpp"
#include "ipckit/export.hpp"
#include "ipckit/signal/signal_set.hpp"

#include <signal.h>  // NOLINT(modernize-deprecated-headers): POSIX sigset_t, sigaction, sigqueue

namespace ipckit {

/// Options for SignalAction::install.
struct IPCKIT_API SignalActionOptions {
    /// SA_RESTART: restart interrupted slow calls where the kernel allows (F9: never for
    /// msgsnd/semop/poll). ipckit retries EINTR itself, so this mostly matters to other code.
    bool restart = true;
    /// Signals blocked while the handler runs (the signal itself always is, unless nodefer).
    SignalSet mask{};
    /// SA_RESETHAND: back to SIG_DFL after one delivery.
    bool reset_after_one = false;
};

/// Installs a disposition and restores the previous one when destroyed (move-only). Handlers run
/// in signal context: only async-signal-safe calls (signal-safety(7)); prefer a SignalFd.
///
/// Fork: the child inherits dispositions. Exec resets handlers to SIG_DFL but keeps SIG_IGN.
///
/// @code
///   auto ignore = SignalAction::ignore(SIGPIPE);   // restored when `ignore` goes out of scope
/// @endcode
class IPCKIT_API SignalAction {
public:
    using Handler = void (*)(int);
    using InfoHandler = void (*)(int, siginfo_t*, void*);

    static Result<SignalAction> install(int signo,
                                        Handler handler,
                                        SignalActionOptions options = {});
    /// SA_SIGINFO handler: receives the sender and the sigqueue payload (si_value).
    static Result<SignalAction> install(int signo,
                                        InfoHandler handler,
                                        SignalActionOptions options = {});
    /// SIG_IGN.
    static Result<SignalAction> ignore(int signo);
    /// SIG_DFL.
    static Result<SignalAction> reset_to_default(int signo);

    SignalAction(SignalAction&& other) noexcept;
    SignalAction& operator=(SignalAction&&) = delete;
    SignalAction(const SignalAction&) = delete;
    SignalAction& operator=(const SignalAction&) = delete;
    ~SignalAction();

    /// Keeps the new disposition after this object is gone.
    void release() noexcept { active_ = false; }
    [[nodiscard]] int signo() const noexcept { return signo_; }
    [[nodiscard]] const struct sigaction& previous() const noexcept { return old_; }

private:
    static Result<SignalAction> apply(int signo, const struct sigaction& sa);
    SignalAction(int signo, const struct sigaction& old) noexcept
        : signo_(signo), old_(old), active_(true) {}
    int signo_ = 0;
    struct sigaction old_ {};
    bool active_ = false;
};

}  // namespace ipckit
