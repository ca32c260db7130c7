// SPDX-License-Identifier: MIT
// SignalSet: a set of signal numbers (sigsetops(3)), and signal names for messages.
#pragma once

#include <signal.h>  // NOLINT(modernize-deprecated-headers): POSIX sigset_t, sigaction, sigqueue

#include <initializer_list>
#include <string>

#include "ipckit/export.hpp"

namespace ipckit {

/// A value-type sigset_t. Adding a number outside 1..NSIG-1 is a contract violation (abort).
///
/// @code
///   auto set = SignalSet::of({SIGUSR1, SIGRTMIN});
/// @endcode
class IPCKIT_API SignalSet {
public:
    /// The empty set.
    SignalSet() noexcept;
    static SignalSet of(std::initializer_list<int> signals) noexcept;
    /// Every signal (SIGKILL and SIGSTOP included; the kernel ignores them in masks).
    static SignalSet all() noexcept;

    SignalSet& add(int signo) noexcept;
    SignalSet& remove(int signo) noexcept;
    [[nodiscard]] bool contains(int signo) const noexcept;
    [[nodiscard]] bool empty() const noexcept;

    [[nodiscard]] const sigset_t& native() const noexcept { return set_; }
    static SignalSet from_native(const sigset_t& set) noexcept;

    /// "{SIGUSR1, SIGRTMIN+3}".
    [[nodiscard]] std::string to_string() const;

private:
    sigset_t set_{};
};

/// "SIGUSR1", "SIGRTMIN+3", "signal 99" for numbers with no name.
IPCKIT_API std::string signal_name(int signo);

}  // namespace ipckit
