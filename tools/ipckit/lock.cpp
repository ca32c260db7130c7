// SPDX-License-Identifier: MIT
// ipckit lock FILE -- COMMAND: run a command while holding a flock(2) lock, like flock(1).
//
// Why flock(2): the lock belongs to the open file description, so nothing the command (or a
// library in it) does with *other* descriptors of FILE can drop it, unlike fcntl record locks
// where any close() of the file releases them (F24, B27); and it interoperates with flock(1).
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/file.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <memory>

#include <fmt/core.h>

#include "cli.hpp"
#include "duration.hpp"
#include "ipckit/core/deadline.hpp"
#include "ipckit/core/unique_fd.hpp"
#include "sys/syscall.hpp"

extern char** environ;  // NOLINT(readability-redundant-declaration): POSIX, for posix_spawnp

namespace ipckit::cli {

namespace {

struct LockOptions {
    std::string file;
    std::vector<std::string> command;
    bool shared = false;
    bool close_fd = false;
    std::string timeout;
    bool timeout_given = false;
};

std::atomic<pid_t> g_child{0};

void lock_timeout_alarm(int /*sig*/) {}  // only interrupts flock(2) with EINTR

void forward_signal(int sig) {
    const pid_t child = g_child.load();
    if (child > 0) {
        ::kill(child, sig);
    }
}

/// Waits for the lock until `deadline`; false when it passed. SIGALRM (installed without
/// SA_RESTART) interrupts the blocking flock; a repeating timer covers a signal that lands just
/// before flock starts.
Result<bool> acquire(int fd, int op, const std::string& file, Deadline deadline) {
    if (deadline.is_never()) {
        IPCKIT_TRY(sys::call("flock", file, [&] { return ::flock(fd, op); }));
        return true;
    }
    auto first = sys::call_maybe("flock", file, {EWOULDBLOCK}, [&] { return ::flock(fd, op | LOCK_NB); });
    if (!first) {
        return std::move(first).error();
    }
    if (*first) {
        return true;
    }
    struct sigaction sa {};
    sa.sa_handler = lock_timeout_alarm;  // no SA_RESTART: flock returns EINTR
    ::sigaction(SIGALRM, &sa, nullptr);
    for (;;) {
        const auto left = deadline.remaining();
        if (left.count() <= 0) {
            return false;
        }
        itimerval tv{};
        const auto us = std::chrono::duration_cast<std::chrono::microseconds>(left).count();
        tv.it_value.tv_sec = static_cast<time_t>(us / 1'000'000);
        tv.it_value.tv_usec = static_cast<suseconds_t>(us % 1'000'000);
        if (tv.it_value.tv_sec == 0 && tv.it_value.tv_usec == 0) {
            tv.it_value.tv_usec = 1;
        }
        tv.it_interval.tv_usec = 20'000;
        ::setitimer(ITIMER_REAL, &tv, nullptr);
        auto r = sys::call_once("flock", file, [&] { return ::flock(fd, op); });
        itimerval off{};
        ::setitimer(ITIMER_REAL, &off, nullptr);
        if (r) {
            return true;
        }
        if (r.error().code() != std::errc::interrupted) {
            return std::move(r).error();
        }
    }
}

/// The NUL-separated arguments of this process, as the kernel recorded them.
Result<std::vector<std::string>> read_own_cmdline() {
    auto raw = sys::call("open", "/proc/self/cmdline",
                         [] { return ::open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC); });
    if (!raw) {
        return std::move(raw).error();
    }
    std::string text;
    char buf[4096];
    for (;;) {
        auto n = sys::call("read", "/proc/self/cmdline", [&] { return ::read(*raw, buf, sizeof buf); });
        if (!n || *n == 0) {
            break;
        }
        text.append(buf, static_cast<std::size_t>(*n));
    }
    ::close(*raw);
    std::vector<std::string> args;
    for (std::size_t start = 0; start < text.size();) {
        const std::size_t end = text.find('\0', start);
        args.push_back(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
        start = end == std::string::npos ? text.size() : end + 1;
    }
    return args;
}

Error lock_usage(std::string why) {
    return {std::errc::invalid_argument, "usage", "", std::move(why)};
}

/// Reads flock(1)-style options from args[i...] into `opt`, leaving `i` at the first argument
/// that is not an option ("--" or FILE).
Result<void> parse_lock_options(const std::vector<std::string>& args, std::size_t& i,
                                LockOptions& opt) {
    for (; i < args.size() && args[i].size() > 1 && args[i][0] == '-' && args[i] != "--"; ++i) {
        const std::string& a = args[i];
        if (a == "-s" || a == "--shared") {
            opt.shared = true;
        } else if (a == "-o" || a == "--close") {
            opt.close_fd = true;
        } else if (a == "-w" || a == "--timeout") {
            if (++i >= args.size()) {
                return lock_usage(a + " needs a duration");
            }
            opt.timeout = args[i];
            opt.timeout_given = true;
        } else if (a.starts_with("--timeout=")) {
            opt.timeout = a.substr(10);
            opt.timeout_given = true;
        } else if (a.starts_with("-w") && a.size() > 2) {
            opt.timeout = a.substr(2);
            opt.timeout_given = true;
        } else {
            return lock_usage("unknown option " + a + " (see ipckit lock --help)");
        }
    }
    return {};
}

/// Splits `ipckit [-V] lock [OPTIONS] [--] FILE [--] COMMAND [ARG...]` the way getopt("+") does
/// for flock(1): ipckit's options end at FILE, and everything after it belongs to COMMAND, dashes
/// and all. CLI11 cannot express "stop at the first positional" together with "FILE -- CMD", so
/// CLI11 validates and prints help, and this reads the real argv from /proc/self/cmdline.
Result<LockOptions> split_lock_args() {
    auto cmdline = read_own_cmdline();
    if (!cmdline) {
        return std::move(cmdline).error();
    }
    const std::vector<std::string>& args = *cmdline;
    LockOptions opt;
    std::size_t i = 1;
    while (i < args.size() && args[i] != "lock") {
        ++i;
    }
    ++i;
    if (auto parsed = parse_lock_options(args, i, opt); !parsed) {
        return std::move(parsed).error();
    }
    if (i < args.size() && args[i] == "--") {
        ++i;
    }
    if (i >= args.size()) {
        return lock_usage("no FILE (ipckit lock FILE -- COMMAND...)");
    }
    opt.file = args[i++];
    if (i < args.size() && args[i] == "--") {
        ++i;
    }
    opt.command.assign(args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
    return opt;
}

int run_lock(LockOptions opt) {
    auto split = split_lock_args();
    if (!split) {
        print_error("lock", split.error());
        return kExitUsage;
    }
    opt = std::move(*split);
    if (opt.command.empty()) {
        fmt::print(stderr, "ipckit lock: no command (usage: ipckit lock FILE -- COMMAND...)\n");
        return kExitUsage;
    }
    Deadline deadline = Deadline::never();
    if (opt.timeout_given) {
        auto d = parse_duration(opt.timeout);
        if (!d) {
            print_error("lock", d.error());
            return kExitUsage;
        }
        deadline = d->count() == 0 ? Deadline::now() : Deadline::after(*d);
    }
    // O_RDONLY is enough for flock; create it (0600) like flock(1) does when missing.
    auto fd = sys::call("open", opt.file, [&] {
        return ::open(opt.file.c_str(), O_RDONLY | O_CREAT | O_NOCTTY | O_CLOEXEC, 0600);
    });
    if (!fd && fd.error().code() == std::errc::is_a_directory) {
        fd = sys::call("open", opt.file,
                       [&] { return ::open(opt.file.c_str(), O_RDONLY | O_NOCTTY | O_CLOEXEC); });
    }
    if (!fd) {
        print_error("lock", fd.error());
        return kExitFailure;
    }
    const UniqueFd lock_fd(*fd);  // held (and the lock with it) until the command has ended
    const int op = opt.shared ? LOCK_SH : LOCK_EX;
    auto got = acquire(lock_fd.get(), op, opt.file, deadline);
    if (!got) {
        print_error("lock", got.error());
        return kExitFailure;
    }
    if (!*got) {
        fmt::print(stderr, "ipckit lock: {}: timed out after {} waiting for the {} lock\n",
                   opt.file, opt.timeout, opt.shared ? "shared" : "exclusive");
        return kExitTimeout;
    }

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    if (!opt.close_fd) {
        // dup2 onto itself clears FD_CLOEXEC in the child (glibc >= 2.29): the command (and
        // anything it leaves running) holds the lock too, as with flock(1).
        posix_spawn_file_actions_adddup2(&actions, lock_fd.get(), lock_fd.get());
    }
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t defaults;
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);  // main() ignores SIGPIPE; the command gets the default back
    sigaddset(&defaults, SIGALRM);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);
    std::vector<char*> argv;
    for (const std::string& a : opt.command) {
        argv.push_back(const_cast<char*>(a.c_str()));  // NOLINT: posix_spawn's C signature
    }
    argv.push_back(nullptr);
    pid_t pid = 0;
    const int spawn_rc = ::posix_spawnp(&pid, argv[0], &actions, &attr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (auto r = sys::check_rc("exec", opt.command.front(), spawn_rc); !r) {
        print_error("lock", r.error());
        return spawn_rc == ENOENT ? 127 : 126;  // the shell's codes for "not found"/"cannot run"
    }
    g_child.store(pid);
    struct sigaction fwd {};
    fwd.sa_handler = forward_signal;
    fwd.sa_flags = SA_RESTART;
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) {
        ::sigaction(sig, &fwd, nullptr);
    }
    int status = 0;
    auto waited = sys::call("waitpid", opt.command.front(), [&] { return ::waitpid(pid, &status, 0); });
    if (!waited) {
        print_error("lock", waited.error());
        return kExitFailure;
    }
    if (WIFEXITED(status)) {
        return WEXITSTATUS(status);
    }
    return 128 + WTERMSIG(status);  // as a shell reports a command killed by a signal
}

}  // namespace

void register_lock(CLI::App& root, std::vector<Command>& commands) {
    auto opt = std::make_shared<LockOptions>();
    CLI::App* app = root.add_subcommand("lock", "Run a command while holding a file lock (like flock(1))");
    app->description(
        "Take a lock on FILE (created 0600 if missing; a directory works too), run COMMAND, and\n"
        "release the lock when COMMAND ends. The exit status is COMMAND's (128+N if a signal N\n"
        "killed it; 127 if it cannot be found), or 3 if --timeout passed first.\n"
        "The lock is flock(2): it belongs to the open file, so a library in the command that\n"
        "opens and closes FILE cannot drop it (fcntl record locks would be lost), and it works\n"
        "with flock(1) on the same file. COMMAND inherits the locked descriptor, so processes it\n"
        "leaves running keep the lock; --close stops that. SIGINT, SIGTERM, SIGHUP and SIGQUIT\n"
        "sent to ipckit are passed on to COMMAND.");
    app->add_option("file", opt->file, "The lock file")->required();
    app->add_option("command", opt->command, "The command and its arguments");
    app->allow_extras();  // COMMAND's own options; the real split is done by split_lock_args()
    app->add_flag("-s,--shared", opt->shared, "Take a shared lock (default: exclusive)");
    app->add_option("-w,--timeout", opt->timeout,
                    "Give up after this long (1.5s, 250ms, 2m; 0 = try once) and exit 3");
    app->add_flag("-o,--close", opt->close_fd,
                  "Do not pass the locked descriptor to COMMAND (flock -o)");
    app->footer(std::string("Examples:\n"
                            "  ipckit lock /tmp/backup.lock -- rsync -a src/ dst/\n"
                            "  ipckit lock --timeout 0 /run/lock/job -- make   # exit 3 if busy\n"
                            "  ipckit lock --shared --timeout 10s db.lock -- ./reader\n\n") +
                kExitCodeHelp);
    commands.push_back({app, [opt] { return run_lock(*opt); }});
}

}  // namespace ipckit::cli
