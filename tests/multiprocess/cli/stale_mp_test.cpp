// SPDX-License-Identifier: MIT
// What "stale" means (issue 16, defect 5): its users are provably gone and nothing in it waits
// to be read. Queues with unread messages, System V objects nobody used yet, and objects whose
// users cannot be seen are never removed by `rm --stale`; `--include-unread` takes the first two.
#include "cli_support.hpp"
#include "holder.hpp"
#include "ipc_registry.hpp"

#include <fcntl.h>
#include <mqueue.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include <gtest/gtest.h>

namespace ipckit {
namespace {

using namespace std::chrono_literals;
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

bool mq_exists(const std::string& name) {
    const mqd_t q = ::mq_open(name.c_str(), O_RDONLY | O_CLOEXEC);
    if (q == static_cast<mqd_t>(-1)) {
        return false;
    }
    ::mq_close(q);
    return true;
}

using test::shm_exists;

/// One object of `ipckit ls --json ARGS...` (fails the test unless exactly one matched).
nlohmann::json only_object(std::vector<std::string> args) {
    auto objects = test::ls_json(std::move(args));
    EXPECT_EQ(objects.size(), 1U) << objects.dump();
    return objects.size() == 1 ? objects[0] : nlohmann::json();
}

TEST(CliStale, APosixQueueWithUnreadMessagesIsNotStale) {
    const std::string full = test::unique_mq_name("unread");
    const std::string empty = test::unique_mq_name("empty");
    mq_attr attr{};
    attr.mq_maxmsg = 4;
    attr.mq_msgsize = 32;
    for (const std::string& name : {full, empty}) {
        const mqd_t q = ::mq_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600, &attr);
        ASSERT_NE(q, static_cast<mqd_t>(-1)) << std::strerror(errno);
        if (name == full) {
            ASSERT_EQ(::mq_send(q, "pending", 7, 0), 0);
        }
        ::mq_close(q);  // nobody holds either queue open
    }

    auto o = only_object({"--type", "mq", "--prefix", full});
    EXPECT_EQ(o["messages"], 1);
    EXPECT_FALSE(o["stale"]) << o.dump();
    EXPECT_EQ(o["state"], "unread") << o.dump();
    EXPECT_EQ(o["users_state"], "known") << o.dump();
    auto e = only_object({"--type", "mq", "--prefix", empty});
    EXPECT_TRUE(e["stale"]) << e.dump();
    EXPECT_EQ(e["state"], "stale");

    // ls --stale agrees with rm --stale.
    auto listed =
        test::ipckit({"ls", "--stale", "--type", "mq", "--prefix", full, "--expect-none"});
    EXPECT_EQ(listed.exit_code, 0) << listed.describe();
    for (const std::string& name : {full, empty}) {
        auto r = test::ipckit({"rm", "--stale", "--type", "mq", "--prefix", name});
        EXPECT_EQ(r.exit_code, 0) << r.describe();
    }
    EXPECT_TRUE(mq_exists(full)) << "rm --stale removed a queue holding an unread message";
    EXPECT_FALSE(mq_exists(empty)) << "an empty queue nobody holds is stale";

    // The explicit flag takes it, and a dry run says so first.
    auto dry = test::ipckit({"rm", "--stale", "--include-unread", "--dry-run", "--prefix", full});
    EXPECT_EQ(dry.exit_code, 0) << dry.describe();
    EXPECT_NE(dry.out.find("would remove mq:" + full), std::string::npos) << dry.describe();
    auto preview =
        test::ipckit({"ls", "--stale", "--include-unread", "--type", "mq", "--prefix", full});
    EXPECT_NE(preview.out.find(full), std::string::npos) << preview.describe();
    EXPECT_TRUE(mq_exists(full));
    auto r = test::ipckit({"rm", "--stale", "--include-unread", "--prefix", full});
    EXPECT_EQ(r.exit_code, 0) << r.describe();
    EXPECT_FALSE(mq_exists(full));
}

TEST(CliStale, ASystemVQueueWithUnreadMessagesIsNotStale) {
    const key_t key = test::unique_sysv_key(IpcKind::SysvMsg);
    auto sender = test::ForkedChild::spawn([&] {  // sends one message, then is gone
        const int id = ::msgget(key, IPC_CREAT | IPC_EXCL | 0600);
        CHILD_CHECK(id >= 0);
        struct {
            long mtype;
            char text[8];
        } msg{1, "unread"};
        CHILD_CHECK(::msgsnd(id, &msg, 7, 0) == 0);
        return 0;
    });
    const auto sent = sender.wait_for(10s);
    ASSERT_TRUE(sent.ok()) << sent.describe();
    const int id = ::msgget(key, 0);
    ASSERT_GE(id, 0);

    auto o = only_object({"--type", "sysvmq", "--prefix", key_string(key)});
    EXPECT_EQ(o["messages"], 1);
    EXPECT_EQ(o["last_send_pid"], sender.pid());
    EXPECT_FALSE(o["stale"]) << o.dump();
    EXPECT_EQ(o["state"], "unread") << o.dump();

    auto r = test::ipckit({"rm", "--stale", "--prefix", key_string(key)});
    EXPECT_EQ(r.exit_code, 0) << r.describe();
    msqid_ds ds{};
    EXPECT_EQ(::msgctl(id, IPC_STAT, &ds), 0) << "rm --stale removed a queue holding a message";
    auto all = test::ipckit({"rm", "--stale", "--include-unread", "--prefix", key_string(key)});
    EXPECT_EQ(all.exit_code, 0) << all.describe();
    EXPECT_EQ(::msgctl(id, IPC_STAT, &ds), -1) << "--include-unread left it";
}

TEST(CliStale, SystemVObjectsNobodyUsedYetAreNotStale) {
    // A creator that made a segment and an initialised semaphore set and died before anyone
    // attached or operated on them: the objects wait for their users, they are not leftovers.
    const key_t fresh_shm = test::unique_sysv_key(IpcKind::SysvShm);
    const key_t fresh_sem = test::unique_sysv_key(IpcKind::SysvSem);
    const key_t used_sem = test::unique_sysv_key(IpcKind::SysvSem);
    auto creator = test::ForkedChild::spawn([&] {
        CHILD_CHECK(::shmget(fresh_shm, 4096, IPC_CREAT | IPC_EXCL | 0600) >= 0);
        const int s = ::semget(fresh_sem, 2, IPC_CREAT | IPC_EXCL | 0600);
        CHILD_CHECK(s >= 0);
        CHILD_CHECK(::semctl(s, 0, SETVAL, 1) == 0);  // records this pid, but is no semop
        const int u = ::semget(used_sem, 1, IPC_CREAT | IPC_EXCL | 0600);
        CHILD_CHECK(u >= 0);
        sembuf op{0, 1, 0};
        CHILD_CHECK(::semop(u, &op, 1) == 0);  // used, by a process about to die: stale
        return 0;
    });
    const auto created = creator.wait_for(10s);
    ASSERT_TRUE(created.ok()) << created.describe();

    auto shm = only_object({"--type", "sysvshm", "--prefix", key_string(fresh_shm)});
    EXPECT_EQ(shm["attached"], 0);
    EXPECT_EQ(shm["creator_pid"], creator.pid());
    EXPECT_FALSE(shm["stale"]) << shm.dump();
    EXPECT_EQ(shm["state"], "never-used") << shm.dump();
    auto sem = only_object({"--type", "sysvsem", "--prefix", key_string(fresh_sem)});
    EXPECT_FALSE(sem["stale"]) << sem.dump();
    EXPECT_EQ(sem["state"], "never-used") << sem.dump();
    auto used = only_object({"--type", "sysvsem", "--prefix", key_string(used_sem)});
    EXPECT_TRUE(used["stale"]) << used.dump();

    for (key_t key : {fresh_shm, fresh_sem, used_sem}) {
        auto r = test::ipckit({"rm", "--stale", "--prefix", key_string(key)});
        EXPECT_EQ(r.exit_code, 0) << r.describe();
    }
    EXPECT_GE(::shmget(fresh_shm, 0, 0), 0) << "rm --stale removed a segment nobody attached yet";
    EXPECT_GE(::semget(fresh_sem, 0, 0), 0) << "rm --stale removed a set nobody operated on yet";
    EXPECT_EQ(::semget(used_sem, 0, 0), -1) << "a used set whose last user died is stale";

    for (key_t key : {fresh_shm, fresh_sem}) {
        auto r = test::ipckit({"rm", "--stale", "--include-unread", "--prefix", key_string(key)});
        EXPECT_EQ(r.exit_code, 0) << r.describe();
    }
    EXPECT_EQ(::shmget(fresh_shm, 0, 0), -1);
    EXPECT_EQ(::semget(fresh_sem, 0, 0), -1);
}

TEST(CliStale, ObjectsWhoseUsersCannotBeSeenAreUsersUnknownNeverStale) {
    if (!test::is_root() || ::access("/usr/bin/setpriv", X_OK) != 0) {
        GTEST_SKIP() << "needs root and setpriv(1) to run ipckit as a user who cannot read "
                        "root's /proc/PID/fd";
    }
    // nobody's object, mapped by a root process: nobody may remove it, but cannot see the user.
    const std::string name = test::unique_shm_name("unknown");
    const int fd = ::shm_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::ftruncate(fd, 4096), 0);
    ASSERT_EQ(::fchown(fd, 65534, 65534), 0);
    ::close(fd);
    auto holder = test::Holder::start([&] {
        const int f = ::shm_open(name.c_str(), O_RDWR, 0);
        return f >= 0 && ::mmap(nullptr, 4096, PROT_READ, MAP_SHARED, f, 0) != MAP_FAILED;
    });
    ASSERT_TRUE(holder);

    // Root sees the user.
    auto seen = only_object({"--type", "shm", "--prefix", name});
    EXPECT_TRUE(contains_pid(seen["users"], holder->pid())) << seen.dump();
    EXPECT_EQ(seen["users_state"], "known");
    EXPECT_EQ(seen["state"], "in-use");

    // nobody cannot read root's /proc/PID/{fd,maps}: "cannot tell" is not "unused".
    auto ls = test::ipckit_as_nobody({"ls", "--json", "--type", "shm", "--prefix", name});
    ASSERT_EQ(ls.exit_code, 0) << ls.describe();
    auto objects = nlohmann::json::parse(ls.out, nullptr, false);
    ASSERT_FALSE(objects.is_discarded()) << ls.out;
    ASSERT_EQ(objects["objects"].size(), 1U) << ls.out;
    const auto& o = objects["objects"][0];
    EXPECT_EQ(o["users_state"], "unknown") << o.dump();
    EXPECT_EQ(o["state"], "users-unknown") << o.dump();
    EXPECT_FALSE(o["stale"]) << o.dump();
    auto table = test::ipckit_as_nobody({"ls", "--type", "shm", "--prefix", name});
    EXPECT_NE(table.out.find("users-unknown"), std::string::npos) << table.describe();
    EXPECT_EQ(table.out.find("stale"), std::string::npos) << table.describe();

    for (const char* extra : {"--dry-run", "--include-unread", ""}) {
        std::vector<std::string> args{"rm", "--stale", "--type", "shm", "--prefix", name};
        if (*extra != '\0') {
            args.emplace_back(extra);
        }
        auto rm = test::ipckit_as_nobody(args);
        EXPECT_EQ(rm.exit_code, 0) << rm.describe();
        EXPECT_EQ(rm.out.find("remove"), std::string::npos) << rm.describe();
        EXPECT_NE(rm.err.find("users unknown"), std::string::npos) << rm.describe();
        EXPECT_TRUE(shm_exists(name)) << "rm --stale " << extra << " removed an object in use";
    }
    EXPECT_CHILD_OK(holder->release());

    // Root can prove its users gone once the holder has let go.
    auto rm = test::ipckit({"rm", "--stale", "--type", "shm", "--prefix", name});
    EXPECT_EQ(rm.exit_code, 0) << rm.describe();
    EXPECT_FALSE(shm_exists(name));
}

TEST(CliLs, ShowsTheProcessesThatAttachASystemVSegment) {
    // Two IPC_PRIVATE segments share the name /SYSV00000000 in /proc/PID/maps: the inode (the
    // shmid) tells them apart.
    const int first = ::shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
    ASSERT_GE(first, 0);
    test::track_sysv_id(IpcKind::SysvShm, first);
    const int second = ::shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
    ASSERT_GE(second, 0);
    test::track_sysv_id(IpcKind::SysvShm, second);
    const key_t key = test::unique_sysv_key(IpcKind::SysvShm);
    const int keyed = ::shmget(key, 8192, IPC_CREAT | IPC_EXCL | 0600);
    ASSERT_GE(keyed, 0);
    auto attach = [](int id) {
        return test::Holder::start(
            [id] { return ::shmat(id, nullptr, SHM_RDONLY) != reinterpret_cast<void*>(-1); });
    };
    auto a = attach(first);
    auto b = attach(second);
    auto k = attach(keyed);
    ASSERT_TRUE(a && b && k);

    auto objects = test::ls_json({"--type", "sysvshm"});
    auto of = [&](int id) { return test::find_object(objects, "id", id); };
    ASSERT_FALSE(of(first).is_null());
    ASSERT_FALSE(of(second).is_null());
    ASSERT_FALSE(of(keyed).is_null());
    EXPECT_EQ(of(first)["users"], nlohmann::json::array({a->pid()})) << of(first).dump();
    EXPECT_EQ(of(second)["users"], nlohmann::json::array({b->pid()})) << of(second).dump();
    EXPECT_EQ(of(keyed)["users"], nlohmann::json::array({k->pid()})) << of(keyed).dump();

    auto table = test::ipckit({"ls", "--type", "sysvshm", "--prefix", key_string(key)});
    EXPECT_NE(table.out.find("users=" + std::to_string(k->pid())), std::string::npos) << table.out;
    auto st = test::ipckit({"stat", "sysvshm:id:" + std::to_string(keyed)});
    EXPECT_NE(st.out.find("users:           " + std::to_string(k->pid())), std::string::npos)
        << st.describe();
    EXPECT_CHILD_OK(a->release());
    EXPECT_CHILD_OK(b->release());
    EXPECT_CHILD_OK(k->release());
}

}  // namespace
}  // namespace ipckit
