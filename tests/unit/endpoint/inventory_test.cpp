// SPDX-License-Identifier: MIT
// The stale rule and kind names of the inventory (the listing itself is tested through the
// real binary in tests/multiprocess/cli).
#include "ipckit/endpoint/inventory.hpp"

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
    for (auto k : {IpcObjectKind::PosixMq, IpcObjectKind::PosixShm, IpcObjectKind::PosixSem,
                   IpcObjectKind::SysvMsg, IpcObjectKind::SysvShm, IpcObjectKind::SysvSem,
                   IpcObjectKind::Channel}) {
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
    EXPECT_TRUE(Inventory::is_stale(object(IpcObjectKind::PosixMq)));
    auto dead_user_listed = object(IpcObjectKind::PosixSem);
    dead_user_listed.users = {dead_pid()};  // died between the /proc scan and now
    EXPECT_TRUE(Inventory::is_stale(dead_user_listed));
}

TEST(InventoryStale, SysvSegmentsNeedNoAttachAndADeadLastUser) {
    auto o = object(IpcObjectKind::SysvShm);
    o.attached = 0;
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
    EXPECT_FALSE(Inventory::is_stale(o));  // its creator may be about to use it
    o.last_send_pid = dead_pid();
    EXPECT_TRUE(Inventory::is_stale(o));
    o.last_recv_pid = ::getpid();
    EXPECT_FALSE(Inventory::is_stale(o));
}

TEST(InventoryStale, SysvSemaphoreSetsWithWaitersOrLiveLastUsersAreNotStale) {
    auto o = object(IpcObjectKind::SysvSem);
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
