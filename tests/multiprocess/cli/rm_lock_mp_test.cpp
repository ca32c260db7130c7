// SPDX-License-Identifier: MIT
// ipckit rm (ownership, in use, --stale, --force, no globbing) and ipckit lock.
#include <fcntl.h>
#include <mqueue.h>
#include <semaphore.h>
#include <sys/file.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <unistd.h>

#include <thread>

#include <gtest/gtest.h>

#include "background.hpp"
#include "cli_support.hpp"
#include "holder.hpp"
#include "ipc_registry.hpp"

namespace ipckit {
namespace {

using namespace std::chrono_literals;
using test::IpcKind;

using test::shm_exists;

void make_shm(const std::string& name) {
    const int fd = ::shm_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::ftruncate(fd, 4096), 0);
    ::close(fd);
}

std::optional<test::Holder> map_in_child(const std::string& name) {
    return test::Holder::start([name] {
        const int f = ::shm_open(name.c_str(), O_RDWR, 0);
        return f >= 0 && ::mmap(nullptr, 4096, PROT_READ, MAP_SHARED, f, 0) != MAP_FAILED;
    });
}

TEST(CliRm, RemovesEachKindAndSaysNoSuchObjectAfterwards) {  // A21
    const std::string shm = test::unique_shm_name("rm");
    make_shm(shm);
    const std::string mq = test::unique_mq_name("rm");
    const mqd_t q = ::mq_open(mq.c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600, nullptr);
    ASSERT_NE(q, static_cast<mqd_t>(-1));
    ::mq_close(q);
    const std::string sem = test::unique_sem_name("rm");
    sem_t* s = ::sem_open(sem.c_str(), O_CREAT | O_EXCL, 0600, 0);
    ASSERT_NE(s, SEM_FAILED);
    ::sem_close(s);
    const int msq = ::msgget(test::unique_sysv_key(IpcKind::SysvMsg), IPC_CREAT | IPC_EXCL | 0600);
    ASSERT_GE(msq, 0);

    const std::vector<std::string> uris{"shm:" + shm, "mq:" + mq, "sem:" + sem,
                                        "sysvmq:id:" + std::to_string(msq)};
    std::vector<std::string> args{"rm", "-v"};
    args.insert(args.end(), uris.begin(), uris.end());
    auto r = test::ipckit(args);
    EXPECT_EQ(r.exit_code, 0) << r.describe();
    EXPECT_EQ(test::line_count(r.out), 4U) << r.out;
    EXPECT_FALSE(shm_exists(shm));
    EXPECT_EQ(::mq_open(mq.c_str(), O_RDONLY), static_cast<mqd_t>(-1));
    EXPECT_EQ(::sem_open(sem.c_str(), 0), SEM_FAILED);
    msqid_ds ds{};
    EXPECT_EQ(::msgctl(msq, IPC_STAT, &ds), -1);

    for (const std::string& uri : uris) {
        auto again = test::ipckit({"rm", uri});
        EXPECT_EQ(again.exit_code, 1) << uri << ": " << again.describe();
        EXPECT_NE(again.err.find("no such object"), std::string::npos) << again.err;
        auto forced = test::ipckit({"rm", "--force", uri});  // idempotent
        EXPECT_EQ(forced.exit_code, 0) << uri << ": " << forced.describe();
        EXPECT_TRUE(forced.err.empty()) << forced.err;
    }
}

TEST(CliRm, DoesNotGlob) {  // A21
    const std::string shm = test::unique_shm_name("glob");
    make_shm(shm);
    auto r = test::ipckit({"rm", "shm:/*"});
    EXPECT_EQ(r.exit_code, 1) << r.describe();
    EXPECT_NE(r.err.find("no such object"), std::string::npos);
    auto r2 = test::ipckit({"rm", "shm:" + shm.substr(0, shm.size() - 2) + "*"});
    EXPECT_EQ(r2.exit_code, 1) << r2.describe();
    EXPECT_TRUE(shm_exists(shm));
}

TEST(CliRm, ValidatesEveryUriBeforeRemovingAny) {
    const std::string shm = test::unique_shm_name("val");
    make_shm(shm);
    auto r = test::ipckit({"rm", "shm:" + shm, "mq:bad"});
    EXPECT_EQ(r.exit_code, 2) << r.describe();
    EXPECT_TRUE(shm_exists(shm));
}

TEST(CliRm, RefusesAnotherUsersObjectAndNamesTheOwner) {
    if (!test::is_root() || ::access("/usr/bin/setpriv", X_OK) != 0) {
        GTEST_SKIP() << "needs root and setpriv(1) to act as another user";
    }
    const std::string mine = test::unique_shm_name("root");
    make_shm(mine);  // owned by root, 0600
    auto refused = test::ipckit_as_nobody({"rm", "shm:" + mine});
    EXPECT_EQ(refused.exit_code, 4) << refused.describe();
    EXPECT_NE(refused.err.find("owned by root (uid 0)"), std::string::npos) << refused.err;
    EXPECT_NE(refused.err.find("only its owner or root"), std::string::npos) << refused.err;
    EXPECT_TRUE(shm_exists(mine));

    // nobody may remove nobody's object; root may remove anyone's.
    const std::string theirs = test::unique_shm_name("nobody");
    make_shm(theirs);
    ASSERT_EQ(::chown(("/dev/shm" + theirs).c_str(), 65534, 65534), 0);
    auto permitted = test::ipckit_as_nobody({"rm", "shm:" + theirs});
    EXPECT_EQ(permitted.exit_code, 0) << permitted.describe();
    EXPECT_FALSE(shm_exists(theirs));
    auto as_root = test::ipckit({"rm", "shm:" + mine});
    EXPECT_EQ(as_root.exit_code, 0) << as_root.describe();

    // A channel (a file in /dev/shm) that belongs to root (A21: rm chan:x of another user).
    const std::string chan = "ipckit-test-" + std::to_string(::getpid()) + "-rmchan";
    const std::string chan_path = "/dev/shm/" + chan + ".chan";
    const int cfd = ::open(chan_path.c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
    ASSERT_GE(cfd, 0);
    ::close(cfd);
    auto chan_refused = test::ipckit_as_nobody({"rm", "chan:" + chan});
    const bool chan_left = ::access(chan_path.c_str(), F_OK) == 0;
    ::unlink(chan_path.c_str());
    EXPECT_EQ(chan_refused.exit_code, 4) << chan_refused.describe();
    EXPECT_TRUE(chan_left);

    // System V: the same rule, by owner or creator.
    const int msq = ::msgget(test::unique_sysv_key(IpcKind::SysvMsg), IPC_CREAT | IPC_EXCL | 0666);
    ASSERT_GE(msq, 0);
    auto sysv = test::ipckit_as_nobody({"rm", "sysvmq:id:" + std::to_string(msq)});
    EXPECT_EQ(sysv.exit_code, 4) << sysv.describe();
    EXPECT_NE(sysv.err.find("owned by root"), std::string::npos) << sysv.err;
}

TEST(CliRm, RefusesAnObjectInUseUnlessForced) {
    const std::string shm = test::unique_shm_name("inuse");
    make_shm(shm);
    auto holder = map_in_child(shm);
    ASSERT_TRUE(holder);
    auto refused = test::ipckit({"rm", "shm:" + shm});
    EXPECT_EQ(refused.exit_code, 4) << refused.describe();
    EXPECT_NE(refused.err.find("in use by " + std::to_string(holder->pid())), std::string::npos)
        << refused.err;
    EXPECT_TRUE(shm_exists(shm));
    auto dry = test::ipckit({"rm", "--force", "--dry-run", "shm:" + shm});
    EXPECT_EQ(dry.exit_code, 0) << dry.describe();
    EXPECT_NE(dry.out.find("would remove shm:" + shm), std::string::npos) << dry.out;
    EXPECT_TRUE(shm_exists(shm));
    auto forced = test::ipckit({"rm", "--force", "shm:" + shm});
    EXPECT_EQ(forced.exit_code, 0) << forced.describe();
    EXPECT_FALSE(shm_exists(shm));
    EXPECT_CHILD_OK(holder->release());
}

TEST(CliRm, StaleNeverRemovesAnObjectInUse) {
    // POSIX: one object mapped by a live child, one nobody uses.
    const std::string held = test::unique_shm_name("held");
    const std::string idle = test::unique_shm_name("idle");
    make_shm(held);
    make_shm(idle);
    auto holder = map_in_child(held);
    ASSERT_TRUE(holder);

    // System V: a segment attached by a live child, and one whose only user has died.
    const key_t live_key = test::unique_sysv_key(IpcKind::SysvShm);
    const key_t dead_key = test::unique_sysv_key(IpcKind::SysvShm);
    const int live_id = ::shmget(live_key, 4096, IPC_CREAT | IPC_EXCL | 0600);
    ASSERT_GE(live_id, 0);
    auto attached = test::Holder::start(
        [&] { return ::shmat(live_id, nullptr, 0) != reinterpret_cast<void*>(-1); });
    ASSERT_TRUE(attached);
    auto dead_user = test::ForkedChild::spawn([&] {
        const int id = ::shmget(dead_key, 4096, IPC_CREAT | IPC_EXCL | 0600);
        CHILD_CHECK(id >= 0);
        void* p = ::shmat(id, nullptr, 0);
        CHILD_CHECK(p != reinterpret_cast<void*>(-1));
        CHILD_CHECK(::shmdt(p) == 0);
        return 0;
    });
    EXPECT_CHILD_OK(dead_user.wait_for(10s));
    char live_hex[16];
    char dead_hex[16];
    std::snprintf(live_hex, sizeof live_hex, "0x%08x", static_cast<unsigned>(live_key));
    std::snprintf(dead_hex, sizeof dead_hex, "0x%08x", static_cast<unsigned>(dead_key));

    // A dry run lists exactly the stale ones.
    for (const std::string& prefix : {held, idle, std::string(live_hex), std::string(dead_hex)}) {
        auto dry = test::ipckit({"rm", "--stale", "--dry-run", "--prefix", prefix});
        EXPECT_EQ(dry.exit_code, 0) << dry.describe();
        const bool expect_stale = prefix == idle || prefix == dead_hex;
        EXPECT_EQ(dry.out.find("would remove") != std::string::npos, expect_stale)
            << prefix << ": " << dry.out;
    }
    EXPECT_TRUE(shm_exists(idle));

    for (const std::string& prefix : {held, idle, std::string(live_hex), std::string(dead_hex)}) {
        auto r = test::ipckit({"rm", "--stale", "--prefix", prefix});
        EXPECT_EQ(r.exit_code, 0) << r.describe();
    }
    EXPECT_TRUE(shm_exists(held));
    EXPECT_FALSE(shm_exists(idle));
    shmid_ds ds{};
    EXPECT_EQ(::shmctl(live_id, IPC_STAT, &ds), 0) << "attached segment was removed";
    EXPECT_EQ(::shmget(dead_key, 0, 0), -1) << "stale segment was not removed";
    auto again = test::ipckit({"ls", "--stale", "--prefix", held, "--expect-none"});
    EXPECT_EQ(again.exit_code, 0) << again.describe();

    EXPECT_CHILD_OK(holder->release());
    EXPECT_CHILD_OK(attached->release());
    // Once its holder is gone, the POSIX object is stale and goes.
    auto now = test::ipckit({"rm", "--stale", "--prefix", held});
    EXPECT_EQ(now.exit_code, 0) << now.describe();
    EXPECT_FALSE(shm_exists(held));
}

TEST(CliRm, UsageErrors) {
    EXPECT_EQ(test::ipckit({"rm"}).exit_code, 2);
    EXPECT_EQ(test::ipckit({"rm", "--stale", "mq:/x"}).exit_code, 2);
    EXPECT_EQ(test::ipckit({"rm", "--prefix", "x", "mq:/x"}).exit_code, 2);
    EXPECT_EQ(test::ipckit({"rm", "sysvmq:private"}).exit_code, 2);
}

TEST(CliLock, RunsTheCommandUnderTheLockAndReturnsItsStatus) {
    const std::string file = test::unique_path("lock");
    // Inside the command the lock is held: flock -n on a new descriptor conflicts (exit 42).
    const std::string check = "flock -n -E 42 " + file + " true; echo held=$?; exit 7";
    auto r = test::ipckit({"lock", file, "--", "sh", "-c", check});
    EXPECT_TRUE(r.exited) << r.describe();
    EXPECT_EQ(r.exit_code, 7) << r.describe();
    EXPECT_NE(r.out.find("held=42"), std::string::npos) << r.out;
    // And it is released afterwards.
    auto after = test::run_program({"/usr/bin/flock", "-n", file, "true"});
    EXPECT_EQ(after.exit_code, 0) << after.describe();
    // Without "--" too, with the command's own options left alone (getopt "+" style).
    auto plain = test::ipckit({"lock", file, "sh", "-c", "exit 5"});
    EXPECT_EQ(plain.exit_code, 5) << plain.describe();
    auto signalled = test::ipckit({"lock", file, "--", "sh", "-c", "kill -TERM $$"});
    EXPECT_EQ(signalled.exit_code, 128 + SIGTERM) << signalled.describe();
    auto missing = test::ipckit({"lock", file, "--", "/nonexistent/ipckit-cmd"});
    EXPECT_EQ(missing.exit_code, 127) << missing.describe();
}

TEST(CliLock, AnUnrelatedCloseInTheCommandDoesNotDropTheLock) {  // B27
    const std::string file = test::unique_path("lock");
    const std::string script = "cat " + file + " >/dev/null; exec 3<" + file +
                               "; exec 3<&-; flock -n -E 42 " + file + " true; echo held=$?";
    auto r = test::ipckit({"lock", file, "--", "sh", "-c", script});
    EXPECT_EQ(r.exit_code, 0) << r.describe();
    EXPECT_NE(r.out.find("held=42"), std::string::npos) << r.out;
}

TEST(CliLock, TimesOutWithExit3AgainstAHeldLock) {
    const std::string file = test::unique_path("lock");
    auto holder = test::Holder::start([&] {
        const int fd = ::open(file.c_str(), O_RDONLY | O_CREAT, 0600);
        return fd >= 0 && ::flock(fd, LOCK_EX) == 0;
    });
    ASSERT_TRUE(holder);
    const std::string marker = test::unique_path("ran");
    auto timed = test::ipckit({"lock", "--timeout", "200ms", file, "--", "touch", marker});
    EXPECT_EQ(timed.exit_code, 3) << timed.describe();
    EXPECT_NE(timed.err.find("timed out"), std::string::npos) << timed.err;
    EXPECT_NE(::access(marker.c_str(), F_OK), 0) << "the command ran without the lock";
    auto once = test::ipckit({"lock", "-w", "0", file, "--", "touch", marker});
    EXPECT_EQ(once.exit_code, 3) << once.describe();
    // A shared lock is refused as well while the exclusive one is held.
    auto shared = test::ipckit({"lock", "--shared", "--timeout", "100ms", file, "--", "true"});
    EXPECT_EQ(shared.exit_code, 3) << shared.describe();
    EXPECT_CHILD_OK(holder->release());
    auto later = test::ipckit({"lock", "--timeout", "5s", file, "--", "touch", marker});
    EXPECT_EQ(later.exit_code, 0) << later.describe();
    EXPECT_EQ(::access(marker.c_str(), F_OK), 0);
}

TEST(CliLock, WaitsForTheHolderWithinTheTimeout) {
    const std::string file = test::unique_path("lock");
    auto holder = test::Holder::start([&] {
        const int fd = ::open(file.c_str(), O_RDONLY | O_CREAT, 0600);
        return fd >= 0 && ::flock(fd, LOCK_EX) == 0;
    });
    ASSERT_TRUE(holder);
    // Release the holder from a helper process while ipckit waits.
    auto waiter = test::ForkedChild::spawn([&] {
        auto r = test::ipckit({"lock", "--timeout", "10s", file, "--", "true"});
        return r.exit_code;
    });
    ASSERT_TRUE(test::wait_until_sleeping(waiter.pid(), 10s));
    std::this_thread::sleep_for(100ms);  // let it reach flock; either order is correct
    EXPECT_CHILD_OK(holder->release());
    EXPECT_CHILD_OK(waiter.wait_for(15s));
}

// What `ipckit lock` promises beyond the cases above, pinned before it moved onto FileLock and
// Process (issue 21): the descriptor handed on (or not), the caller's descriptors passed through,
// signals forwarded, the default SIGPIPE, the lock file created 0600 or a directory, shared locks,
// and the messages and exit codes of a command that cannot run.
TEST(CliLock, HandsTheLockedDescriptorToTheCommandUnlessClose) {
    const std::string file = test::unique_path("lock");
    const std::string list = "for f in /proc/$$/fd/*; do readlink \"$f\"; done; exit 0";
    auto kept = test::ipckit({"lock", file, "--", "sh", "-c", list});
    EXPECT_EQ(kept.exit_code, 0) << kept.describe();
    EXPECT_NE(kept.out.find(file), std::string::npos) << kept.out;
    auto closed = test::ipckit({"lock", "--close", file, "--", "sh", "-c", list});
    EXPECT_EQ(closed.exit_code, 0) << closed.describe();
    EXPECT_EQ(closed.out.find(file), std::string::npos) << closed.out;
    // A process the command leaves running keeps the lock (flock(1)), unless --close.
    auto left =
        test::ipckit({"lock", file, "--", "sh", "-c", "sleep 30 >/dev/null 2>&1 & echo $!"});
    EXPECT_EQ(left.exit_code, 0) << left.describe();
    auto busy = test::run_program({"/usr/bin/flock", "-n", "-E", "42", file, "true"});
    EXPECT_EQ(busy.exit_code, 42) << busy.describe();
    if (const int sleeper = std::atoi(left.out.c_str()); sleeper > 0) {
        ::kill(sleeper, SIGKILL);
    }
}

TEST(CliLock, PassesTheCallersOpenDescriptorsToTheCommand) {
    // Like flock(1): what ipckit's own caller left open (make's jobserver pipe, a 3>log) reaches
    // the command; ipckit's own descriptors do not.
    const std::string file = test::unique_path("lock");
    const std::string script =
        "exec 7</dev/null; \"$0\" lock \"$1\" -- sh -c 'readlink /proc/$$/fd/7; echo rc=$?'";
    auto r = test::run_program({"/bin/sh", "-c", script, test::ipckit_path(), file});
    EXPECT_EQ(r.exit_code, 0) << r.describe();
    EXPECT_NE(r.out.find("/dev/null\nrc=0"), std::string::npos) << r.out;
}

TEST(CliLock, ForwardsTerminationSignalsToTheCommand) {
    const std::string file = test::unique_path("lock");
    const std::string ready = test::unique_path("ready");
    const std::string script = "trap 'exit 9' TERM; : >" + ready + "; while :; do sleep 0.05; done";
    test::Background lock({"lock", file, "--", "sh", "-c", script});
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (::access(ready.c_str(), F_OK) != 0 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(5ms);
    }
    ASSERT_EQ(::access(ready.c_str(), F_OK), 0) << "the command did not start";
    ASSERT_EQ(::kill(lock.pid(), SIGTERM), 0);
    auto r = lock.wait();
    EXPECT_TRUE(r.exited) << r.describe();
    EXPECT_EQ(r.exit_code, 9) << r.describe();  // the command's trap ran: ipckit passed it on
}

TEST(CliLock, TheCommandGetsTheDefaultSigpipe) {
    // main() ignores SIGPIPE for ipckit itself; the command must not inherit that.
    const std::string file = test::unique_path("lock");
    auto r = test::ipckit({"lock", file, "--", "sh", "-c", "kill -PIPE $$; exit 0"});
    EXPECT_EQ(r.exit_code, 128 + SIGPIPE) << r.describe();
}

TEST(CliLock, CreatesAMissingLockFileOwnerOnlyAndLocksADirectory) {
    const std::string file = test::unique_path("new");
    auto r = test::ipckit({"lock", file, "--", "true"});
    EXPECT_EQ(r.exit_code, 0) << r.describe();
    struct stat st {};
    ASSERT_EQ(::stat(file.c_str(), &st), 0);
    EXPECT_TRUE(S_ISREG(st.st_mode));
    EXPECT_EQ(st.st_mode & 0777, 0600U);

    const std::string dir = test::unique_path("dir");
    ASSERT_EQ(::mkdir(dir.c_str(), 0700), 0);
    auto d = test::ipckit({"lock", dir, "--", "sh", "-c", "flock -n -E 42 " + dir + " true"});
    EXPECT_EQ(d.exit_code, 42) << d.describe();
}

TEST(CliLock, SharedLocksCoexistAndExcludeTheExclusiveOne) {
    const std::string file = test::unique_path("lock");
    auto reader = test::Holder::start([&] {
        const int fd = ::open(file.c_str(), O_RDONLY | O_CREAT, 0600);
        return fd >= 0 && ::flock(fd, LOCK_SH) == 0;
    });
    ASSERT_TRUE(reader);
    auto shared = test::ipckit({"lock", "-s", "-w", "0", file, "--", "true"});
    EXPECT_EQ(shared.exit_code, 0) << shared.describe();
    auto exclusive = test::ipckit({"lock", "-w", "50ms", file, "--", "true"});
    EXPECT_EQ(exclusive.exit_code, 3) << exclusive.describe();
    EXPECT_EQ(exclusive.err,
              "ipckit lock: " + file +
                  ": timed out after 0.05 s waiting for the exclusive lock\n");  // issue 20: units
    EXPECT_CHILD_OK(reader->release());
}

TEST(CliLock, SaysWhyTheCommandCouldNotRun) {
    const std::string file = test::unique_path("lock");
    auto missing = test::ipckit({"lock", file, "--", "/nonexistent/ipckit-cmd"});
    EXPECT_EQ(missing.exit_code, 127) << missing.describe();
    EXPECT_EQ(missing.err,
              "ipckit lock: exec /nonexistent/ipckit-cmd: No such file or directory\n");
    auto unknown = test::ipckit({"lock", file, "--", "ipckit-no-such-command", "-x"});
    EXPECT_EQ(unknown.exit_code, 127) << unknown.describe();
    EXPECT_EQ(unknown.err, "ipckit lock: exec ipckit-no-such-command: No such file or directory\n");
    const std::string plain = test::unique_path("notexec");
    const int fd = ::open(plain.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    ASSERT_GE(fd, 0);
    ::close(fd);
    auto denied = test::ipckit({"lock", file, "--", plain});
    EXPECT_EQ(denied.exit_code, 126) << denied.describe();
    EXPECT_EQ(denied.err, "ipckit lock: exec " + plain + ": Permission denied\n");
}

TEST(CliLock, UsageErrors) {
    const std::string file = test::unique_path("lock");
    auto no_command = test::ipckit({"lock", file});
    EXPECT_EQ(no_command.exit_code, 2) << no_command.describe();
    EXPECT_NE(no_command.err.find("no command"), std::string::npos) << no_command.err;
    auto unknown = test::ipckit({"lock", "-x", file, "--", "true"});
    EXPECT_EQ(unknown.exit_code, 2) << unknown.describe();
    EXPECT_NE(unknown.err.find("unknown option -x"), std::string::npos) << unknown.err;
}

}  // namespace
}  // namespace ipckit
