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
    bool close_others = true;
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

// The helpers below run in the child between fork and exec: async-signal-safe calls only, no
// allocation.

void child_reset_signals() noexcept {
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    ::sigaction(SIGPIPE, &dfl, nullptr);
    ::sigaction(SIGXFSZ, &dfl, nullptr);
}

// Installs plan.src as 0..2 (and 2>&1 if asked).
void child_install_stdio(ChildPlan& plan) noexcept {
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
    int target = 0;
    for (const int fd : plan.src) {
        // dup2 clears FD_CLOEXEC on the target, so 0..2 survive exec.
        if (fd >= 0 && ::dup2(fd, target) < 0) {
            child_fail(plan.report_fd, Stage::Dup2, errno);
        }
        ++target;
    }
    if (plan.err_to_out && ::dup2(1, 2) < 0) {
        child_fail(plan.report_fd, Stage::Dup2, errno);
    }
}

// Descriptors the parent opened without O_CLOEXEC (or inherited) must not leak into the
// program: mark everything above 2 close-on-exec (the report pipe stays usable until exec),
// then clear the flag again on the descriptors the caller asked to keep. Without close_others,
// exec's own rule applies (only O_CLOEXEC descriptors close).
void child_close_on_exec(const ChildPlan& plan) noexcept {
    if (plan.close_others &&
        ::syscall(SYS_close_range, 3U, ~0U, 4U /* CLOSE_RANGE_CLOEXEC */) != 0) {
        const long max_fd = ::sysconf(_SC_OPEN_MAX);
        for (long fd = 3; fd < max_fd && fd < 65536; ++fd) {
            ::fcntl(static_cast<int>(fd), F_SETFD, FD_CLOEXEC);
        }
    }
    for (std::size_t i = 0; i < plan.nkeep; ++i) {
        ::fcntl(plan.keep[i], F_SETFD, 0);
    }
}

[[noreturn]] void child_exec(ChildPlan plan) noexcept {
    child_reset_signals();
    child_install_stdio(plan);
    if (plan.cwd != nullptr && ::chdir(plan.cwd) < 0) {
        child_fail(plan.report_fd, Stage::Chdir, errno);
    }
    child_close_on_exec(plan);
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

// Prepares one of the child's standard descriptors: sets `src` (the descriptor to become it) or
// plan.err_to_out, keeps the child's end of a new pipe in `child_end` (closed after fork) and
// returns the parent's end (invalid unless the spec is Stdio::pipe()). `parent_writes` is true
// for stdin. /dev/null is opened once into `dev_null` and shared.
Result<UniqueFd> prepare_stdio(const Stdio& spec,
                               bool parent_writes,
                               int& src,
                               ChildPlan& plan,
                               UniqueFd& child_end,
                               UniqueFd& dev_null) {
    switch (spec.kind()) {
        case Stdio::Kind::Inherit:
            break;
        case Stdio::Kind::Pipe: {
            IPCKIT_TRY_ASSIGN(auto pipe, Pipe::create());
            UniqueFd parent_end;
            if (parent_writes) {
                child_end = pipe.reader.release();
                parent_end = pipe.writer.release();
            } else {
                child_end = pipe.writer.release();
                parent_end = pipe.reader.release();
            }
            src = child_end.get();
            return parent_end;
        }
        case Stdio::Kind::Null:
            if (!dev_null) {
                IPCKIT_TRY_ASSIGN(auto fd, sys::call("open", "/dev/null", [] {
                                      return ::open("/dev/null", O_RDWR | O_CLOEXEC);
                                  }));
                dev_null.reset(fd);
            }
            src = dev_null.get();
            break;
        case Stdio::Kind::Fd:
            src = spec.raw_fd();
            break;
        case Stdio::Kind::ToStdout:
            plan.err_to_out = true;
            break;
    }
    return UniqueFd();
}

// The descriptor to poll for a parent's end of a stdio pipe; -1 (ignored by poll) once closed.
template <class End>
int poll_fd(const End& end) noexcept {
    return end.valid() ? end.native_handle() : -1;
}

// Readies the parent's ends for communicate()'s poll loop: stdin is closed at once when there is
// nothing to write, and every open end becomes non-blocking.
Result<void> prepare_for_poll(PipeWriter& in, bool no_input, PipeReader& out, PipeReader& err) {
    if (in.valid() && no_input) {
        in.close();
    }
    if (in.valid()) {
        IPCKIT_TRY(in.set_nonblocking(true));
    }
    if (out.valid()) {
        IPCKIT_TRY(out.set_nonblocking(true));
    }
    if (err.valid()) {
        IPCKIT_TRY(err.set_nonblocking(true));
    }
    return {};
}

// Reads what is there into `sink`; closes `r` at end of file.
Result<void> drain(PipeReader& r, std::span<std::byte> chunk, std::string& sink) {
    IPCKIT_TRY_ASSIGN(auto n, r.try_read(chunk));
    if (n.has_value()) {
        if (*n == 0) {
            r.close();
        } else {
            const auto* text = reinterpret_cast<const char*>(chunk.data());  // bytes as chars
            sink.append(text, *n);
        }
    }
    return {};
}

// Writes what fits of input[written..]; closes `in` once everything is written or the child
// stopped reading (EPIPE: the rest of the input is dropped).
Result<void> feed(PipeWriter& in, std::string_view input, std::size_t& written) {
    const auto rest = input.substr(written);
    auto n = in.try_write(std::as_bytes(std::span(rest.data(), rest.size())));
    if (!n) {
        if (n.error() != std::errc::broken_pipe) {
            return std::move(n).error();
        }
        in.close();
    } else if (n->has_value()) {
        written += **n;
        if (written == input.size()) {
            in.close();
        }
    }
    return {};
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
    c_candidates.reserve(candidates.size());
    for (const auto& c : candidates) {
        c_candidates.push_back(c.c_str());
    }

    Process p;
    ChildPlan plan;
    UniqueFd child_ends[3];  // our copies of the child's ends: closed after fork
    UniqueFd dev_null;
    IPCKIT_TRY_ASSIGN(auto in_end,
                      prepare_stdio(options.in, true, plan.src[0], plan, child_ends[0], dev_null));
    if (in_end) {
        p.in_ = PipeWriter(std::move(in_end), "stdin of " + argv[0]);
    }
    IPCKIT_TRY_ASSIGN(
        auto out_end,
        prepare_stdio(options.out, false, plan.src[1], plan, child_ends[1], dev_null));
    if (out_end) {
        p.out_ = PipeReader(std::move(out_end), "stdout of " + argv[0]);
    }
    IPCKIT_TRY_ASSIGN(
        auto err_end,
        prepare_stdio(options.err, false, plan.src[2], plan, child_ends[2], dev_null));
    if (err_end) {
        p.err_ = PipeReader(std::move(err_end), "stderr of " + argv[0]);
    }
    IPCKIT_TRY_ASSIGN(auto report, Pipe::create());
    plan.report_fd = report.writer.native_handle();
    plan.cwd = options.cwd.empty() ? nullptr : options.cwd.c_str();
    plan.setsid = options.new_session;
    plan.ctty = options.controlling_terminal;
    plan.keep = options.keep_fds.data();
    plan.nkeep = options.keep_fds.size();
    plan.close_others = options.close_other_fds;
    plan.argv = c_argv.data();
    plan.envp = c_env.data();
    plan.candidates = c_candidates.data();
    plan.ncandidates = c_candidates.size();

    IPCKIT_TRY_ASSIGN(auto pid, sys::call("fork", argv[0], [] { return ::fork(); }));
    if (pid == 0) {
        child_exec(plan);
    }
    p.pid_ = pid;
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
    report.writer.close();
    ChildReport r{};
    IPCKIT_TRY_ASSIGN(auto n, report.reader.read_exact(std::as_writable_bytes(std::span(&r, 1))));
    if (n == sizeof r) {
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
    IPCKIT_TRY(sys::call("waitpid", std::to_string(pid_), [&] { return ::waitpid(pid_, &st, 0); }));
    status_ = ExitStatus::from_wait_status(st);
    pidfd_.reset();
    return *status_;
}

Result<std::optional<ExitStatus>> Process::wait_until(Deadline deadline) {
    if (status_) {
        return std::optional<ExitStatus>(*status_);
    }
    if (deadline.is_never()) {
        IPCKIT_TRY_ASSIGN(auto s, wait());
        return std::optional<ExitStatus>(s);
    }
    IPCKIT_ASSERT(pid_ > 0, "wait_until() on a moved-from Process");
    for (;;) {
        int st = 0;
        IPCKIT_TRY_ASSIGN(auto rc, sys::call("waitpid", std::to_string(pid_), [&] {
                              return ::waitpid(pid_, &st, WNOHANG);
                          }));
        if (rc == pid_) {
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
    IPCKIT_TRY(sys::call("kill", std::to_string(pid_), [&] { return ::kill(pid_, sig); }));
    return {};
}

Result<RunOutput> Process::communicate(std::string_view input, Deadline deadline) {
    RunOutput result;
    std::size_t written = 0;
    IPCKIT_TRY(prepare_for_poll(in_, input.empty(), out_, err_));
    std::byte chunk[65536];
    while (in_.valid() || out_.valid() || err_.valid()) {
        pollfd fds[3] = {
            {poll_fd(in_), POLLOUT, 0}, {poll_fd(out_), POLLIN, 0}, {poll_fd(err_), POLLIN, 0}};
        const int rc = ::poll(fds, 3, deadline.to_poll_timeout_ms());
        if (rc < 0 && errno == EINTR) {
            continue;
        }
        if (rc < 0) {
            return sys::last_error("poll", "stdio of " + std::to_string(pid_));
        }
        if (rc == 0 && deadline.expired()) {
            kill_and_reap();
            return Error(std::errc::timed_out, "communicate", std::to_string(pid_),
                         "child killed; collected " + std::to_string(result.out.size()) +
                             " bytes of stdout");
        }
        auto step = fds[0].revents != 0 ? feed(in_, input, written) : Result<void>();
        if (step && fds[1].revents != 0) {
            step = drain(out_, chunk, result.out);
        }
        if (step && fds[2].revents != 0) {
            step = drain(err_, chunk, result.err);
        }
        if (!step) {
            return std::move(step).error();
        }
    }
    IPCKIT_TRY_ASSIGN(auto status, wait_until(deadline));
    if (!status.has_value()) {
        kill_and_reap();
        return Error(std::errc::timed_out, "communicate", std::to_string(pid_),
                     "child closed its output but did not exit; killed");
    }
    result.status = *status;
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
    IPCKIT_TRY_ASSIGN(auto p, Process::spawn(argv, po));
    return p.communicate(input, options.deadline);
}

}  // namespace ipckit
