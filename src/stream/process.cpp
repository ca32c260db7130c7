// SPDX-License-Identifier: MIT
#include "ipckit/stream/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "ipckit/core/assert.hpp"
#include "ipckit/core/io.hpp"
#include "sys/syscall.hpp"

extern char** environ;

namespace ipckit {

namespace {

// Which step failed in the child, sent with errno through the CLOEXEC report pipe.
enum class Stage : int { Exec = 1, Chdir, Setsid, Ctty, Dup2, Fcntl };

const char* stage_op(Stage s) {
    switch (s) {
        case Stage::Exec:
            return "execve";
        case Stage::Chdir:
            return "chdir";
        case Stage::Setsid:
            return "setsid";
        case Stage::Ctty:
            return "ioctl(TIOCSCTTY)";
        case Stage::Dup2:
            return "dup2";
        case Stage::Fcntl:
            return "fcntl";
    }
    return "spawn";
}

struct ChildReport {
    int stage;
    int err;
};

// Everything the child needs, prepared before fork so the child allocates nothing.
struct ChildPlan {
    int src[3] = {-1, -1, -1};  // descriptor to become 0/1/2; -1 = inherit
    bool err_to_out = false;
    const char* cwd = nullptr;
    bool setsid = false;
    int ctty = -1;
    const int* keep = nullptr;
    std::size_t nkeep = 0;
    char* const* argv = nullptr;
    char* const* envp = nullptr;
    const char* const* candidates = nullptr;
    std::size_t ncandidates = 0;
    int report_fd = -1;
};

[[noreturn]] void child_fail(int report_fd, Stage stage, int err) noexcept {
    const ChildReport r{static_cast<int>(stage), err};
    // One small write to a pipe: atomic; nothing useful to do if it fails.
    [[maybe_unused]] const ssize_t n = ::write(report_fd, &r, sizeof r);
    ::_exit(127);
}

// Runs in the child between fork and exec: async-signal-safe calls only, no allocation.
[[noreturn]] void child_exec(ChildPlan plan) noexcept {
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    ::sigaction(SIGPIPE, &dfl, nullptr);
    ::sigaction(SIGXFSZ, &dfl, nullptr);

    // Keep the report pipe and the stdio sources clear of 0..2, which the dup2s below overwrite.
    if (plan.report_fd < 3) {
        plan.report_fd = ::fcntl(plan.report_fd, F_DUPFD_CLOEXEC, 3);
        if (plan.report_fd < 0) {
            ::_exit(127);
        }
    }
    if (plan.setsid || plan.ctty >= 0) {
        if (::setsid() < 0) {
            child_fail(plan.report_fd, Stage::Setsid, errno);
        }
    }
    if (plan.ctty >= 0 && ::ioctl(plan.ctty, TIOCSCTTY, 0) < 0) {
        child_fail(plan.report_fd, Stage::Ctty, errno);
    }
    for (int& fd : plan.src) {
        if (fd >= 0 && fd < 3) {
            fd = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
            if (fd < 0) {
                child_fail(plan.report_fd, Stage::Fcntl, errno);
            }
        }
    }
    for (int target = 0; target < 3; ++target) {
        // dup2 clears FD_CLOEXEC on the target, so 0..2 survive exec.
        if (plan.src[target] >= 0 && ::dup2(plan.src[target], target) < 0) {
            child_fail(plan.report_fd, Stage::Dup2, errno);
        }
    }
    if (plan.err_to_out && ::dup2(1, 2) < 0) {
        child_fail(plan.report_fd, Stage::Dup2, errno);
    }
    if (plan.cwd != nullptr && ::chdir(plan.cwd) < 0) {
        child_fail(plan.report_fd, Stage::Chdir, errno);
    }
    // Descriptors the parent opened without O_CLOEXEC (or inherited) must not leak into the
    // program: mark everything above 2 close-on-exec (the report pipe stays usable until exec).
    if (::syscall(SYS_close_range, 3U, ~0U, 4U /* CLOSE_RANGE_CLOEXEC */) != 0) {
        const long max_fd = ::sysconf(_SC_OPEN_MAX);
        for (long fd = 3; fd < max_fd && fd < 65536; ++fd) {
            ::fcntl(static_cast<int>(fd), F_SETFD, FD_CLOEXEC);
        }
    }
    for (std::size_t i = 0; i < plan.nkeep; ++i) {
        ::fcntl(plan.keep[i], F_SETFD, 0);
    }
    int err = ENOENT;
    bool saw_eacces = false;
    for (std::size_t i = 0; i < plan.ncandidates; ++i) {
        ::execve(plan.candidates[i], plan.argv, plan.envp);
        err = errno;
        if (err == EACCES) {
            saw_eacces = true;
        } else if (err != ENOENT && err != ENOTDIR) {
            break;  // like execvp: a real error stops the search
        }
    }
    child_fail(plan.report_fd, Stage::Exec, saw_eacces && (err == ENOENT || err == ENOTDIR) ? EACCES : err);
}

std::vector<std::string> exec_candidates(const std::string& file, bool search_path) {
    if (!search_path || file.find('/') != std::string::npos) {
        return {file};
    }
    const char* path = ::getenv("PATH");  // NOLINT(concurrency-mt-unsafe): read before fork
    std::string_view dirs = (path != nullptr && *path != '\0') ? path : "/bin:/usr/bin";
    std::vector<std::string> out;
    for (;;) {
        const auto colon = dirs.find(':');
        const std::string_view dir = dirs.substr(0, colon);
        out.push_back((dir.empty() ? std::string(".") : std::string(dir)) + "/" + file);
        if (colon == std::string_view::npos) {
            break;
        }
        dirs.remove_prefix(colon + 1);
    }
    return out;
}

std::vector<std::string> child_environment(const ProcessOptions& options) {
    std::vector<std::string> env;
    if (!options.clear_env) {
        for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
            env.emplace_back(*e);
        }
    }
    for (const auto& entry : options.env_set) {
        const auto eq = entry.find('=');
        const std::string_view name(entry.data(), eq == std::string::npos ? entry.size() : eq + 1);
        std::erase_if(env, [&](const std::string& e) { return e.starts_with(name); });
        env.push_back(entry);
    }
    return env;
}

std::vector<char*> c_strings(std::vector<std::string>& v) {
    std::vector<char*> out;
    out.reserve(v.size() + 1);
    for (auto& s : v) {
        out.push_back(s.data());
    }
    out.push_back(nullptr);
    return out;
}

}  // namespace

std::string ExitStatus::describe() const {
    if (exited) {
        return "exited " + std::to_string(code);
    }
    const char* name = ::sigabbrev_np(signal);
    return std::string("killed by ") + (name != nullptr ? std::string("SIG") + name : std::to_string(signal)) +
           (core_dumped ? " (core dumped)" : "");
}

ExitStatus ExitStatus::from_wait_status(int status) noexcept {
    ExitStatus s;
    if (WIFEXITED(status)) {
        s.exited = true;
        s.code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        s.signal = WTERMSIG(status);
        s.core_dumped = WCOREDUMP(status);
    }
    return s;
}

Result<Process> Process::spawn(const std::vector<std::string>& argv, const ProcessOptions& options) {
    if (argv.empty() || argv[0].empty()) {
        return Error(std::errc::invalid_argument, "spawn", "", "argv is empty");
    }
    if (options.in.kind() == Stdio::Kind::ToStdout || options.out.kind() == Stdio::Kind::ToStdout) {
        return Error(std::errc::invalid_argument, "spawn", argv[0],
                     "Stdio::to_stdout() is only for stderr");
    }
    std::vector<std::string> args = argv;
    std::vector<char*> c_argv = c_strings(args);
    std::vector<std::string> env = child_environment(options);
    std::vector<char*> c_env = c_strings(env);
    const std::vector<std::string> candidates = exec_candidates(argv[0], options.search_path);
    std::vector<const char*> c_candidates;
    for (const auto& c : candidates) {
        c_candidates.push_back(c.c_str());
    }

    Process p;
    ChildPlan plan;
    UniqueFd child_ends[3];  // our copies of the child's ends: closed after fork
    UniqueFd dev_null;
    const Stdio* specs[3] = {&options.in, &options.out, &options.err};
    for (int i = 0; i < 3; ++i) {
        switch (specs[i]->kind()) {
            case Stdio::Kind::Inherit:
                break;
            case Stdio::Kind::Pipe: {
                auto pipe = Pipe::create();
                if (!pipe) {
                    return std::move(pipe).error();
                }
                if (i == 0) {
                    child_ends[0] = pipe->reader.release();
                    p.in_ = PipeWriter(pipe->writer.release(), "stdin of " + argv[0]);
                } else {
                    child_ends[i] = pipe->writer.release();
                    (i == 1 ? p.out_ : p.err_) =
                        PipeReader(pipe->reader.release(), (i == 1 ? "stdout of " : "stderr of ") + argv[0]);
                }
                plan.src[i] = child_ends[i].get();
                break;
            }
            case Stdio::Kind::Null:
                if (!dev_null) {
                    auto fd = sys::call("open", "/dev/null",
                                        [] { return ::open("/dev/null", O_RDWR | O_CLOEXEC); });
                    if (!fd) {
                        return std::move(fd).error();
                    }
                    dev_null.reset(*fd);
                }
                plan.src[i] = dev_null.get();
                break;
            case Stdio::Kind::Fd:
                plan.src[i] = specs[i]->raw_fd();
                break;
            case Stdio::Kind::ToStdout:
                plan.err_to_out = true;
                break;
        }
    }
    auto report = Pipe::create();
    if (!report) {
        return std::move(report).error();
    }
    plan.report_fd = report->writer.native_handle();
    plan.cwd = options.cwd.empty() ? nullptr : options.cwd.c_str();
    plan.setsid = options.new_session;
    plan.ctty = options.controlling_terminal;
    plan.keep = options.keep_fds.data();
    plan.nkeep = options.keep_fds.size();
    plan.argv = c_argv.data();
    plan.envp = c_env.data();
    plan.candidates = c_candidates.data();
    plan.ncandidates = c_candidates.size();

    auto pid = sys::call("fork", argv[0], [] { return ::fork(); });
    if (!pid) {
        return std::move(pid).error();
    }
    if (*pid == 0) {
        child_exec(plan);
    }
    p.pid_ = *pid;
    // A pidfd makes deadline waits and kill() immune to pid reuse (F29). Optional: without it
    // (kernel < 5.3) waits poll waitpid.
    const long pidfd = ::syscall(SYS_pidfd_open, p.pid_, 0);
    if (pidfd >= 0) {
        p.pidfd_.reset(static_cast<int>(pidfd));
        ::fcntl(p.pidfd_.get(), F_SETFD, FD_CLOEXEC);  // pidfd_open sets it already; be explicit
    }
    for (auto& fd : child_ends) {
        fd.reset();
    }
    report->writer.close();
    ChildReport r{};
    auto n = report->reader.read_exact(std::as_writable_bytes(std::span(&r, 1)));
    if (!n) {
        return std::move(n).error();
    }
    if (*n == sizeof r) {
        // The exec failed: reap the child now (it has _exit'ed) and report why.
        (void)p.wait();
        const auto stage = static_cast<Stage>(r.stage);
        const std::string object = stage == Stage::Chdir ? options.cwd : argv[0];
        std::string detail;
        if (stage == Stage::Exec && candidates.size() > 1) {
            detail = "searched $PATH";
        }
        return Error::from_errno(r.err, stage_op(stage), object, detail);
    }
    return p;
}

Result<Process> Process::shell(const std::string& command, const std::vector<std::string>& args,
                               const ProcessOptions& options) {
    std::vector<std::string> argv{"/bin/sh", "-c", command, "sh"};
    argv.insert(argv.end(), args.begin(), args.end());
    return spawn(argv, options);
}

Process::Process(Process&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      pidfd_(std::move(other.pidfd_)),
      in_(std::move(other.in_)),
      out_(std::move(other.out_)),
      err_(std::move(other.err_)),
      status_(std::exchange(other.status_, std::nullopt)) {}

Process& Process::operator=(Process&& other) noexcept {
    if (this != &other) {
        kill_and_reap();
        pid_ = std::exchange(other.pid_, -1);
        pidfd_ = std::move(other.pidfd_);
        in_ = std::move(other.in_);
        out_ = std::move(other.out_);
        err_ = std::move(other.err_);
        status_ = std::exchange(other.status_, std::nullopt);
    }
    return *this;
}

Process::~Process() { kill_and_reap(); }

void Process::kill_and_reap() noexcept {
    if (pid_ > 0 && !status_) {
        (void)kill(SIGKILL);
        (void)wait();
    }
}

Result<ExitStatus> Process::wait() {
    if (status_) {
        return *status_;
    }
    IPCKIT_ASSERT(pid_ > 0, "wait() on a moved-from Process");
    int st = 0;
    auto rc = sys::call("waitpid", std::to_string(pid_), [&] { return ::waitpid(pid_, &st, 0); });
    if (!rc) {
        return std::move(rc).error();
    }
    status_ = ExitStatus::from_wait_status(st);
    pidfd_.reset();
    return *status_;
}

Result<std::optional<ExitStatus>> Process::wait_until(Deadline deadline) {
    if (status_) {
        return std::optional<ExitStatus>(*status_);
    }
    if (deadline.is_never()) {
        auto s = wait();
        if (!s) {
            return std::move(s).error();
        }
        return std::optional<ExitStatus>(*s);
    }
    IPCKIT_ASSERT(pid_ > 0, "wait_until() on a moved-from Process");
    for (;;) {
        int st = 0;
        auto rc = sys::call("waitpid", std::to_string(pid_),
                            [&] { return ::waitpid(pid_, &st, WNOHANG); });
        if (!rc) {
            return std::move(rc).error();
        }
        if (*rc == pid_) {
            status_ = ExitStatus::from_wait_status(st);
            pidfd_.reset();
            return std::optional<ExitStatus>(*status_);
        }
        if (deadline.expired()) {
            return std::optional<ExitStatus>();
        }
        if (pidfd_) {
            pollfd pfd{pidfd_.get(), POLLIN, 0};
            const int prc = ::poll(&pfd, 1, deadline.to_poll_timeout_ms());
            if (prc < 0 && errno != EINTR) {
                return sys::last_error("poll", "pidfd of " + std::to_string(pid_));
            }
        } else {
            ::usleep(2000);  // no pidfd (old kernel): poll waitpid in short slices
        }
    }
}

Result<void> Process::kill(int sig) {
    if (status_ || pid_ <= 0) {
        return {};
    }
    if (pidfd_) {
        auto rc = sys::call("pidfd_send_signal", std::to_string(pid_), [&] {
            return ::syscall(SYS_pidfd_send_signal, pidfd_.get(), sig, nullptr, 0U);
        });
        if (rc || rc.error() != std::errc::function_not_supported) {
            return rc ? Result<void>() : Result<void>(std::move(rc).error());
        }
    }
    // Without a pidfd the child is still ours and unreaped, so its pid cannot have been reused.
    auto rc = sys::call("kill", std::to_string(pid_), [&] { return ::kill(pid_, sig); });
    if (!rc) {
        return std::move(rc).error();
    }
    return {};
}

Result<RunOutput> Process::communicate(std::string_view input, Deadline deadline) {
    RunOutput result;
    std::size_t written = 0;
    if (in_.valid() && input.empty()) {
        in_.close();
    }
    if (in_.valid()) {
        IPCKIT_TRY(in_.set_nonblocking(true));
    }
    if (out_.valid()) {
        IPCKIT_TRY(out_.set_nonblocking(true));
    }
    if (err_.valid()) {
        IPCKIT_TRY(err_.set_nonblocking(true));
    }
    std::byte chunk[65536];
    const auto drain = [&](PipeReader& r, std::string& sink) -> Result<void> {
        auto n = r.try_read(chunk);
        if (!n) {
            return std::move(n).error();
        }
        if (n->has_value()) {
            if (**n == 0) {
                r.close();
            } else {
                sink.append(reinterpret_cast<const char*>(chunk), **n);  // NOLINT: bytes to chars
            }
        }
        return {};
    };
    while (in_.valid() || out_.valid() || err_.valid()) {
        pollfd fds[3] = {{in_.valid() ? in_.native_handle() : -1, POLLOUT, 0},
                         {out_.valid() ? out_.native_handle() : -1, POLLIN, 0},
                         {err_.valid() ? err_.native_handle() : -1, POLLIN, 0}};
        const int rc = ::poll(fds, 3, deadline.to_poll_timeout_ms());
        if (rc < 0) {
            if (errno == EINTR) {
                continue;
            }
            return sys::last_error("poll", "stdio of " + std::to_string(pid_));
        }
        if (rc == 0 && deadline.expired()) {
            kill_and_reap();
            return Error(std::errc::timed_out, "communicate", std::to_string(pid_),
                         "child killed; collected " + std::to_string(result.out.size()) +
                             " bytes of stdout");
        }
        if (fds[0].revents != 0) {
            const auto rest = input.substr(written);
            auto n = in_.try_write(std::as_bytes(std::span(rest.data(), rest.size())));
            if (!n) {
                if (n.error() != std::errc::broken_pipe) {
                    return std::move(n).error();
                }
                in_.close();  // the child stopped reading: drop the rest of the input
            } else if (n->has_value()) {
                written += **n;
                if (written == input.size()) {
                    in_.close();
                }
            }
        }
        if (fds[1].revents != 0) {
            IPCKIT_TRY(drain(out_, result.out));
        }
        if (fds[2].revents != 0) {
            IPCKIT_TRY(drain(err_, result.err));
        }
    }
    auto status = wait_until(deadline);
    if (!status) {
        return std::move(status).error();
    }
    if (!status->has_value()) {
        kill_and_reap();
        return Error(std::errc::timed_out, "communicate", std::to_string(pid_),
                     "child closed its output but did not exit; killed");
    }
    result.status = **status;
    return result;
}

Result<RunOutput> run(const std::vector<std::string>& argv, std::string_view input,
                      const RunOptions& options) {
    ProcessOptions po;
    po.in = Stdio::pipe();
    po.out = Stdio::pipe();
    po.err = options.merge_stderr ? Stdio::to_stdout() : Stdio::pipe();
    po.env_set = options.env_set;
    po.clear_env = options.clear_env;
    po.cwd = options.cwd;
    auto p = Process::spawn(argv, po);
    if (!p) {
        return std::move(p).error();
    }
    return p->communicate(input, options.deadline);
}

}  // namespace ipckit
