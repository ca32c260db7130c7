// SPDX-License-Identifier: MIT
// ipckit lock FILE -- COMMAND: run a command while holding a flock(2) lock, like flock(1).
//
// Why flock(2): the lock belongs to the open file description, so nothing the command (or a
// library in it) does with *other* descriptors of FILE can drop it, unlike fcntl record locks
// where any close() of the file releases them (F24, B27); and it interoperates with flock(1).
// Built on the library: FileLock takes the lock (a --timeout polls LOCK_NB until the deadline)
// and Process runs COMMAND with the locked descriptor in keep_fds.
#include "cli.hpp"
#include "duration.hpp"
#include "ipckit/core/deadline.hpp"
#include "ipckit/core/file.hpp"
#include "ipckit/core/units.hpp"
#include "ipckit/signal/signal_action.hpp"
#include "ipckit/signal/signal_mask.hpp"
#include "ipckit/signal/signal_set.hpp"
#include "ipckit/stream/process.hpp"
#include "ipckit/sync/file_lock.hpp"

#include <fcntl.h>
#include <signal.h>

#include <atomic>
#include <fmt/core.h>
#include <memory>
#include <optional>

namespace ipckit::cli {

namespace {

struct LockOptions {
    std::string file;
    std::vector<std::string> command;
    bool shared = false;
    bool close_fd = false;
    std::string timeout;
    bool timeout_given = false;
    bool nonblock = false;                  ///< -n: fail at once if the lock is taken
    std::optional<int> conflict_exit_code;  ///< -E N: exit code when the lock was not taken
    std::string shell_command;              ///< -c STRING: run through /bin/sh -c
};

std::atomic<pid_t> g_child{0};

void forward_signal(int sig) {
    const pid_t child = g_child.load();
    if (child > 0) {
        ::kill(child, sig);
    }
}

Error lock_usage(std::string why) {
    return {std::errc::invalid_argument, "usage", "", std::move(why)};
}

bool is_timeout_option(const std::string& a) {
    return a == "-w" || a == "--timeout" || a.starts_with("--timeout=") ||
           (a.starts_with("-w") && a.size() > 2);
}

bool is_conflict_option(const std::string& a) {
    return a == "-E" || a == "--conflict-exit-code" || a.starts_with("--conflict-exit-code=") ||
           (a.starts_with("-E") && a.size() > 2);
}

/// The value of option args[i]: after '=' or attached (-w5), else the next argument (i moves).
Result<std::string> option_value(const std::vector<std::string>& args,
                                 std::size_t& i,
                                 const char* what) {
    const std::string& a = args[i];
    if (a.starts_with("--")) {
        if (const auto eq = a.find('='); eq != std::string::npos) {
            return a.substr(eq + 1);
        }
    } else if (a.size() > 2) {
        return a.substr(2);
    }
    if (++i >= args.size()) {
        return lock_usage(a + " needs " + what);
    }
    return args[i];
}

/// -E's exit code, in [0, 255].
Result<int> conflict_exit_code(const std::vector<std::string>& args, std::size_t& i) {
    IPCKIT_TRY_ASSIGN(const std::string value, option_value(args, i, "a number"));
    const auto n = ipckit::parse_integer(value, 0, 255);
    if (!n) {
        return lock_usage("-E '" + value + "' is not an exit code in [0, 255]");
    }
    return static_cast<int>(*n);
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
        } else if (is_timeout_option(a)) {
            IPCKIT_TRY_ASSIGN(opt.timeout, option_value(args, i, "a duration"));
            opt.timeout_given = true;
        } else if (a == "-n" || a == "--nb" || a == "--nonblock") {
            opt.nonblock = true;
        } else if (is_conflict_option(a)) {
            IPCKIT_TRY_ASSIGN(opt.conflict_exit_code, conflict_exit_code(args, i));
        } else if (a == "-c" || a == "--command") {
            IPCKIT_TRY_ASSIGN(opt.shell_command, option_value(args, i, "a command string"));
        } else {
            return lock_usage("unknown option " + a + " (see ipckit lock --help)");
        }
    }
    return {};
}

/// Splits `ipckit lock [OPTIONS] [--] FILE [--] COMMAND [ARG...]` the way getopt("+") does for
/// flock(1): ipckit's options end at FILE, and everything after it belongs to COMMAND, dashes and
/// all. CLI11 cannot express "stop at the first positional" together with "FILE -- CMD", so
/// CLI11 validates and prints help, and this reads main()'s argv again.
Result<LockOptions> split_lock_args() {
    const std::vector<std::string>& args = command_line();
    LockOptions opt;
    std::size_t i = 1;
    while (i < args.size() && args[i] != "lock") {
        ++i;
    }
    ++i;
    IPCKIT_TRY(parse_lock_options(args, i, opt));
    if (i < args.size() && args[i] == "--") {
        ++i;
    }
    if (i >= args.size()) {
        return lock_usage("no FILE (ipckit lock FILE -- COMMAND...)");
    }
    opt.file = args[i++];
    if (i < args.size() && (args[i] == "-c" || args[i] == "--command")) {  // flock FILE -c CMD
        if (i + 2 != args.size()) {
            return lock_usage(args[i] + " takes one command string (quote it)");
        }
        opt.shell_command = args[i + 1];
        i = args.size();
    }
    if (i < args.size() && args[i] == "--") {
        ++i;
    }
    opt.command.assign(args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
    if (!opt.shell_command.empty()) {
        if (!opt.command.empty()) {
            return lock_usage("-c and a COMMAND: give one of them");
        }
        opt.command = {"/bin/sh", "-c", opt.shell_command};
    }
    return opt;
}

/// FILE opened read-only (enough for flock), created 0600 when missing as flock(1) does; a
/// directory cannot be opened with O_CREAT, so it is opened as it is.
Result<FileLock> open_lock(const std::string& file) {
    auto fd = open_file(file, O_RDONLY | O_CREAT | O_NOCTTY, Permissions(0600));
    if (!fd && fd.error().code() == std::errc::is_a_directory) {
        fd = open_file(file, O_RDONLY | O_NOCTTY);
    }
    IPCKIT_TRY_ASSIGN(UniqueFd owned, std::move(fd));
    return FileLock::adopt(std::move(owned), file);
}

/// The wait for the lock: -w's duration (0: one try), -n (one try), else forever. `timeout`
/// gets -w's duration for the messages.
Result<Deadline> lock_deadline(const LockOptions& opt, std::chrono::nanoseconds& timeout) {
    Deadline deadline = Deadline::never();
    if (opt.timeout_given) {
        IPCKIT_TRY_ASSIGN(timeout, parse_duration(opt.timeout));
        deadline = timeout.count() == 0 ? Deadline::now() : Deadline::after(timeout);
    }
    return opt.nonblock ? Deadline::now() : deadline;
}

/// The lock was not taken: says why, and exits with -E's code or 3.
int report_conflict(const LockOptions& opt, std::chrono::nanoseconds timeout) {
    const char* kind = opt.shared ? "shared" : "exclusive";
    if (opt.nonblock || timeout.count() == 0) {
        fmt::print(stderr,
                   "ipckit lock: {}: the {} lock is held by another process\n",
                   opt.file,
                   kind);
    } else {
        fmt::print(stderr,
                   "ipckit lock: {}: timed out after {} waiting for the {} lock\n",
                   opt.file,
                   format_duration(timeout),
                   kind);
    }
    return opt.conflict_exit_code.value_or(kExitTimeout);
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
    std::chrono::nanoseconds timeout{0};
    auto deadline = lock_deadline(opt, timeout);
    if (!deadline) {
        print_error("lock", deadline.error());
        return kExitUsage;
    }
    auto lock = open_lock(opt.file);  // held, with its descriptor, until the command has ended
    if (!lock) {
        print_error("lock", lock.error());
        return kExitFailure;
    }
    auto got = lock->acquire(opt.shared ? LockKind::Shared : LockKind::Exclusive, *deadline);
    if (!got) {
        print_error("lock", got.error());
        return kExitFailure;
    }
    if (!*got) {
        return report_conflict(opt, timeout);
    }

    ProcessOptions po;
    po.close_other_fds = false;  // as flock(1): what our caller left open reaches the command
    if (!opt.close_fd) {
        // The command (and anything it leaves running) holds the lock too, as with flock(1).
        po.keep_fds = {lock->native_handle()};
    }
    // Until the command's pid is known, a signal to pass on waits (blocked) instead of killing
    // ipckit and leaving the command running; it is forwarded once the mask is restored. The
    // child starts with an empty mask (Process).
    std::optional<ScopedSignalMask> blocked;
    if (auto b = ScopedSignalMask::block(SignalSet::of({SIGINT, SIGTERM, SIGHUP, SIGQUIT}))) {
        blocked.emplace(std::move(*b));
    }
    std::vector<SignalAction> forwarding;  // destroyed before `blocked`: defaults come back first
    for (const int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) {
        if (auto installed = SignalAction::install(sig, forward_signal)) {  // SA_RESTART
            forwarding.push_back(std::move(*installed));
        }
    }
    auto child = Process::spawn(opt.command, po);
    if (!child) {
        // Reported as posix_spawnp did: an empty name is "not found" too.
        const std::error_code code =
            opt.command.front().empty() ? std::make_error_code(std::errc::no_such_file_or_directory)
                                        : child.error().code();
        print_error("lock", Error(code, "exec", opt.command.front()));
        // The shell's codes for "not found" / "cannot run".
        return code == std::errc::no_such_file_or_directory ? 127 : 126;
    }
    g_child.store(child->pid());
    blocked.reset();
    auto status = child->wait();
    g_child.store(0);
    if (!status) {
        print_error("lock", status.error());
        return kExitFailure;
    }
    if (status->exited) {
        return status->code;
    }
    return 128 + status->signal;  // as a shell reports a command killed by a signal
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
    app->add_flag("-n,--nonblock",
                  opt->nonblock,
                  "Fail at once (exit 3, or -E's code) if the lock is taken (same as -w 0)");
    app->add_option("-E,--conflict-exit-code",
                    opt->conflict_exit_code,
                    "Exit with N when the lock could not be taken (default 3)")
        ->type_name("N");
    app->add_option("-c,--command",
                    opt->shell_command,
                    "Run STRING with /bin/sh -c instead of COMMAND (as flock -c)")
        ->type_name("STRING");
    app->footer(std::string("Examples:\n"
                            "  ipckit lock /tmp/backup.lock -- rsync -a src/ dst/\n"
                            "  ipckit lock --timeout 0 /run/lock/job -- make   # exit 3 if busy\n"
                            "  ipckit lock --shared --timeout 10s db.lock -- ./reader\n\n") +
                kExitCodeHelp);
    commands.push_back({app, [opt] { return run_lock(*opt); }});
}

}  // namespace ipckit::cli
