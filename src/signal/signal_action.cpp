// SPDX-License-Identifier: MIT
#include "ipckit/signal/signal_action.hpp"

#include "sys/syscall.hpp"

#include <utility>

namespace ipckit {

namespace {
struct sigaction make(const SignalActionOptions& options) {
    struct sigaction sa {};
    sa.sa_mask = options.mask.native();
    sa.sa_flags = static_cast<int>((options.restart ? unsigned{SA_RESTART} : 0U) |
                                   (options.reset_after_one ? unsigned{SA_RESETHAND} : 0U));
    return sa;
}
}  // namespace

Result<SignalAction> SignalAction::apply(int signo, const struct sigaction& sa) {
    struct sigaction old {};
    IPCKIT_TRY(
        sys::call("sigaction", signal_name(signo), [&] { return ::sigaction(signo, &sa, &old); }));
    return SignalAction(signo, old);
}

Result<SignalAction> SignalAction::install(int signo,
                                           Handler handler,
                                           SignalActionOptions options) {
    struct sigaction sa = make(options);
    sa.sa_handler = handler;
    return apply(signo, sa);
}

Result<SignalAction> SignalAction::install(int signo,
                                           InfoHandler handler,
                                           SignalActionOptions options) {
    struct sigaction sa = make(options);
    sa.sa_flags |= SA_SIGINFO;
    sa.sa_sigaction = handler;
    return apply(signo, sa);
}

Result<SignalAction> SignalAction::ignore(int signo) {
    struct sigaction sa {};
    sa.sa_handler = SIG_IGN;
    return apply(signo, sa);
}

Result<SignalAction> SignalAction::reset_to_default(int signo) {
    struct sigaction sa {};
    sa.sa_handler = SIG_DFL;
    return apply(signo, sa);
}

SignalAction::SignalAction(SignalAction&& other) noexcept
    : signo_(other.signo_), old_(other.old_), active_(std::exchange(other.active_, false)) {}

SignalAction::~SignalAction() {
    if (active_) {
        ::sigaction(signo_, &old_, nullptr);
    }
}

}  // namespace ipckit
