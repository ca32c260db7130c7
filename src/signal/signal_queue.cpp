// SPDX-License-Identifier: MIT
#include "ipckit/signal/signal_queue.hpp"

#include <signal.h>
#include <sys/resource.h>

#include <cerrno>
#include <string>

#include "ipckit/signal/signal_set.hpp"
#include "sys/syscall.hpp"

namespace ipckit {

namespace {

Result<void> queue(pid_t pid, int signo, sigval value) {
    const std::string object = "pid " + std::to_string(pid);
    if (::sigqueue(pid, signo, value) == 0) {
        return {};
    }
    const int err = errno;  // sigqueue is not interrupted: it never blocks
    std::string detail = signal_name(signo);
    if (err == ESRCH) {
        detail += ": no process with this pid (it exited, or never existed)";
    } else if (err == EAGAIN) {
        rlimit rl{};
        ::getrlimit(RLIMIT_SIGPENDING, &rl);
        detail += ": the receiver's real uid has RLIMIT_SIGPENDING (" +
                  std::to_string(rl.rlim_cur) + ") signals queued; raise it with ulimit -i";
    } else if (err == EPERM) {
        detail += ": the process belongs to another user";
    }
    return Error::from_errno(err, "sigqueue", object, detail);
}

}  // namespace

Result<void> queue_signal(pid_t pid, int signo, std::int32_t value) {
    sigval v{};
    v.sival_int = value;
    return queue(pid, signo, v);
}

Result<void> queue_signal_ptr(pid_t pid, int signo, std::uintptr_t value) {
    sigval v{};
    v.sival_ptr = reinterpret_cast<void*>(value);  // NOLINT: a number carried in sival_ptr
    return queue(pid, signo, v);
}

}  // namespace ipckit
