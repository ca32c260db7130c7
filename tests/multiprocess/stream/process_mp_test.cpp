// SPDX-License-Identifier: MIT
// Process and run(): argv without a shell, stdio wiring, environment, cwd, exit status and
// signals, exec errors reported by the parent's call, no descriptor leaks, no zombies, and
// deadlock-free run() with outputs far larger than a pipe buffer.
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include "ipc_registry.hpp"
#include "ipckit/stream/process.hpp"

namespace ipckit {
namespace {

using namespace std::chrono_literals;

std::set<int> open_fds_of_self() {
    std::set<int> fds;
    DIR* d = ::opendir("/proc/self/fd");
    while (const dirent* e = ::readdir(d)) {
        if (e->d_name[0] != '.') {
            fds.insert(std::stoi(e->d_name));
        }
    }
    const int own = ::dirfd(d);
    ::closedir(d);
    fds.erase(own);
    return fds;
}

std::set<int> parse_fd_list(const std::string& text) {
    std::set<int> fds;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        if (!line.empty()) {
            fds.insert(std::stoi(line));
        }
    }
    return fds;
}

bool reaped_or_gone(pid_t pid) {
    // Not our child any more (reaped): waitpid fails with ECHILD. A zombie would still be ours.
    int st = 0;
    return ::waitpid(pid, &st, WNOHANG) == -1 && errno == ECHILD;
}

TEST(Process, ArgvIsPassedWithoutAShell) {
    auto r = run({"printf", "%s|%s", "a b", "$HOME;`x`"});
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_TRUE(r->status.success()) << r->status.describe();
    EXPECT_EQ(r->out, "a b|$HOME;`x`");
}

TEST(Process, ShellModeIsBinShDashCWithPositionalArgs) {
    auto p = Process::shell("echo \"$1-$2\"; exit 7", {"one", "two words"}, {.out = Stdio::pipe()});
    ASSERT_TRUE(p) << p.error().message();
    auto out = p->stdout_pipe().read_to_end(Deadline::after(10s));
    ASSERT_TRUE(out);
    EXPECT_EQ(*out, "one-two words\n");
    auto st = p->wait().value();
    EXPECT_TRUE(st.exited);
    EXPECT_EQ(st.code, 7);
}

TEST(Process, StdinAndStdoutPipes) {
    auto p = Process::spawn({"tr", "a-z", "A-Z"}, {.in = Stdio::pipe(), .out = Stdio::pipe()}).value();
    ASSERT_TRUE(p.stdin_pipe().write_all("shout\n"));
    p.stdin_pipe().close();
    EXPECT_EQ(*p.stdout_pipe().read_to_end(Deadline::after(10s)), "SHOUT\n");
    EXPECT_TRUE(p.wait()->success());
}

TEST(Process, DevNullAndStderrToStdout) {
    auto r = run({"sh", "-c", "cat; echo to-err >&2; echo to-out"}, "ignored?",
                 {.merge_stderr = true});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->out, "ignored?to-err\nto-out\n");
    EXPECT_EQ(r->err, "");
    auto p = Process::spawn({"cat"}, {.in = Stdio::null(), .out = Stdio::pipe()}).value();
    EXPECT_EQ(*p.stdout_pipe().read_to_end(Deadline::after(10s)), "");
    EXPECT_TRUE(p.wait()->success());
}

TEST(Process, EnvironmentSetAndCleared) {
    auto r = run({"sh", "-c", "echo \"$IPCKIT_X/${HOME:-nohome}\""}, {},
                 {.env_set = {"IPCKIT_X=42", "PATH=/usr/bin:/bin"}, .clear_env = true});
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->out, "42/nohome\n");
    ::setenv("IPCKIT_INHERITED", "yes", 1);
    auto r2 = run({"sh", "-c", "echo $IPCKIT_INHERITED $IPCKIT_X"}, {}, {.env_set = {"IPCKIT_X=over"}});
    ::unsetenv("IPCKIT_INHERITED");
    EXPECT_EQ(r2->out, "yes over\n");
}

TEST(Process, WorkingDirectory) {
    auto r = run({"pwd"}, {}, {.cwd = "/usr"});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->out, "/usr\n");
}

TEST(Process, MissingWorkingDirectoryIsAnErrorFromSpawn) {
    auto r = run({"pwd"}, {}, {.cwd = "/nonexistent-ipckit-dir"});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), std::errc::no_such_file_or_directory);
    EXPECT_EQ(r.error().message().rfind("chdir /nonexistent-ipckit-dir:", 0), 0U) << r.error().message();
}

TEST(Process, ProgramThatDoesNotExistIsAClearErrorNotExit127) {
    const auto before = open_fds_of_self();
    auto p = Process::spawn({"ipckit-no-such-program", "arg"});
    ASSERT_FALSE(p);
    EXPECT_EQ(p.error().code(), std::errc::no_such_file_or_directory);
    EXPECT_EQ(p.error().message().rfind("execve ipckit-no-such-program: No such file or directory", 0), 0U)
        << p.error().message();
    auto q = Process::spawn({"/no/such/path/prog"});
    ASSERT_FALSE(q);
    EXPECT_EQ(q.error().code(), std::errc::no_such_file_or_directory);
    EXPECT_EQ(open_fds_of_self(), before);  // pipes of the failed spawn are closed
    int st = 0;
    EXPECT_EQ(::waitpid(-1, &st, WNOHANG), -1);  // the failed child was reaped: no zombie
}

TEST(Process, FileWithoutExecutePermissionIsPermissionDenied) {
    const std::string path = test::unique_path("noexec");
    { std::ofstream(path) << "#!/bin/sh\necho hi\n"; }
    ::chmod(path.c_str(), 0600);
    auto p = Process::spawn({path});
    ASSERT_FALSE(p);
    EXPECT_EQ(p.error().code(), std::errc::permission_denied);
    ::unlink(path.c_str());
}

TEST(Process, ExitCodeAndTerminatingSignal) {
    auto code = run({"sh", "-c", "exit 3"});
    ASSERT_TRUE(code);
    EXPECT_TRUE(code->status.exited);
    EXPECT_EQ(code->status.code, 3);
    EXPECT_EQ(code->status.describe(), "exited 3");
    auto killed = run({"sh", "-c", "kill -TERM $$"});
    ASSERT_TRUE(killed);
    EXPECT_FALSE(killed->status.exited);
    EXPECT_EQ(killed->status.signal, SIGTERM);
    EXPECT_EQ(killed->status.describe(), "killed by SIGTERM");
}

TEST(Process, WaitForTimesOutThenKillReportsTheSignal) {
    auto p = Process::spawn({"sleep", "30"}).value();
    auto early = p.wait_for(50ms);
    ASSERT_TRUE(early);
    EXPECT_FALSE(early->has_value());
    ASSERT_TRUE(p.kill(SIGKILL));
    auto st = p.wait_for(10s);
    ASSERT_TRUE(st);
    ASSERT_TRUE(st->has_value());
    EXPECT_EQ((*st)->signal, SIGKILL);
    EXPECT_TRUE(reaped_or_gone(p.pid()));
    EXPECT_TRUE(p.kill(SIGKILL));  // no-op once reaped: never signals a recycled pid
}

TEST(Process, DestroyingAnUnwaitedProcessKillsAndReapsIt) {
    pid_t pid = -1;
    {
        auto p = Process::spawn({"sleep", "30"}).value();
        pid = p.pid();
    }
    EXPECT_TRUE(reaped_or_gone(pid));
}

TEST(Process, NoDescriptorLeaksIntoTheChild) {
    // A descriptor the parent forgot to mark CLOEXEC must still not reach the program.
    const int leaky = ::fcntl(::open("/dev/null", O_RDONLY), F_DUPFD, 40);
    ASSERT_GE(leaky, 40);
    const int kept = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    auto r = run({"sh", "-c", "ls -1 /proc/$$/fd"});
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(parse_fd_list(r->out), (std::set<int>{0, 1, 2})) << r->out;
    auto p = Process::spawn({"sh", "-c", "ls -1 /proc/$$/fd"},
                            {.out = Stdio::pipe(), .keep_fds = {kept}}).value();
    auto listed = parse_fd_list(*p.stdout_pipe().read_to_end(Deadline::after(10s)));
    EXPECT_EQ(listed, (std::set<int>{0, 1, 2, kept}));
    EXPECT_TRUE(p.wait()->success());
    ::close(leaky);
    ::close(kept);
}

TEST(Process, InheritableDescriptorsPassWhenOtherDescriptorsAreNotClosed) {
    // A wrapper (ipckit lock) hands on what its own caller left open, as plain exec would; its
    // own O_CLOEXEC descriptors still do not reach the program.
    const int inheritable = ::fcntl(::open("/dev/null", O_RDONLY | O_CLOEXEC), F_DUPFD, 40);
    ASSERT_GE(inheritable, 40);
    const int own = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    const int kept = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    auto p = Process::spawn({"sh", "-c", "ls -1 /proc/$$/fd"},
                            {.out = Stdio::pipe(), .keep_fds = {kept}, .close_other_fds = false})
                 .value();
    const auto listed = parse_fd_list(*p.stdout_pipe().read_to_end(Deadline::after(10s)));
    EXPECT_TRUE(p.wait()->success());
    EXPECT_TRUE(listed.contains(inheritable)) << inheritable;
    EXPECT_TRUE(listed.contains(kept)) << kept;
    EXPECT_FALSE(listed.contains(own)) << own;
    ::close(inheritable);
    ::close(own);
    ::close(kept);
}

TEST(Process, ChildStartsWithDefaultSigpipeEvenIfTheParentIgnoresIt) {
    struct sigaction ign {};
    struct sigaction old {};
    ign.sa_handler = SIG_IGN;
    ::sigaction(SIGPIPE, &ign, &old);
    auto r = run({"grep", "SigIgn", "/proc/self/status"});
    ::sigaction(SIGPIPE, &old, nullptr);
    ASSERT_TRUE(r) << r.error().message();
    const std::string& text = r->out;
    ASSERT_NE(text.find(':'), std::string::npos) << text;
    // Bit SIGPIPE-1 of the ignored-signals mask must be clear.
    const auto mask = std::stoull(text.substr(text.find(':') + 1), nullptr, 16);
    EXPECT_EQ(mask & (1ULL << (SIGPIPE - 1)), 0U) << text;
}

TEST(Process, RunCollectsMoreThanOneMebibyteOnBothStreamsWhileFeedingInput) {
    std::string input(3 * 1024 * 1024 + 17, '\0');
    for (std::size_t i = 0; i < input.size(); ++i) {
        input[i] = static_cast<char>('a' + i % 26);
    }
    // cat echoes the input on stdout while sh writes 2 MiB to stderr: a naive
    // write-all-then-read would deadlock on the first full pipe.
    auto r = run({"sh", "-c", "head -c 2097152 /dev/zero >&2 & cat; wait"}, input,
                 {.deadline = Deadline::after(30s)});
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_TRUE(r->status.success()) << r->status.describe();
    EXPECT_EQ(r->out.size(), input.size());
    EXPECT_TRUE(r->out == input);
    EXPECT_EQ(r->err.size(), 2097152U);
}

TEST(Process, RunDropsInputTheChildDoesNotRead) {
    std::string input(4 * 1024 * 1024, 'x');
    auto r = run({"head", "-c", "5"}, input, {.deadline = Deadline::after(30s)});
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->out, "xxxxx");
}

TEST(Process, RunPastItsDeadlineKillsTheChild) {
    auto r = run({"sleep", "30"}, {}, {.deadline = Deadline::after(100ms)});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), std::errc::timed_out);
    int st = 0;
    EXPECT_EQ(::waitpid(-1, &st, WNOHANG), -1);  // killed and reaped
}

TEST(Process, MovedProcessOwnsTheChild) {
    auto a = Process::spawn({"sh", "-c", "exit 5"}).value();
    Process b = std::move(a);
    EXPECT_EQ(b.wait()->code, 5);
}

}  // namespace
}  // namespace ipckit

namespace ipckit {
namespace {

TEST(Process, ParentHoldsNoExtraDescriptorsAfterRunAndSpawn) {
    const auto before = open_fds_of_self();
    for (int i = 0; i < 5; ++i) {
        auto r = run({"cat"}, "x");
        ASSERT_TRUE(r);
        auto p = Process::spawn({"true"}, {.in = Stdio::null(), .out = Stdio::pipe(), .err = Stdio::pipe()}).value();
        ASSERT_TRUE(p.wait());
    }
    EXPECT_EQ(open_fds_of_self(), before);
}

}  // namespace
}  // namespace ipckit
