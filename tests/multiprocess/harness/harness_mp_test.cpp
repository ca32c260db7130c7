// SPDX-License-Identifier: MIT
// Tests of the test harness itself: hung children are killed and reported, crashes and failure
// messages reach the parent, names are unique across forks, and leaks are caught.
#include <fcntl.h>
#include <mqueue.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "forked_child.hpp"
#include "ipc_registry.hpp"
#include "run_program.hpp"

namespace ipckit::test {
namespace {

using namespace std::chrono_literals;

TEST(ForkedChild, ReportsExitCode) {
    auto child = ForkedChild::spawn([] { return 7; });
    const ChildResult r = child.wait_for(5s);
    EXPECT_TRUE(r.exited);
    EXPECT_EQ(r.exit_code, 7);
    EXPECT_FALSE(r.ok());
}

TEST(ForkedChild, HungChildIsKilledAndReportedAsTimedOut) {
    auto child = ForkedChild::spawn([] {
        for (;;) {
            ::pause();
        }
        return 0;
    });
    const auto start = std::chrono::steady_clock::now();
    const ChildResult r = child.wait_for(300ms);
    EXPECT_TRUE(r.timed_out);
    EXPECT_FALSE(r.ok());
    EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
    EXPECT_NE(r.describe().find("timed out"), std::string::npos);
    EXPECT_EQ(::kill(child.pid(), 0), -1);  // reaped: the pid is gone
}

TEST(ForkedChild, DeathBySignalIsReportedWithTheSignal) {
    // SIGKILL rather than SIGSEGV: sanitizers turn a SEGV into an abort of their own.
    auto child = ForkedChild::spawn([] {
        ::raise(SIGKILL);
        return 0;
    });
    const ChildResult r = child.wait_for(5s);
    EXPECT_FALSE(r.exited);
    EXPECT_EQ(r.signal, SIGKILL);
    EXPECT_NE(r.describe().find("KILL"), std::string::npos);
}

TEST(ForkedChild, ChildCheckFailureMessageReachesTheParent) {
    auto child = ForkedChild::spawn([] {
        const int answer = 41;
        CHILD_CHECK(answer == 42);
        return 0;
    });
    const ChildResult r = child.wait_for(5s);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.message.find("answer == 42"), std::string::npos) << r.message;
}

TEST(ForkedChild, ExceptionBecomesAMessage) {
    auto child = ForkedChild::spawn([]() -> int { throw std::runtime_error("boom"); });
    const ChildResult r = child.wait_for(5s);
    EXPECT_FALSE(r.ok());
    EXPECT_NE(r.message.find("boom"), std::string::npos);
}

TEST(ForkedChild, DestructorKillsAndReapsAnUnwaitedChild) {
    pid_t pid = 0;
    {
        auto child = ForkedChild::spawn([] {
            ::pause();
            return 0;
        });
        pid = child.pid();
        EXPECT_EQ(::kill(pid, 0), 0);
    }
    EXPECT_EQ(::kill(pid, 0), -1);  // no zombie left behind
    EXPECT_EQ(errno, ESRCH);
}

TEST(UniqueName, UniqueAcrossForkedChildrenAndPrefixed) {
    int fds[2];
    ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    auto child = ForkedChild::spawn([w = fds[1]] {
        const std::string n = unique_shm_name("c");
        return ::write(w, n.data(), n.size()) == static_cast<ssize_t>(n.size()) ? 0 : 1;
    });
    EXPECT_CHILD_OK(child.wait_for(5s));
    ::close(fds[1]);
    char buf[256] = {};
    const ssize_t n = ::read(fds[0], buf, sizeof buf - 1);
    ::close(fds[0]);
    ASSERT_GT(n, 0);
    std::set<std::string> names{std::string(buf, static_cast<std::size_t>(n))};
    for (int i = 0; i < 100; ++i) {
        names.insert(unique_shm_name("c"));
    }
    EXPECT_EQ(names.size(), 101U);
    for (const auto& name : names) {
        EXPECT_EQ(name.rfind("/ipckit-test-", 0), 0U) << name;
    }
}

TEST(Registry, RemovesObjectsACrashedChildCreated) {
    const std::string shm = unique_shm_name();
    const std::string mq = unique_mq_name();
    const key_t key = unique_sysv_key(IpcKind::SysvMsg);
    auto child = ForkedChild::spawn([&]() -> int {
        CHILD_CHECK(::shm_open(shm.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600) >= 0);
        mq_attr attr{};
        attr.mq_maxmsg = 1;
        attr.mq_msgsize = 16;
        CHILD_CHECK(::mq_open(mq.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600, &attr) != static_cast<mqd_t>(-1));
        CHILD_CHECK(::msgget(key, IPC_CREAT | IPC_EXCL | 0600) >= 0);
        ::abort();  // crash with everything still existing
    });
    const ChildResult r = child.wait_for(5s);
    ASSERT_EQ(r.signal, SIGABRT) << r.describe();
    ASSERT_EQ(::access(("/dev/shm" + shm).c_str(), F_OK), 0);

    cleanup_registered();  // what runs after every test

    EXPECT_EQ(::shm_open(shm.c_str(), O_RDONLY, 0), -1);
    EXPECT_EQ(::mq_open(mq.c_str(), O_RDONLY), static_cast<mqd_t>(-1));
    EXPECT_EQ(errno, ENOENT);
    EXPECT_EQ(::msgget(key, 0), -1);
}

TEST(LeakCheck, CatchesALeftoverObjectThenRemovesIt) {
    const auto baseline = sysv_objects();
    const std::string tracked = unique_path("mq-names");
    // Leak one of each kind, outside the registry's knowledge for the shm and SysV ones.
    const std::string shm = "/ipckit-test-leakcheck-" + std::to_string(::getpid());
    ASSERT_GE(::shm_open(shm.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600), 0);
    const int msq = ::msgget(unique_sysv_key(IpcKind::SysvMsg), IPC_CREAT | IPC_EXCL | 0600);
    ASSERT_GE(msq, 0);
    const std::string mq = unique_mq_name("leak");
    mq_attr attr{};
    attr.mq_maxmsg = 1;
    attr.mq_msgsize = 16;
    const mqd_t q = ::mq_open(mq.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600, &attr);
    ASSERT_NE(q, static_cast<mqd_t>(-1));
    ::mq_close(q);
    {
        const int fd = ::open(tracked.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        ASSERT_EQ(::write(fd, (mq + "\n").data(), mq.size() + 1), static_cast<ssize_t>(mq.size() + 1));
        ::close(fd);
    }

    const LeakReport report = scan_for_leaks(baseline, tracked);
    auto has = [&](const std::string& needle) {
        for (const auto& l : report.leaks) {
            if (l.find(needle) != std::string::npos) {
                return true;
            }
        }
        return false;
    };
    EXPECT_TRUE(has(shm.substr(1))) << "shm leak not caught";
    EXPECT_TRUE(has("msg:" + std::to_string(msq))) << "SysV leak not caught";
    EXPECT_TRUE(has(mq)) << "mq leak not caught (by tracked name)";

    // Remove only what this test leaked: tests running concurrently may own other objects.
    LeakReport ours;
    for (const auto& l : report.leaks) {
        if (l.find(shm.substr(1)) != std::string::npos || l.find(mq) != std::string::npos ||
            l == "sysv msg:" + std::to_string(msq)) {
            ours.leaks.push_back(l);
        }
    }
    remove_leaks(ours);
    const LeakReport after = scan_for_leaks(baseline, tracked);
    for (const auto& l : after.leaks) {
        EXPECT_EQ(l.find(shm.substr(1)), std::string::npos) << l;
        EXPECT_EQ(l.find(mq), std::string::npos) << l;
        EXPECT_NE(l, "sysv msg:" + std::to_string(msq));
    }
}

// Several suites may run at once on one host (build trees side by side). A System V object under
// another run's test key is that run's live object: reported as a note, never as our leak, and
// never removed by our leak check (removing it would break the other run's test).
TEST(LeakCheck, LeavesAnotherRunsSysvObjectsAlone) {
    const auto baseline = sysv_objects();
    const std::string tracked_mq = unique_path("mq-names");
    const std::string tracked_keys = unique_path("sysv-keys");
    const key_t ours_key = unique_sysv_key(IpcKind::SysvMsg);
    {
        std::ofstream out(tracked_keys);
        out << ours_key << "\n";
    }
    // A key another run would make: the test prefix, a pid that is not ours.
    const key_t theirs_key = static_cast<key_t>(
        0x7e000000U | (((static_cast<unsigned>(::getpid()) + 1U) & 0xffffU) << 8U) | 0xffU);
    const int ours = ::msgget(ours_key, IPC_CREAT | IPC_EXCL | 0600);
    ASSERT_GE(ours, 0);
    const int theirs = ::msgget(theirs_key, IPC_CREAT | IPC_EXCL | 0600);
    ASSERT_GE(theirs, 0);
    const LeakReport report = scan_for_leaks(baseline, tracked_mq, tracked_keys);
    remove_leaks(report);
    const bool theirs_listed = std::find(report.leaks.begin(), report.leaks.end(),
                                         "sysv msg:" + std::to_string(theirs)) != report.leaks.end();
    const bool ours_listed = std::find(report.leaks.begin(), report.leaks.end(),
                                       "sysv msg:" + std::to_string(ours)) != report.leaks.end();
    const bool theirs_alive = ::msgctl(theirs, IPC_RMID, nullptr) == 0;  // cleans up as it checks
    ::msgctl(ours, IPC_RMID, nullptr);
    EXPECT_TRUE(ours_listed) << "our own leftover is a leak";
    EXPECT_FALSE(theirs_listed) << "another run's object is not our leak";
    EXPECT_TRUE(theirs_alive) << "another run's object must not be removed";
}

TEST(RunProgram, CapturesOutputFeedsInputAndKillsOnTimeout) {
    RunOptions in;
    in.input = std::string(1 << 20, 'a');  // larger than a pipe buffer both ways
    const RunResult cat = run_program({"/bin/cat"}, in);
    ASSERT_TRUE(cat.exited) << cat.describe();
    EXPECT_EQ(cat.out.size(), 1U << 20);

    RunOptions quick;
    quick.timeout = 200ms;
    const RunResult hang = run_program({"/bin/sleep", "30"}, quick);
    EXPECT_TRUE(hang.timed_out);

    const RunResult missing = run_program({"/nonexistent/program"});
    EXPECT_EQ(missing.exit_code, 127);
    EXPECT_NE(missing.err.find("exec failed"), std::string::npos);
}

// The two things run_program gives that ipckit::run does not (run_program.hpp says why it does
// not use it): the output of a program that hung, and a program that dies with its test.
TEST(RunProgram, KeepsWhatAHungProgramPrinted) {
    RunOptions quick;
    quick.timeout = 300ms;
    const RunResult hang = run_program({"/bin/sh", "-c", "echo started; exec sleep 30"}, quick);
    EXPECT_TRUE(hang.timed_out);
    EXPECT_EQ(hang.out, "started\n") << hang.describe();
}

TEST(RunProgram, TheProgramDiesWithTheTestProcess) {
    const std::string pid_file = unique_path("pid");
    auto test_process = ForkedChild::spawn([&] {
        RunOptions slow;
        slow.timeout = 30s;
        (void)run_program({"/bin/sh", "-c", "echo $$ >" + pid_file + "; exec sleep 30"}, slow);
        return 0;
    });
    pid_t program = 0;
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (program <= 0 && std::chrono::steady_clock::now() < deadline) {
        std::ifstream(pid_file) >> program;
        std::this_thread::sleep_for(5ms);
    }
    ASSERT_GT(program, 0) << "the program did not start";
    test_process.kill(SIGKILL);  // as ctest kills a test that overran its timeout
    (void)test_process.wait_for(5s);
    // PR_SET_PDEATHSIG: the program is killed too (gone, or a zombie until init reaps it).
    auto gone = [program] {
        std::ifstream stat("/proc/" + std::to_string(program) + "/stat");
        std::string pid;
        std::string comm;
        char state = '?';
        return !(stat >> pid >> comm >> state) || state == 'Z';
    };
    const auto until = std::chrono::steady_clock::now() + 10s;
    while (!gone() && std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(5ms);
    }
    EXPECT_TRUE(gone()) << "pid " << program << " outlived the test process";
    if (!gone()) {
        ::kill(program, SIGKILL);
    }
}

}  // namespace
}  // namespace ipckit::test
