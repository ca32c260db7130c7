// SPDX-License-Identifier: MIT
#include "ipckit/signal/signal_mask.hpp"

#include "sys/syscall.hpp"

#include <pthread.h>

namespace ipckit {

Result<ScopedSignalMask> ScopedSignalMask::block(const SignalSet& set) {
    sigset_t old;
    IPCKIT_TRY(sys::check_rc("pthread_sigmask SIG_BLOCK",
                             set.to_string(),
                             ::pthread_sigmask(SIG_BLOCK, &set.native(), &old)));
    return ScopedSignalMask(old);
}

Result<ScopedSignalMask> ScopedSignalMask::unblock(const SignalSet& set) {
    sigset_t old;
    IPCKIT_TRY(sys::check_rc("pthread_sigmask SIG_UNBLOCK",
                             set.to_string(),
                             ::pthread_sigmask(SIG_UNBLOCK, &set.native(), &old)));
    return ScopedSignalMask(old);
}

Result<ScopedSignalMask> ScopedSignalMask::set(const SignalSet& set) {
    sigset_t old;
    IPCKIT_TRY(sys::check_rc("pthread_sigmask SIG_SETMASK",
                             set.to_string(),
                             ::pthread_sigmask(SIG_SETMASK, &set.native(), &old)));
    return ScopedSignalMask(old);
}

SignalSet ScopedSignalMask::current() noexcept {
    sigset_t now;
    ::pthread_sigmask(SIG_SETMASK, nullptr, &now);
    return SignalSet::from_native(now);
}

ScopedSignalMask::ScopedSignalMask(ScopedSignalMask&& other) noexcept
    : old_(other.old_), active_(std::exchange(other.active_, false)) {}

ScopedSignalMask::~ScopedSignalMask() {
    if (active_) {
        ::pthread_sigmask(SIG_SETMASK, &old_, nullptr);
    }
}

}  // namespace ipckit
