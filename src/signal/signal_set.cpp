// SPDX-License-Identifier: MIT
#include "ipckit/signal/signal_set.hpp"

#include "ipckit/core/assert.hpp"

#include <string.h>  // NOLINT(modernize-deprecated-headers): sigabbrev_np is GNU, not in <cstring>

namespace ipckit {

namespace {
void check(int signo) {
    IPCKIT_ASSERT(signo > 0 && signo < NSIG, "signal number out of range");
}
}  // namespace

SignalSet::SignalSet() noexcept {
    sigemptyset(&set_);
}

SignalSet SignalSet::of(std::initializer_list<int> signals) noexcept {
    SignalSet s;
    for (int n : signals) {
        s.add(n);
    }
    return s;
}

SignalSet SignalSet::all() noexcept {
    SignalSet s;
    sigfillset(&s.set_);
    return s;
}

SignalSet& SignalSet::add(int signo) noexcept {
    check(signo);
    sigaddset(&set_, signo);
    return *this;
}

SignalSet& SignalSet::remove(int signo) noexcept {
    check(signo);
    sigdelset(&set_, signo);
    return *this;
}

bool SignalSet::contains(int signo) const noexcept {
    return signo > 0 && signo < NSIG && sigismember(&set_, signo) == 1;
}

bool SignalSet::empty() const noexcept {
    return sigisemptyset(&set_) == 1;
}

SignalSet SignalSet::from_native(const sigset_t& set) noexcept {
    SignalSet s;
    s.set_ = set;
    return s;
}

std::string SignalSet::to_string() const {
    std::string out = "{";
    for (int n = 1; n < NSIG; ++n) {
        if (contains(n)) {
            if (out.size() > 1) {
                out += ", ";
            }
            out += signal_name(n);
        }
    }
    return out + "}";
}

std::string signal_name(int signo) {
    if (signo >= SIGRTMIN && signo <= SIGRTMAX) {
        return signo == SIGRTMIN ? "SIGRTMIN" : "SIGRTMIN+" + std::to_string(signo - SIGRTMIN);
    }
    if (const char* abbrev = ::sigabbrev_np(signo)) {
        return std::string("SIG") + abbrev;
    }
    return "signal " + std::to_string(signo);
}

}  // namespace ipckit
