// SPDX-License-Identifier: MIT
// ipckit ls / stat against objects the test creates, and interop with util-linux ipcmk/ipcs.
#include "cli_support.hpp"
#include "holder.hpp"
#include "ipc_registry.hpp"

#include <fcntl.h>
#include <mqueue.h>
#include <semaphore.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <regex>

#include <gtest/gtest.h>

namespace ipckit {
namespace {

using test::IpcKind;

std::string key_string(key_t key) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%08x", static_cast<unsigned>(key));
    return buf;
}

bool contains_pid(const nlohmann::json& list, pid_t pid) {
    for (const auto& p : list) {
        if (p == pid) {
            return true;
        }
    }
    return false;
}

int make_shm(const std::string& name, off_t size) {
    const int fd = ::shm_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0 && ::ftruncate(fd, size) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

TEST(CliLs, ShowsAPosixShmObjectWithItsMappingProcess) {
    const std::string name = test::unique_shm_name("ls");
    const int fd = make_shm(name, 8192);
    ASSERT_GE(fd, 0);
    ::close(fd);
    auto holder = test::Holder::start([&] {
        const int f = ::shm_open(name.c_str(), O_RDWR, 0);
        if (f < 0) {
            return false;
        }
        void* p = ::mmap(nullptr, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, f, 0);
        ::close(f);  // the mapping alone keeps it in use
        return p != MAP_FAILED;
    });
    ASSERT_TRUE(holder);

    auto objects = test::ls_json({"--prefix", name});
    ASSERT_EQ(objects.size(), 1U) << objects.dump();
    const auto& o = objects[0];
    EXPECT_EQ(o["type"], "shm");
    EXPECT_EQ(o["name"], name);
    EXPECT_EQ(o["uri"], "shm:" + name);
    EXPECT_EQ(o["path"], "/dev/shm" + name);
    EXPECT_EQ(o["size"], 8192);
    EXPECT_EQ(o["mode"], "0600");
    EXPECT_EQ(o["uid"], ::geteuid());
    EXPECT_TRUE(contains_pid(o["users"], holder->pid())) << o.dump();
    EXPECT_EQ(o["state"], "in-use");
    EXPECT_FALSE(o["stale"]);

    // The table names it too, with the holder's pid.
    auto table = test::ipckit({"ls", "--prefix", name.substr(1)});  // prefix without '/'
    EXPECT_EQ(table.exit_code, 0) << table.describe();
    EXPECT_NE(table.out.find("TYPE"), std::string::npos);
    EXPECT_NE(table.out.find(name), std::string::npos) << table.out;
    EXPECT_NE(table.out.find(std::to_string(holder->pid())), std::string::npos) << table.out;
    EXPECT_CHILD_OK(holder->release());

    objects = test::ls_json({"--prefix", name});
    ASSERT_EQ(objects.size(), 1U);
    EXPECT_EQ(objects[0]["state"], "stale");  // nobody maps or holds it any more
    EXPECT_TRUE(objects[0]["users"].empty());
}

TEST(CliLs, ShowsAPosixQueueWithCountsAndNotifyPid) {
    const std::string name = test::unique_mq_name("ls");
    mq_attr attr{};
    attr.mq_maxmsg = 5;
    attr.mq_msgsize = 64;
    const mqd_t q = ::mq_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0640, &attr);
    ASSERT_NE(q, static_cast<mqd_t>(-1)) << std::strerror(errno);
    ASSERT_EQ(::mq_send(q, "hello", 5, 1), 0);
    ASSERT_EQ(::mq_send(q, "world!", 6, 2), 0);
    auto holder = test::Holder::start([&] {
        const mqd_t c = ::mq_open(name.c_str(), O_RDONLY);
        sigevent ev{};
        ev.sigev_notify = SIGEV_NONE;
        return c != static_cast<mqd_t>(-1) && ::mq_notify(c, &ev) == 0;
    });
    ASSERT_TRUE(holder);

    auto objects = test::ls_json({"--type", "mq", "--prefix", name});
    ASSERT_EQ(objects.size(), 1U) << objects.dump();
    const auto& o = objects[0];
    EXPECT_EQ(o["type"], "mq");
    EXPECT_EQ(o["messages"], 2);
    EXPECT_EQ(o["max_messages"], 5);
    EXPECT_EQ(o["max_message_size"], 64);
    EXPECT_GE(o["size"].get<std::uint64_t>(), 11U);  // QSIZE: at least the bytes queued
    EXPECT_EQ(o["mode"], "0640");
    EXPECT_EQ(o["notify_pid"], holder->pid());
    EXPECT_TRUE(contains_pid(o["users"], holder->pid()));
    EXPECT_EQ(o["state"], "in-use");

    // stat shows the same queue; listing consumed nothing.
    auto st = test::ipckit({"stat", "mq:" + name});
    EXPECT_EQ(st.exit_code, 0) << st.describe();
    EXPECT_NE(st.out.find("messages:        2"), std::string::npos) << st.out;
    EXPECT_NE(st.out.find("notify pid:      " + std::to_string(holder->pid())), std::string::npos)
        << st.out;
    mq_attr now{};
    ASSERT_EQ(::mq_getattr(q, &now), 0);
    EXPECT_EQ(now.mq_curmsgs, 2);
    EXPECT_CHILD_OK(holder->release());
    ::mq_close(q);
}

TEST(CliLs, ShowsANamedSemaphoreValue) {
    const std::string name = test::unique_sem_name("ls");
    sem_t* s = ::sem_open(name.c_str(), O_CREAT | O_EXCL, 0600, 3);
    ASSERT_NE(s, SEM_FAILED);
    auto objects = test::ls_json({"--type", "sem", "--prefix", name});
    ASSERT_EQ(objects.size(), 1U) << objects.dump();
    EXPECT_EQ(objects[0]["type"], "sem");
    EXPECT_EQ(objects[0]["value"], 3);
    EXPECT_EQ(objects[0]["waiters"], 0);
    EXPECT_TRUE(contains_pid(objects[0]["users"], ::getpid()) || objects[0]["users"].empty());
    ASSERT_EQ(::sem_post(s), 0);
    auto st = test::ipckit({"stat", "sem:" + name, "--json"});
    ASSERT_EQ(st.exit_code, 0) << st.describe();
    EXPECT_EQ(nlohmann::json::parse(st.out)["value"], 4);
    ::sem_close(s);
}

TEST(CliLs, ShowsSystemVObjectsWithEverythingIpcsShows) {
    const key_t mkey = test::unique_sysv_key(IpcKind::SysvMsg);
    const int msq = ::msgget(mkey, IPC_CREAT | IPC_EXCL | 0600);
    ASSERT_GE(msq, 0);
    struct {
        long mtype;
        char text[8];
    } msg{7, "abcdefg"};
    ASSERT_EQ(::msgsnd(msq, &msg, 8, 0), 0);

    const key_t skey = test::unique_sysv_key(IpcKind::SysvShm);
    const int shmid = ::shmget(skey, 65536, IPC_CREAT | IPC_EXCL | 0640);
    ASSERT_GE(shmid, 0);
    auto attached = test::Holder::start(
        [&] { return ::shmat(shmid, nullptr, 0) != reinterpret_cast<void*>(-1); });
    ASSERT_TRUE(attached);

    const key_t ekey = test::unique_sysv_key(IpcKind::SysvSem);
    const int semid = ::semget(ekey, 3, IPC_CREAT | IPC_EXCL | 0600);
    ASSERT_GE(semid, 0);
    ASSERT_EQ(::semctl(semid, 1, SETVAL, 5), 0);

    auto objects = test::ls_json({"--type", "sysv"});
    auto q = test::find_object(objects, "id", msq);
    ASSERT_FALSE(q.is_null());
    EXPECT_EQ(q["type"], "sysvmq");
    EXPECT_EQ(q["key"], key_string(mkey));
    EXPECT_EQ(q["messages"], 1);
    EXPECT_EQ(q["size"], 8);
    EXPECT_EQ(q["last_send_pid"], ::getpid());
    EXPECT_TRUE(q["last_recv_pid"].is_null());
    EXPECT_EQ(q["cuid"], ::geteuid());
    EXPECT_GT(q["max_bytes"].get<std::uint64_t>(), 0U);
    EXPECT_EQ(q["state"], "idle");  // its last user (us) is alive

    auto m = test::find_object(objects, "id", shmid);
    ASSERT_FALSE(m.is_null());
    EXPECT_EQ(m["type"], "sysvshm");
    EXPECT_EQ(m["size"], 65536);
    EXPECT_EQ(m["mode"], "0640");
    EXPECT_EQ(m["attached"], 1);
    EXPECT_EQ(m["creator_pid"], ::getpid());
    EXPECT_EQ(m["last_pid"], attached->pid());
    EXPECT_EQ(m["state"], "in-use");
    EXPECT_FALSE(m["rss"].is_null());

    auto e = test::find_object(objects, "id", semid);
    ASSERT_FALSE(e.is_null());
    EXPECT_EQ(e["nsems"], 3);
    EXPECT_EQ(e["key"], key_string(ekey));

    // stat by key shows the semaphore values and per-semaphore last pids.
    auto st = test::ipckit({"stat", "sysvsem:" + key_string(ekey)});
    EXPECT_EQ(st.exit_code, 0) << st.describe();
    EXPECT_NE(st.out.find("#0=0 #1=5 #2=0"), std::string::npos) << st.out;
    EXPECT_NE(st.out.find("nsems:           3"), std::string::npos) << st.out;
    // --prefix selects System V objects by key.
    auto by_key = test::ls_json({"--prefix", key_string(skey)});
    ASSERT_EQ(by_key.size(), 1U) << by_key.dump();
    EXPECT_EQ(by_key[0]["id"], shmid);
    EXPECT_CHILD_OK(attached->release());
}

TEST(CliLs, SeesWhatIpcmkCreates) {  // interop: util-linux creates, ipckit shows
    auto made = test::run_program({"/usr/bin/ipcmk", "-Q", "-p", "0640"});
    ASSERT_EQ(made.exit_code, 0) << made.describe();
    std::smatch m;
    ASSERT_TRUE(std::regex_search(made.out, m, std::regex("id: ([0-9]+)"))) << made.out;
    const int id = std::stoi(m[1]);
    test::track_sysv_id(IpcKind::SysvMsg, id);
    auto shm_made = test::run_program({"/usr/bin/ipcmk", "-M", "4096"});
    ASSERT_TRUE(std::regex_search(shm_made.out, m, std::regex("id: ([0-9]+)"))) << shm_made.out;
    const int shmid = std::stoi(m[1]);
    test::track_sysv_id(IpcKind::SysvShm, shmid);
    auto sem_made = test::run_program({"/usr/bin/ipcmk", "-S", "2"});
    ASSERT_TRUE(std::regex_search(sem_made.out, m, std::regex("id: ([0-9]+)"))) << sem_made.out;
    const int semid = std::stoi(m[1]);
    test::track_sysv_id(IpcKind::SysvSem, semid);

    auto objects = test::ls_json({"--type", "sysv"});
    auto q = test::find_object(objects, "id", id);
    ASSERT_FALSE(q.is_null()) << "ipcmk queue " << id << " missing";
    EXPECT_EQ(q["mode"], "0640");
    EXPECT_EQ(q["messages"], 0);
    auto s = test::find_object(objects, "id", shmid);
    ASSERT_FALSE(s.is_null());
    EXPECT_EQ(s["size"], 4096);
    EXPECT_EQ(s["attached"], 0);
    // ipcmk (its creator) is gone but nobody attached yet: waiting for its users, not stale.
    EXPECT_EQ(s["state"], "never-used");
    EXPECT_FALSE(s["stale"]);
    EXPECT_EQ(test::find_object(objects, "id", semid)["nsems"], 2);
    auto st = test::ipckit({"stat", "sysvmq:id:" + std::to_string(id)});
    EXPECT_EQ(st.exit_code, 0) << st.describe();
    // Removing it with ipckit is seen by ipcs.
    auto rm = test::ipckit({"rm", "sysvmq:id:" + std::to_string(id)});
    EXPECT_EQ(rm.exit_code, 0) << rm.describe();
    auto ipcs = test::run_program({"/usr/bin/ipcs", "-q"});
    EXPECT_EQ(ipcs.out.find(" " + std::to_string(id) + " "), std::string::npos) << ipcs.out;
}

TEST(CliLs, WhatIpckitListsIpcsAgreesWith) {  // interop: test creates, ipcs and ipckit agree
    const key_t key = test::unique_sysv_key(IpcKind::SysvShm);
    const int id = ::shmget(key, 12288, IPC_CREAT | IPC_EXCL | 0600);
    ASSERT_GE(id, 0);
    auto ipcs = test::run_program({"/usr/bin/ipcs", "-m", "-i", std::to_string(id)});
    ASSERT_EQ(ipcs.exit_code, 0) << ipcs.describe();
    EXPECT_NE(ipcs.out.find("bytes=12288"), std::string::npos) << ipcs.out;
    auto objects = test::ls_json({"--type", "sysvshm", "--prefix", key_string(key)});
    ASSERT_EQ(objects.size(), 1U);
    EXPECT_EQ(objects[0]["size"], 12288);
    auto table = test::run_program({"/usr/bin/ipcs", "-m"});
    EXPECT_NE(table.out.find(key_string(key) + " " + std::to_string(id)), std::string::npos)
        << table.out;
}

TEST(CliLs, ExpectNoneFailsOnlyWhenSomethingMatches) {
    const std::string name = test::unique_shm_name("none");
    auto empty = test::ipckit({"ls", "--prefix", name, "--expect-none", "--type", "shm"});
    EXPECT_EQ(empty.exit_code, 0) << empty.describe();
    const int fd = make_shm(name, 1);
    ASSERT_GE(fd, 0);
    ::close(fd);
    auto found = test::ipckit({"ls", "--prefix", name, "--expect-none", "--type", "shm"});
    EXPECT_EQ(found.exit_code, 1) << found.describe();
    EXPECT_NE(found.out.find(name), std::string::npos);
}

TEST(CliLs, ObjectsVanishingDuringAListingAreSkipped) {  // C10
    const std::string base = test::unique_shm_name("churn");
    auto churn = test::ForkedChild::spawn([&] {
        for (int i = 0; i < 3000; ++i) {
            const std::string n = base + "-" + std::to_string(i % 50);
            const int f = ::shm_open(n.c_str(), O_CREAT | O_RDWR, 0600);
            if (f >= 0) {
                ::close(f);
            }
            ::shm_unlink(n.c_str());
        }
        return 0;
    });
    for (int round = 0; round < 5; ++round) {
        auto r = test::ipckit({"ls", "--json", "--prefix", base});
        EXPECT_EQ(r.exit_code, 0) << r.describe();
        EXPECT_FALSE(nlohmann::json::parse(r.out, nullptr, false).is_discarded());
    }
    EXPECT_CHILD_OK(churn.wait_for(std::chrono::seconds(30)));
    for (int i = 0; i < 50; ++i) {
        ::shm_unlink((base + "-" + std::to_string(i)).c_str());
    }
}

TEST(CliLs, SaysPlainlyWhenQueuesCannotBeListed) {  // F31
    if (!test::is_root() || ::access("/usr/bin/unshare", X_OK) != 0) {
        GTEST_SKIP()
            << "needs root and unshare(1) to hide /dev/mqueue in a private mount namespace";
    }
    const std::string bin = test::ipckit_path();
    const std::string script =
        "umount /dev/mqueue 2>/dev/null; grep -q ' /dev/mqueue mqueue' /proc/mounts && exit 77; "
        "setpriv --reuid=65534 --regid=65534 --clear-groups " +
        bin +
        " ls --type mq; echo rc=$?; "
        "setpriv --reuid=65534 --regid=65534 --clear-groups " +
        bin + " ls --type mq --expect-none; echo rc=$?; " + bin +
        " ls --type mq --prefix ipckit-none-; echo rc=$?; "
        "grep -c ' /dev/mqueue mqueue' /proc/mounts";
    auto r = test::run_program({"/usr/bin/unshare", "-m", "/bin/sh", "-c", script});
    if (r.exit_code == 77 || r.err.find("unshare failed") != std::string::npos) {
        GTEST_SKIP() << "cannot unmount /dev/mqueue here: " << r.describe();
    }
    EXPECT_NE(r.err.find("POSIX queues cannot be listed: mqueue fs not mounted"), std::string::npos)
        << r.describe();
    EXPECT_EQ(r.out.find("no queues"), std::string::npos);
    EXPECT_NE(r.out.find("rc=0\nrc=1\nrc=0\n1"), std::string::npos)  // root mounts it itself
        << r.describe();
}

TEST(CliStat, MissingObjectsAreNoSuchObject) {  // A21
    for (const std::string& uri : {"mq:" + test::unique_mq_name("gone"),
                                   "shm:" + test::unique_shm_name("gone"),
                                   "sem:" + test::unique_sem_name("gone"),
                                   std::string("sysvmq:id:2147483646"),
                                   std::string("chan:ipckit-test-gone")}) {
        auto r = test::ipckit({"stat", uri});
        EXPECT_EQ(r.exit_code, 1) << uri << ": " << r.describe();
        EXPECT_NE(r.err.find("no such object"), std::string::npos) << r.err;
    }
}

TEST(CliStat, ShowsMetadataOfAnObjectWithModeZero) {  // A21
    const std::string name = test::unique_shm_name("m0");
    const int fd = make_shm(name, 100);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::fchmod(fd, 0), 0);
    ::close(fd);
    auto r = test::ipckit({"stat", "shm:" + name});
    EXPECT_EQ(r.exit_code, 0) << r.describe();
    EXPECT_NE(r.out.find("mode:            0000"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("size:            100 bytes"), std::string::npos) << r.out;
}

TEST(CliStat, ShowsWhatItCanOfAQueueItMayNotOpen) {  // A21, as an unprivileged user
    if (!test::is_root() || ::access("/usr/bin/setpriv", X_OK) != 0) {
        GTEST_SKIP() << "needs root and setpriv(1) to act as another user";
    }
    const std::string name = test::unique_mq_name("m0");
    const mqd_t q = ::mq_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0000, nullptr);
    ASSERT_NE(q, static_cast<mqd_t>(-1));
    ::mq_close(q);
    auto r = test::ipckit_as_nobody({"stat", "mq:" + name});
    EXPECT_EQ(r.exit_code, 0) << r.describe();
    EXPECT_NE(r.out.find("mode:            0000"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("owner:           root (0)"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("mq_open " + name + ": Permission denied"), std::string::npos) << r.out;
}

TEST(CliLs, ListsChannelFilesByTheirName) {
    const std::string name = "ipckit-test-" + std::to_string(::getpid()) + "-chan";
    const std::string path = "/dev/shm/" + name + ".chan";
    const int fd = ::open(path.c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::ftruncate(fd, 4096), 0);
    ::close(fd);
    auto objects = test::ls_json({"--type", "chan", "--prefix", name});
    ::unlink(path.c_str());
    ASSERT_EQ(objects.size(), 1U) << objects.dump();
    EXPECT_EQ(objects[0]["type"], "chan");
    EXPECT_EQ(objects[0]["uri"], "chan:" + name);
    EXPECT_EQ(objects[0]["size"], 4096);
}

}  // namespace
}  // namespace ipckit
