// SPDX-License-Identifier: MIT
// SignalFd: receive signals as data from a descriptor (signalfd(2)).
#pragma once

#include "ipckit/core/deadline.hpp"
#include "ipckit/core/result.hpp"
#include "ipckit/core/unique_fd.hpp"
#include "ipckit/export.hpp"
#include "ipckit/signal/signal_set.hpp"

#include <sys/types.h>

#include <cstdint>
#include <optional>

namespace ipckit {

/// One signal read from a SignalFd (the useful fields of signalfd_siginfo).
struct IPCKIT_API SignalInfo {
    int signo = 0;
    int code = 0;            ///< si_code: SI_QUEUE for sigqueue, SI_USER for kill, ...
    pid_t pid = 0;           ///< sender (for kill/sigqueue)
    uid_t uid = 0;           ///< sender's real uid
    std::int32_t value = 0;  ///< sigqueue payload as an int (ssi_int)
    std::uint64_t ptr = 0;   ///< sigqueue payload as a pointer-sized value (ssi_ptr)
    int status = 0;          ///< SIGCHLD exit status or signal
};

/// A signalfd for a set of signals. Owns the descriptor (O_CLOEXEC, O_NONBLOCK; reads wait in
/// poll until their deadline). The signals must be blocked in every thread, or the default
/// action or a handler takes them first: create() checks the calling thread and refuses a set
/// that is not blocked there (errc::invalid_argument naming the signals).
///
/// Thread-safety: reads from several threads each get whole signals. Fork: a child that reads
/// the inherited descriptor reads *its own* pending signals, not the parent's (signalfd(2)).
///
/// @code
///   auto blocked = ScopedSignalMask::block(SignalSet::of({SIGRTMIN}));
///   auto sfd = SignalFd::create(SignalSet::of({SIGRTMIN}));
///   auto info = sfd->read(Deadline::after(1s));    // info->value is the sigqueue payload
/// @endcode
class IPCKIT_API SignalFd {
public:
    static Result<SignalFd> create(const SignalSet& set);

    /// The next signal; empty optional if the deadline passed first.
    Result<std::optional<SignalInfo>> read(Deadline deadline = Deadline::never());
    /// read() without waiting.
    Result<std::optional<SignalInfo>> try_read() { return read(Deadline::now()); }

    [[nodiscard]] int native_handle() const noexcept { return fd_.get(); }
    [[nodiscard]] const SignalSet& signals() const noexcept { return set_; }

private:
    SignalFd(UniqueFd fd, const SignalSet& set) noexcept : fd_(std::move(fd)), set_(set) {}
    UniqueFd fd_;
    SignalSet set_;
};

}  // namespace ipckit
