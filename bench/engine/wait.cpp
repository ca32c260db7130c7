// SPDX-License-Identifier: MIT
#include "engine/wait.hpp"

#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace ipckit::bench {
namespace {

Deadline g_deadline = Deadline::never();
timer_t g_timer{};
bool g_timer_ok = false;

void bench_deadline_alarm(int /*sig*/) {}  // only there to interrupt a blocking call

Error from_errno(int err, const char* op, const std::string& object) {
    return Error::from_errno(err, op, object);
}

}  // namespace

Result<void> init_child_deadlines() {
    struct sigaction sa {};
    sa.sa_handler = bench_deadline_alarm;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: a blocked read must return EINTR
    if (sigaction(SIGALRM, &sa, nullptr) != 0) {
        return from_errno(errno, "sigaction", "SIGALRM");
    }
    sigevent sev{};
    sev.sigev_notify = SIGEV_SIGNAL;
    sev.sigev_signo = SIGALRM;
    if (timer_create(CLOCK_MONOTONIC, &sev, &g_timer) != 0) {
        return from_errno(errno, "timer_create", "phase deadline");
    }
    g_timer_ok = true;
    return {};
}

void set_phase_deadline(Deadline deadline) {
    g_deadline = deadline;
    if (!g_timer_ok) {
        return;
    }
    itimerspec its{};
    if (!deadline.is_never()) {
        its.it_value = deadline.to_monotonic_timespec();
        its.it_interval.tv_nsec = 50'000'000;  // keep interrupting until the phase gives up
    }
    timer_settime(g_timer, TIMER_ABSTIME, &its, nullptr);
}

Deadline phase_deadline() {
    return g_deadline;
}

Error timed_out(const char* op, const std::string& object) {
    return {std::make_error_code(std::errc::timed_out),
            op,
            object,
            "no answer from the peer before the phase deadline"};
}

bool retry_after_eintr() {
    return !g_deadline.expired();
}

}  // namespace ipckit::bench
