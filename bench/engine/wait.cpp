// SPDX-License-Identifier: MIT
#include "engine/wait.hpp"

#include <signal.h>
#include <sys/socket.h>
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

Result<void> write_all(int fd,
                       std::span<const std::byte> data,
                       const std::string& object,
                       bool socket) {
    std::size_t done = 0;
    while (done < data.size()) {
        const ssize_t n = socket ? ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL)
                                 : ::write(fd, data.data() + done, data.size() - done);
        if (n < 0) {
            if (errno == EINTR && retry_after_eintr()) {
                continue;
            }
            if (errno == EINTR) {
                return timed_out("write", object);
            }
            return from_errno(errno, "write", object);
        }
        done += static_cast<std::size_t>(n);
    }
    return {};
}

Result<void> read_exact(int fd, std::span<std::byte> buffer, const std::string& object) {
    std::size_t done = 0;
    while (done < buffer.size()) {
        const ssize_t n = ::read(fd, buffer.data() + done, buffer.size() - done);
        if (n < 0) {
            if (errno == EINTR && retry_after_eintr()) {
                continue;
            }
            if (errno == EINTR) {
                return timed_out("read", object);
            }
            return from_errno(errno, "read", object);
        }
        if (n == 0) {
            return Error(std::make_error_code(std::errc::connection_reset),
                         "read",
                         object,
                         "the peer closed its end");
        }
        done += static_cast<std::size_t>(n);
    }
    return {};
}

Result<void> send_record(int fd, std::span<const std::byte> data, const std::string& object) {
    for (;;) {
        const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
        if (n >= 0) {
            return {};
        }
        if (errno == EINTR && retry_after_eintr()) {
            continue;
        }
        if (errno == EINTR) {
            return timed_out("send", object);
        }
        return from_errno(errno, "send", object);
    }
}

Result<std::size_t> recv_record(int fd, std::span<std::byte> buffer, const std::string& object) {
    for (;;) {
        const ssize_t n = ::recv(fd, buffer.data(), buffer.size(), MSG_TRUNC);
        if (n >= 0) {
            if (static_cast<std::size_t>(n) > buffer.size()) {
                return Error(std::make_error_code(std::errc::message_size),
                             "recv",
                             object,
                             "record larger than the buffer");
            }
            return static_cast<std::size_t>(n);
        }
        if (errno == EINTR && retry_after_eintr()) {
            continue;
        }
        if (errno == EINTR) {
            return timed_out("recv", object);
        }
        return from_errno(errno, "recv", object);
    }
}

}  // namespace ipckit::bench
