// SPDX-License-Identifier: MIT
// ForkedChild: run a callable in a forked process with a hard timeout. A hung child is killed
// and reported; it can never hang the suite.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

namespace ipckit::test {

/// How a child ended.
struct ChildResult {
    bool exited = false;     ///< returned or called _exit
    int exit_code = -1;      ///< valid when exited
    int signal = 0;          ///< terminating signal when !exited
    bool timed_out = false;  ///< we killed it because the deadline passed
    std::string message;     ///< what the child reported through child_fail() or an exception

    [[nodiscard]] bool ok() const { return exited && exit_code == 0 && !timed_out; }
    /// "exited 0", "killed by SIGSEGV", "timed out after 5000 ms (killed)", plus the message.
    [[nodiscard]] std::string describe() const;
};

/// A child process running `body`. The child gets PR_SET_PDEATHSIG(SIGKILL), so it dies with the
/// test; it must not call gtest assertions (use CHILD_CHECK / child_fail and the exit code).
/// The destructor SIGKILLs and reaps a child that was not waited for: no zombies, no orphans.
///
/// @code
///   auto child = ForkedChild::spawn([&] { return peer(name); });
///   EXPECT_CHILD_OK(child.wait_for(5s));
/// @endcode
class ForkedChild {
public:
    /// Forks and runs body() in the child; its return value is the exit code. An exception
    /// escaping body() becomes exit code 111 with the exception text as the message.
    static ForkedChild spawn(std::function<int()> body);

    ForkedChild(ForkedChild&& other) noexcept;
    ForkedChild& operator=(ForkedChild&&) = delete;
    ForkedChild(const ForkedChild&) = delete;
    ForkedChild& operator=(const ForkedChild&) = delete;
    ~ForkedChild();

    /// Waits up to `timeout` for the child to end; past it, SIGKILLs, reaps and reports
    /// timed_out. Call once.
    ChildResult wait_for(std::chrono::milliseconds timeout);
    /// Sends `sig` to the child (no-op once reaped).
    void kill(int sig) const;
    [[nodiscard]] pid_t pid() const { return pid_; }

private:
    ForkedChild(pid_t pid, int pidfd, int report_fd)
        : pid_(pid), pidfd_(pidfd), report_fd_(report_fd) {}
    std::string drain_report() const;
    pid_t pid_ = -1;
    int pidfd_ = -1;      // pidfd_open: a poll-able handle immune to pid reuse
    int report_fd_ = -1;  // read end of the child's failure-message pipe
    bool reaped_ = false;
};

/// In a child: report `why` to the parent and _exit(1).
[[noreturn]] void child_fail(std::string_view why);

/// Blocks until `pid` is sleeping in a system call with number `syscall_nr` (from
/// /proc/PID/syscall), up to `timeout`. Lets a test act while a peer is known to be blocked,
/// without sleeping for a guessed time. Returns false on timeout.
bool wait_until_blocked_in(pid_t pid, long syscall_nr, std::chrono::milliseconds timeout);
/// Blocks until `pid` is in state 'S' (interruptible sleep, as in a blocking call).
bool wait_until_sleeping(pid_t pid, std::chrono::milliseconds timeout);
/// Is `pid` stopped (state 'T' in /proc/PID/stat, e.g. by SIGSTOP or a stopping fault point)?
bool is_stopped(pid_t pid);

}  // namespace ipckit::test

/// In a child: fail with the expression and location unless `cond` holds.
#define CHILD_CHECK(cond)                                                                 \
    do {                                                                                  \
        if (!(cond))                                                                      \
            ::ipckit::test::child_fail(std::string("CHILD_CHECK(" #cond ") failed at ") + \
                                       __FILE__ + ":" + std::to_string(__LINE__));        \
    } while (false)

/// In the parent: expect a ChildResult to be a clean exit 0, printing how it ended otherwise.
#define EXPECT_CHILD_OK(result_expr)                                               \
    do {                                                                           \
        const auto ipckit_child_result_ = (result_expr);                           \
        EXPECT_TRUE(ipckit_child_result_.ok()) << ipckit_child_result_.describe(); \
    } while (false)
