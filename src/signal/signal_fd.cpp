// SPDX-License-Identifier: MIT
#include "ipckit/signal/signal_fd.hpp"

#include "ipckit/signal/signal_mask.hpp"
#include "sys/syscall.hpp"

#include <poll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>

namespace ipckit {

Result<SignalFd> SignalFd::create(const SignalSet& set) {
    const std::string object = set.to_string();
    // A signal that is not blocked goes to its handler or default action, never to the fd:
    // refuse early rather than wait forever for something that cannot arrive.
    const SignalSet mask = ScopedSignalMask::current();
    SignalSet missing;
    for (int n = 1; n < NSIG; ++n) {
        if (set.contains(n) && !mask.contains(n) && n != SIGKILL && n != SIGSTOP) {
            missing.add(n);
        }
    }
    if (!missing.empty()) {
        return Error(std::errc::invalid_argument,
                     "signalfd",
                     object,
                     "not blocked in this thread: " + missing.to_string() +
                         " (block them first with ScopedSignalMask::block)");
    }
    IPCKIT_TRY_ASSIGN(auto fd, sys::call("signalfd", object, [&] {
                          return ::signalfd(-1, &set.native(), SFD_CLOEXEC | SFD_NONBLOCK);
                      }));
    return SignalFd(UniqueFd(fd), set);
}

Result<std::optional<SignalInfo>> SignalFd::read(Deadline deadline) {
    const std::string object = "signalfd " + set_.to_string();
    for (;;) {
        signalfd_siginfo si{};
        IPCKIT_TRY_ASSIGN(auto n, sys::call_maybe("read", object, {EAGAIN}, [&] {
                              return ::read(fd_.get(), &si, sizeof si);
                          }));
        if (n.has_value()) {
            if (*n != static_cast<ssize_t>(sizeof si)) {
                return Error(std::errc::io_error,
                             "read",
                             object,
                             "short read of " + std::to_string(*n) + " bytes");
            }
            SignalInfo info;
            info.signo = static_cast<int>(si.ssi_signo);
            info.code = si.ssi_code;
            info.pid = static_cast<pid_t>(si.ssi_pid);
            info.uid = si.ssi_uid;
            info.value = si.ssi_int;
            info.ptr = si.ssi_ptr;
            info.status = si.ssi_status;
            return std::optional<SignalInfo>(info);
        }
        pollfd p{fd_.get(), POLLIN, 0};
        auto rc = sys::call_once(
            "poll", object, [&] { return ::poll(&p, 1, deadline.to_poll_timeout_ms()); });
        if (!rc && rc.error().code() != std::errc::interrupted) {
            return std::move(rc).error();
        }
        if (rc && *rc == 0 && deadline.expired()) {
            return std::optional<SignalInfo>();
        }
    }
}

}  // namespace ipckit
