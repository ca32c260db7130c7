// SPDX-License-Identifier: MIT
// Process: start a program with its stdio wired to pipes, the parent's descriptors or /dev/null,
// and wait for it (fork(2), execve(2), waitpid(2), pidfd_open(2)) — what popen/pclose should
// have been, plus run(): feed input and collect output without pipe-buffer deadlock.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ipckit/core/deadline.hpp"
#include "ipckit/core/result.hpp"
#include "ipckit/core/unique_fd.hpp"
#include "ipckit/export.hpp"
#include "ipckit/stream/pipe.hpp"

namespace ipckit {

/// Where one of a child's standard descriptors comes from.
class IPCKIT_API Stdio {
public:
    enum class Kind { Inherit, Pipe, Null, Fd, ToStdout };
    /// The parent's own descriptor (the default).
    static Stdio inherit() noexcept { return {Kind::Inherit, -1}; }
    /// A new pipe; the parent's end is Process::stdin_pipe()/stdout_pipe()/stderr_pipe().
    static Stdio pipe() noexcept { return {Kind::Pipe, -1}; }
    /// /dev/null.
    static Stdio null() noexcept { return {Kind::Null, -1}; }
    /// This descriptor of the parent (not consumed: the caller still owns and closes it).
    static Stdio fd(int fd) noexcept { return {Kind::Fd, fd}; }
    /// stderr only: wherever the child's stdout goes (2>&1).
    static Stdio to_stdout() noexcept { return {Kind::ToStdout, -1}; }

    [[nodiscard]] Kind kind() const noexcept { return kind_; }
    [[nodiscard]] int raw_fd() const noexcept { return fd_; }

private:
    Stdio(Kind k, int fd) noexcept : kind_(k), fd_(fd) {}
    Kind kind_;
    int fd_;
};

/// How to start a program.
struct IPCKIT_API ProcessOptions {
    Stdio in = Stdio::inherit();
    Stdio out = Stdio::inherit();
    Stdio err = Stdio::inherit();
    /// "NAME=value" entries set in the child's environment (replacing inherited ones of that name).
    std::vector<std::string> env_set{};
    /// Start from an empty environment instead of the parent's (env_set still applies).
    bool clear_env = false;
    /// Working directory of the child; empty keeps the parent's. A missing directory is an error
    /// from spawn() ("chdir /nope: No such file or directory").
    std::string cwd{};
    /// Look argv[0] up in $PATH when it has no '/' (like execvp). The search list is computed
    /// before fork, so the child does no allocation.
    bool search_path = true;
    /// Run the child in a new session (setsid): it leaves our process group and terminal.
    bool new_session = false;
    /// A terminal descriptor (a pty slave) to make the child's controlling terminal: implies
    /// new_session, then ioctl(TIOCSCTTY). -1: none.
    int controlling_terminal = -1;
    /// Descriptors (of the parent) the child keeps at the same number. Every other descriptor
    /// above 2 is closed at exec, whether or not it was O_CLOEXEC (close_range), unless
    /// close_other_fds is false.
    std::vector<int> keep_fds{};
    /// false: descriptors the parent left without FD_CLOEXEC also reach the program, as with a
    /// plain execve: for a wrapper such as `ipckit lock` that hands on what its own caller gave
    /// it (make's jobserver pipe, a `3>log`). Descriptors marked O_CLOEXEC still close at exec.
    bool close_other_fds = true;
};

/// How a process ended.
struct IPCKIT_API ExitStatus {
    bool exited = false;  ///< ended by exit/_exit/return from main
    int code = -1;        ///< exit code when exited
    int signal = 0;       ///< terminating signal when !exited
    bool core_dumped = false;

    [[nodiscard]] bool success() const noexcept { return exited && code == 0; }
    /// "exited 0", "killed by SIGKILL".
    [[nodiscard]] std::string describe() const;
    /// Decodes a waitpid status word.
    static ExitStatus from_wait_status(int status) noexcept;
};

/// What run() collected.
struct IPCKIT_API RunOutput {
    ExitStatus status;
    std::string out;
    std::string err;
};

/// A running (or finished, not yet reaped) child process. Owns the child: the pid, a pidfd for
/// deadline waits that cannot be confused by pid reuse, and the parent's ends of any stdio pipes.
/// Destroying a Process that has not been waited for sends SIGKILL and reaps it, so there is
/// never a zombie or an orphan; call wait() to let it finish. Thread-safety: one thread at a
/// time. Fork/exec: every descriptor is O_CLOEXEC; only 0/1/2 and keep_fds reach the program
/// (unless ProcessOptions::close_other_fds is false).
///
/// The child between fork and exec only calls async-signal-safe functions (dup2, close_range,
/// chdir, setsid, ioctl, execve, write, _exit) on data prepared before fork. If exec fails, the
/// child sends errno through a CLOEXEC pipe and spawn() returns that error ("execve nosuch: No
/// such file or directory") instead of a child that exits 127.
///
/// SIGPIPE: the child starts with the default SIGPIPE disposition and an empty signal mask, as a
/// shell would give it, even if the parent ignores or blocks SIGPIPE.
///
/// @code
///   auto p = Process::spawn({"sort"}, {.in = Stdio::pipe(), .out = Stdio::pipe()}).value();
///   auto r = p.communicate("b\na\n").value();   // r.out == "a\nb\n"
/// @endcode
class IPCKIT_API Process {
public:
    /// Starts argv[0] with argv (no shell). errc::no_such_file_or_directory /
    /// errc::permission_denied from execve, or from chdir for a bad cwd.
    static Result<Process> spawn(const std::vector<std::string>& argv, const ProcessOptions& options = {});
    /// Runs `command` with /bin/sh -c, like popen: `args` become $1, $2, ... (so paths need no
    /// quoting: shell("wc -c < \"$1\"", {path})).
    static Result<Process> shell(const std::string& command,
                                 const std::vector<std::string>& args = {},
                                 const ProcessOptions& options = {});

    Process(Process&& other) noexcept;
    Process& operator=(Process&& other) noexcept;
    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;
    ~Process();

    [[nodiscard]] pid_t pid() const noexcept { return pid_; }
    /// The parent's ends of Stdio::pipe() descriptors (invalid when not a pipe). Close stdin_pipe()
    /// to send end of file; move a pipe out to keep it beyond the Process.
    PipeWriter& stdin_pipe() noexcept { return in_; }
    PipeReader& stdout_pipe() noexcept { return out_; }
    PipeReader& stderr_pipe() noexcept { return err_; }

    /// Waits for the child to end and reaps it. Calling again returns the same status.
    Result<ExitStatus> wait();
    /// Waits until `deadline`; empty optional if the child is still running.
    Result<std::optional<ExitStatus>> wait_until(Deadline deadline);
    template <class Rep, class Period>
    Result<std::optional<ExitStatus>> wait_for(std::chrono::duration<Rep, Period> timeout) {
        return wait_until(Deadline::after(timeout));
    }
    Result<std::optional<ExitStatus>> try_wait() { return wait_until(Deadline::now()); }
    /// Sends `sig` (through the pidfd: never a recycled pid). A no-op once reaped.
    Result<void> kill(int sig);
    /// True once wait() has reaped the child.
    [[nodiscard]] bool reaped() const noexcept { return status_.has_value(); }

    /// Writes `input` to stdin (then closes it) while reading stdout and stderr (whichever are
    /// pipes) until end of file, then waits. Deadlock-free for any sizes: one poll loop drives all
    /// three. If the child exits without reading all input (EPIPE), the rest is dropped, as with
    /// Python's communicate. errc::timed_out if `deadline` passes (the child is then killed).
    Result<RunOutput> communicate(std::string_view input = {}, Deadline deadline = Deadline::never());

private:
    Process() = default;
    void kill_and_reap() noexcept;
    pid_t pid_ = -1;
    UniqueFd pidfd_;
    PipeWriter in_;
    PipeReader out_;
    PipeReader err_;
    std::optional<ExitStatus> status_;
};

/// Options for run().
struct IPCKIT_API RunOptions {
    std::vector<std::string> env_set{};
    bool clear_env = false;
    std::string cwd{};
    Deadline deadline = Deadline::never();
    bool merge_stderr = false;  ///< 2>&1: err stays empty
};

/// Runs argv with `input` on stdin and returns its status and output: the classic
/// `popen`+`pclose` done right. Output of any size is collected (no pipe-buffer deadlock).
IPCKIT_API Result<RunOutput> run(const std::vector<std::string>& argv,
                                 std::string_view input = {},
                                 const RunOptions& options = {});

}  // namespace ipckit
