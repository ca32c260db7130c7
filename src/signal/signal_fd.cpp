// SPDX-License-Identifier: MIT
#include "ipckit/signal/signal_fd.hpp"

#include <poll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>

#include "ipckit/signal/signal_mask.hpp"
#include "sys/syscall.hpp"

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
        return Error(std::errc::invalid_argument, "signalfd", object,
                     "not blocked in this thread: " + missing.to_string() +
                         " (block them first with ScopedSignalMask::block)");
    }
    auto fd = sys::call("signalfd", object, [&] {
        return ::signalfd(-1, &set.native(), SFD_CLOEXEC | SFD_NONBLOCK);
    });
    if (!fd) {
        return std::move(fd).error();
    }
    return SignalFd(UniqueFd(*fd), set);
}

Result<std::optional<SignalInfo>> SignalFd::read(Deadline deadline) {
    const std::string object = set_.to_string();
    for (;;) {
        signalfd_siginfo si{};
        const ssize_t n = ::read(fd_.get(), &si, sizeof si);
        if (n == static_cast<ssize_t>(sizeof si)) {
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
        if (n >= 0) {
            return Error(std::errc::io_error, "read", "signalfd " + object,
                         "short read of " + std::to_string(n) + " bytes");
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno != EAGAIN) {
            return sys::last_error("read", "signalfd " + object);
        }
        for (;;) {
            pollfd p{fd_.get(), POLLIN, 0};
            const int rc = ::poll(&p, 1, deadline.to_poll_timeout_ms());
            if (rc > 0) {
                break;
            }
            if (rc == 0) {
                if (deadline.expired()) {
                    return std::optional<SignalInfo>();
                }
                continue;
            }
            if (errno != EINTR) {
                return sys::last_error("poll", "signalfd " + object);
            }
        }
    }
}

}  // namespace ipckit
