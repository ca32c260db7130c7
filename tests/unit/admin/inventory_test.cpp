// SPDX-License-Identifier: MIT
// The stale rule and kind names of the inventory (the listing itself is tested through the
// real binary in tests/multiprocess/cli).
#include "ipckit/admin/inventory.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

namespace ipckit {
namespace {

/// A pid that certainly belonged to a process that has exited (reaped at once).
pid_t dead_pid() {
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::_exit(0);
    }
    ::waitpid(pid, nullptr, 0);
    return pid;
}

IpcObjectInfo object(IpcObjectKind kind) {
    IpcObjectInfo o;
    o.kind = kind;
    return o;
}

TEST(InventoryKinds, NamesRoundTrip) {
    for (auto k : {IpcObjectKind::PosixMq,
                   IpcObjectKind::PosixShm,
                   IpcObjectKind::PosixSem,
                   IpcObjectKind::SysvMsg,
                   IpcObjectKind::SysvShm,
                   IpcObjectKind::SysvSem,
                   IpcObjectKind::Channel,
                   IpcObjectKind::Bridge}) {
        EXPECT_EQ(kind_from_name(kind_name(k)), k);
    }
    EXPECT_FALSE(kind_from_name("queue").has_value());
    EXPECT_EQ(kind_name(IpcObjectKind::SysvMsg), "sysvmq");  // the URI scheme
}

TEST(InventoryStale, ALiveUserAlwaysMeansInUse) {
    for (auto k : {IpcObjectKind::PosixShm, IpcObjectKind::SysvMsg, IpcObjectKind::SysvShm}) {
        auto o = object(k);
        o.users = {::getpid()};
        o.attached = 0;
        o.last_send_pid = dead_pid();
        EXPECT_FALSE(Inventory::is_stale(o)) << kind_name(k);
    }
}

TEST(InventoryStale, PosixObjectsWithNoUserAreStale) {
    EXPECT_TRUE(Inventory::is_stale(object(IpcObjectKind::PosixShm)));
    auto empty_queue = object(IpcObjectKind::PosixMq);
    empty_queue.messages = 0;  // a queue whose count is unknown may hold messages
    EXPECT_TRUE(Inventory::is_stale(empty_queue));
    auto dead_user_listed = object(IpcObjectKind::PosixSem);
    dead_user_listed.users = {dead_pid()};  // died between the /proc scan and now
    EXPECT_TRUE(Inventory::is_stale(dead_user_listed));
}

TEST(InventoryStale, SysvSegmentsNeedNoAttachAndADeadLastUser) {
    auto o = object(IpcObjectKind::SysvShm);
    o.attached = 0;
    o.access_time = 1700000000;  // attached once (shm_atime)
    o.creator_pid = ::getpid();
    EXPECT_FALSE(Inventory::is_stale(o));  // creator alive
    o.creator_pid = dead_pid();
    EXPECT_TRUE(Inventory::is_stale(o));
    o.last_pid = ::getpid();
    EXPECT_FALSE(Inventory::is_stale(o));  // the last attacher is alive
    o.last_pid = dead_pid();
    o.attached = 1;
    EXPECT_FALSE(Inventory::is_stale(o));  // someone is attached (maybe in another pid namespace)
}

TEST(InventoryStale, SysvQueuesNobodyUsedAreNotStale) {
    auto o = object(IpcObjectKind::SysvMsg);
    o.messages = 0;
    EXPECT_FALSE(Inventory::is_stale(o));  // its creator may be about to use it
    o.last_send_pid = dead_pid();
    EXPECT_TRUE(Inventory::is_stale(o));
    o.last_recv_pid = ::getpid();
    EXPECT_FALSE(Inventory::is_stale(o));
}

TEST(InventoryStale, SysvSemaphoreSetsWithWaitersOrLiveLastUsersAreNotStale) {
    auto o = object(IpcObjectKind::SysvSem);
    o.access_time = 1700000000;  // operated on once (sem_otime)
    o.sem_pids = {0, 0};
    EXPECT_FALSE(Inventory::is_stale(o));  // never operated on
    o.sem_pids = {dead_pid(), 0};
    EXPECT_TRUE(Inventory::is_stale(o));
    o.sem_waiters = 1;
    EXPECT_FALSE(Inventory::is_stale(o));
    o.sem_waiters = 0;
    o.sem_pids = {dead_pid(), ::getpid()};
    EXPECT_FALSE(Inventory::is_stale(o));
}

TEST(InventoryStale, QueuesWithUnreadMessagesAreNotStale) {  // issue 16, defect 5
    auto mq = object(IpcObjectKind::PosixMq);
    mq.messages = 2;
    mq.size = 120;
    EXPECT_FALSE(Inventory::is_stale(mq));
    EXPECT_EQ(Inventory::classify(mq), ObjectState::Unread);
    EXPECT_FALSE(Inventory::removable_as_stale(mq, /*include_unread=*/false));
    EXPECT_TRUE(Inventory::removable_as_stale(mq, /*include_unread=*/true));
    mq.messages.reset();  // mq_open refused: QSIZE alone says whether it is empty
    EXPECT_FALSE(Inventory::is_stale(mq));
    mq.size = 0;
    EXPECT_TRUE(Inventory::is_stale(mq));
    mq.size.reset();  // neither could be read: it may hold messages
    EXPECT_FALSE(Inventory::is_stale(mq));
    EXPECT_EQ(Inventory::classify(mq), ObjectState::Unread);

    auto q = object(IpcObjectKind::SysvMsg);
    q.last_send_pid = dead_pid();
    q.messages = 1;
    EXPECT_FALSE(Inventory::is_stale(q));
    EXPECT_EQ(Inventory::classify(q), ObjectState::Unread);
    EXPECT_TRUE(Inventory::removable_as_stale(q, true));
    q.messages.reset();
    EXPECT_FALSE(Inventory::is_stale(q));
    q.messages = 0;
    EXPECT_TRUE(Inventory::is_stale(q));
    EXPECT_EQ(Inventory::classify(q), ObjectState::Stale);
}

TEST(InventoryStale, SystemVObjectsNobodyUsedYetAreNeverUsedNotStale) {  // issue 16, defect 5
    auto shm = object(IpcObjectKind::SysvShm);
    shm.attached = 0;
    shm.creator_pid = dead_pid();  // no shm_atime: nobody ever attached
    EXPECT_FALSE(Inventory::is_stale(shm));
    EXPECT_EQ(Inventory::classify(shm), ObjectState::NeverUsed);
    EXPECT_FALSE(Inventory::removable_as_stale(shm, false));
    EXPECT_TRUE(Inventory::removable_as_stale(shm, true));
    shm.creator_pid = ::getpid();
    EXPECT_EQ(Inventory::classify(shm), ObjectState::Idle);  // its creator may attach yet
    EXPECT_FALSE(Inventory::removable_as_stale(shm, true));

    auto sem = object(IpcObjectKind::SysvSem);
    sem.sem_pids = {dead_pid(), 0};  // SETVAL records a pid, but sets no sem_otime
    EXPECT_FALSE(Inventory::is_stale(sem));
    EXPECT_EQ(Inventory::classify(sem), ObjectState::NeverUsed);
    EXPECT_TRUE(Inventory::removable_as_stale(sem, true));
    sem.sem_pids = {0, 0};  // nothing recorded at all: no proof its users are gone
    EXPECT_EQ(Inventory::classify(sem), ObjectState::Idle);
    EXPECT_FALSE(Inventory::removable_as_stale(sem, true));
}

TEST(InventoryStale, UsersThatCannotBeSeenAreUnknownNeverStale) {  // issue 16, defect 5
    for (auto k : {IpcObjectKind::PosixMq,
                   IpcObjectKind::PosixShm,
                   IpcObjectKind::PosixSem,
                   IpcObjectKind::Channel}) {
        auto o = object(k);
        o.messages = 0;
        o.size = 0;
        EXPECT_TRUE(Inventory::is_stale(o)) << kind_name(k);
        o.users_known = false;
        EXPECT_FALSE(Inventory::is_stale(o)) << kind_name(k);
        EXPECT_EQ(Inventory::classify(o), ObjectState::UsersUnknown) << kind_name(k);
        EXPECT_FALSE(Inventory::removable_as_stale(o, /*include_unread=*/true)) << kind_name(k);
        o.users = {::getpid()};  // a user we did see: in use, whatever we could not see
        EXPECT_EQ(Inventory::classify(o), ObjectState::InUse) << kind_name(k);
    }
}

TEST(InventoryStale, StateNamesAreTheJsonWords) {
    EXPECT_EQ(state_name(ObjectState::InUse), "in-use");
    EXPECT_EQ(state_name(ObjectState::UsersUnknown), "users-unknown");
    EXPECT_EQ(state_name(ObjectState::Unread), "unread");
    EXPECT_EQ(state_name(ObjectState::NeverUsed), "never-used");
    EXPECT_EQ(state_name(ObjectState::Stale), "stale");
    EXPECT_EQ(state_name(ObjectState::Idle), "idle");
}

TEST(InventoryFind, SchemesWithoutObjectsAndPrivateKeysAreInvalidArguments) {
    auto tcp = Inventory::find(*Uri::parse("tcp:127.0.0.1:1"));
    ASSERT_FALSE(tcp);
    EXPECT_EQ(tcp.error().code(), std::errc::invalid_argument);
    auto priv = Inventory::find(*Uri::parse("sysvmq:private"));
    ASSERT_FALSE(priv);
    EXPECT_NE(priv.error().message().find("id:ID"), std::string::npos);
}

TEST(ProcessAlive, TellsLiveFromDead) {
    EXPECT_TRUE(process_alive(::getpid()));
    EXPECT_TRUE(process_alive(1));  // not ours, still alive (EPERM counts as alive)
    EXPECT_FALSE(process_alive(dead_pid()));
    EXPECT_FALSE(process_alive(0));
    EXPECT_FALSE(process_alive(-5));
}

}  // namespace
}  // namespace ipckit
