// SPDX-License-Identifier: MIT
#include "ipckit/signal/signal_queue.hpp"

#include "ipckit/signal/signal_set.hpp"
#include "sys/syscall.hpp"

#include <signal.h>  // NOLINT(modernize-deprecated-headers): POSIX sigset_t, sigaction, sigqueue
#include <sys/resource.h>

#include <cerrno>
#include <string>

namespace ipckit {

namespace {

Result<void> queue(pid_t pid, int signo, sigval value) {
    const std::string object = "pid " + std::to_string(pid);
    // sigqueue never blocks, so EINTR cannot happen; call() is only the errno adapter.
    auto rc = sys::call("sigqueue", object, [&] { return ::sigqueue(pid, signo, value); });
    if (rc) {
        return {};
    }
    const Error& e = rc.error();
    std::string detail = signal_name(signo);
    if (e.code() == std::errc::no_such_process) {
        detail += ": no process with this pid (it exited, or never existed)";
    } else if (e.code() == std::errc::resource_unavailable_try_again) {
        rlimit rl{};
        ::getrlimit(RLIMIT_SIGPENDING, &rl);
        detail += ": the receiver's real uid has RLIMIT_SIGPENDING (" +
                  std::to_string(rl.rlim_cur) + ") signals queued; raise it with ulimit -i";
    } else if (e.code() == std::errc::operation_not_permitted) {
        detail += ": the process belongs to another user";
    }
    return e.with_detail(detail);
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
