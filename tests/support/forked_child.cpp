// SPDX-License-Identifier: MIT
#include "forked_child.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <fstream>
#include <sstream>
#include <thread>
#include <utility>

namespace ipckit::test {

namespace {
int g_child_report_fd = -1;  // set in the child only: where child_fail writes

int pidfd_open(pid_t pid) {
    return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
}

void write_all_raw(int fd, std::string_view s) {
    while (!s.empty()) {
        const ssize_t n = ::write(fd, s.data(), s.size());
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return;
        }
        s.remove_prefix(static_cast<std::size_t>(n));
    }
}
}  // namespace

std::string ChildResult::describe() const {
    std::ostringstream out;
    if (timed_out) {
        out << "timed out (killed)";
    } else if (exited) {
        out << "exited " << exit_code;
    } else {
        out << "killed by " << (sigabbrev_np(signal) != nullptr ? sigabbrev_np(signal) : "?")
            << " (signal " << signal << ")";
    }
    if (!message.empty()) {
        out << ": " << message;
    }
    return out.str();
}

ForkedChild ForkedChild::spawn(std::function<int()> body) {
    int report[2];
    if (::pipe2(report, O_CLOEXEC) != 0) {
        throw std::system_error(errno, std::system_category(), "pipe2");
    }
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) {
        throw std::system_error(errno, std::system_category(), "fork");
    }
    if (pid == 0) {
        ::close(report[0]);
        g_child_report_fd = report[1];
        // Die with the test process: a crashed or killed parent leaves no orphan behind.
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent) {
            ::_exit(112);
        }
        int rc = 111;
        try {
            rc = body();
        } catch (const std::exception& e) {
            write_all_raw(report[1], std::string("exception: ") + e.what());
        } catch (...) {
            write_all_raw(report[1], "unknown exception");
        }
        ::_exit(rc);
    }
    ::close(report[1]);
    const int pidfd = pidfd_open(pid);
    return {pid, pidfd, report[0]};
}

ForkedChild::ForkedChild(ForkedChild&& other) noexcept
    : pid_(std::exchange(other.pid_, -1))
    , pidfd_(std::exchange(other.pidfd_, -1))
    , report_fd_(std::exchange(other.report_fd_, -1))
    , reaped_(std::exchange(other.reaped_, true)) {}

ForkedChild::~ForkedChild() {
    if (pid_ > 0 && !reaped_) {
        ::kill(pid_, SIGKILL);
        int status = 0;
        while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
        }
    }
    if (pidfd_ >= 0) {
        ::close(pidfd_);
    }
    if (report_fd_ >= 0) {
        ::close(report_fd_);
    }
}

void ForkedChild::kill(int sig) const {
    if (pid_ > 0 && !reaped_) {
        ::kill(pid_, sig);
    }
}

std::string ForkedChild::drain_report() const {
    std::string out;
    char buf[512];
    ::fcntl(report_fd_, F_SETFL, O_NONBLOCK);
    for (;;) {
        const ssize_t n = ::read(report_fd_, buf, sizeof buf);
        if (n > 0) {
            out.append(buf, static_cast<std::size_t>(n));
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else {
            break;
        }
    }
    return out;
}

ChildResult ForkedChild::wait_for(std::chrono::milliseconds timeout) {
    ChildResult result;
    if (pid_ <= 0 || reaped_) {
        result.message = "no child to wait for";
        return result;
    }
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    bool done = false;
    while (!done) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            break;
        }
        pollfd p{pidfd_, POLLIN, 0};
        const int rc = ::poll(&p, 1, static_cast<int>(left.count()) + 1);
        done = rc > 0;
    }
    int status = 0;
    if (!done) {
        ::kill(pid_, SIGKILL);
        result.timed_out = true;
    }
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    reaped_ = true;
    if (WIFEXITED(status)) {
        result.exited = !result.timed_out;
        result.exit_code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        result.signal = WTERMSIG(status);
    }
    result.message = drain_report();
    if (result.timed_out) {
        result.message = "after " + std::to_string(timeout.count()) + " ms" +
                         (result.message.empty() ? "" : "; " + result.message);
    }
    return result;
}

void child_fail(std::string_view why) {
    if (g_child_report_fd >= 0) {
        write_all_raw(g_child_report_fd, why);
    } else {
        write_all_raw(STDERR_FILENO, why);
    }
    ::_exit(1);
}

namespace {
template <class Pred>
bool poll_proc(std::chrono::milliseconds timeout, Pred pred) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (pred()) {
            return true;
        }
        std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    return false;
}
}  // namespace

bool wait_until_blocked_in(pid_t pid, long syscall_nr, std::chrono::milliseconds timeout) {
    const std::string path = "/proc/" + std::to_string(pid) + "/syscall";
    return poll_proc(timeout, [&] {
        std::ifstream in(path);
        long nr = -2;
        return (in >> nr) && nr == syscall_nr &&
               wait_until_sleeping(pid, std::chrono::milliseconds(0));
    });
}

namespace {
/// The state letter of `pid` in /proc/PID/stat ('R', 'S', 'T', ...), or 0.
char proc_state(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    std::getline(in, line);
    const auto paren = line.rfind(')');
    return paren != std::string::npos && paren + 2 < line.size() ? line[paren + 2] : '\0';
}
}  // namespace

bool wait_until_sleeping(pid_t pid, std::chrono::milliseconds timeout) {
    // 'S', not 'D': that is disk I/O, e.g. paging the binary in.
    auto sleeping = [&] { return proc_state(pid) == 'S'; };
    return timeout.count() == 0 ? sleeping() : poll_proc(timeout, sleeping);
}

bool is_stopped(pid_t pid) { return proc_state(pid) == 'T'; }

}  // namespace ipckit::test
