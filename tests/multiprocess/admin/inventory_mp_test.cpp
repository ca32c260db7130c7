// SPDX-License-Identifier: MIT
// The inventory's System V paths where permissions differ, run as uid 65534 in a child (root's
// CAP_IPC_OWNER would pass every permission check).
//
// The inventory removes a System V object by id through its facility's static remove(id), which
// needs only ownership: a handle (from_id) needs read permission for its IPC_STAT, so an owner
// could not remove its own mode-0000 object through one.
#include "forked_child.hpp"
#include "ipc_registry.hpp"
#include "ipckit/admin/inventory.hpp"
#include "ipckit/core/ownership.hpp"
#include "ipckit/endpoint/uri.hpp"
#include "ipckit/message/sysv_msg_queue.hpp"
#include "ipckit/shm/sysv_shm.hpp"
#include "ipckit/sync/sysv_semaphore_set.hpp"

#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <functional>
#include <grp.h>

#include <gtest/gtest.h>

namespace ipckit {
namespace {

using namespace std::chrono_literals;

constexpr uid_t kNobody = 65534;

/// Runs `body` in a child that became uid/gid 65534.
void as_nobody(const std::function<bool()>& body) {
    if (::geteuid() != 0) {
        GTEST_SKIP() << "needs root to become uid 65534 (root itself passes every check)";
    }
    auto child = test::ForkedChild::spawn([&] {
        CHILD_CHECK(::setgroups(0, nullptr) == 0);
        CHILD_CHECK(::setresgid(kNobody, kNobody, kNobody) == 0);
        CHILD_CHECK(::setresuid(kNobody, kNobody, kNobody) == 0);
        CHILD_CHECK(body());
        return 0;
    });
    EXPECT_CHILD_OK(child.wait_for(10s));
}

/// An object nobody may read (mode 0000), owned by the caller.
IpcObjectInfo unreadable(IpcObjectKind kind) {
    IpcObjectInfo o;
    o.kind = kind;
    switch (kind) {
        case IpcObjectKind::SysvMsg:
            o.id = ::msgget(IPC_PRIVATE, IPC_CREAT | 0000);
            test::track_sysv_id(test::IpcKind::SysvMsg, o.id);
            break;
        case IpcObjectKind::SysvShm:
            o.id = ::shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0000);
            test::track_sysv_id(test::IpcKind::SysvShm, o.id);
            break;
        default:
            o.id = ::semget(IPC_PRIVATE, 1, IPC_CREAT | 0000);
            test::track_sysv_id(test::IpcKind::SysvSem, o.id);
            break;
    }
    CHILD_CHECK(o.id >= 0);
    o.uri = std::string(kind_name(kind)) + ":id:" + std::to_string(o.id);
    return o;
}

TEST(RemoveById, SysvMsgQueueNeedsOwnershipNotReadPermission) {
    as_nobody([] {
        const IpcObjectInfo o = unreadable(IpcObjectKind::SysvMsg);
        auto st = SysvMsgQueue::stat(o.id);
        CHILD_CHECK(!st && st.error() == std::errc::permission_denied);
        CHILD_CHECK(SysvMsgQueue::remove(o.id));
        auto again = SysvMsgQueue::remove(o.id);
        CHILD_CHECK(!again && again.error() == std::errc::invalid_argument);
        return true;
    });
}

TEST(RemoveById, SysvShmNeedsOwnershipNotReadPermission) {
    as_nobody([] {
        const IpcObjectInfo o = unreadable(IpcObjectKind::SysvShm);
        auto handle = SysvShm::from_id(o.id, Ownership::any());
        CHILD_CHECK(!handle && handle.error() == std::errc::permission_denied);
        CHILD_CHECK(SysvShm::remove(o.id));
        return true;
    });
}

TEST(RemoveById, SysvSemaphoreSetNeedsOwnershipNotReadPermission) {
    as_nobody([] {
        const IpcObjectInfo o = unreadable(IpcObjectKind::SysvSem);
        auto handle = SysvSemaphoreSet::from_id(o.id, Ownership::any());
        CHILD_CHECK(!handle && handle.error() == std::errc::permission_denied);
        CHILD_CHECK(SysvSemaphoreSet::remove(o.id));
        return true;
    });
}

TEST(RemoveById, InventoryRemovesEveryUnreadableSysvKindItsOwnerHolds) {
    as_nobody([] {
        for (auto kind : {IpcObjectKind::SysvMsg, IpcObjectKind::SysvShm, IpcObjectKind::SysvSem}) {
            const IpcObjectInfo o = unreadable(kind);
            CHILD_CHECK(Inventory::remove(o));
            auto again = Inventory::remove(o);
            CHILD_CHECK(!again && again.error() == std::errc::no_such_file_or_directory);
        }
        return true;
    });
}

// A set the caller may not read (another user's, mode 0600): its last users and waiters cannot
// be seen, so its users are unknown (never stale), and the note says why in the words
// `ipckit stat` has always used.
TEST(InventorySysvSem, AnUnreadableSetHasUnknownUsersAndANoteSayingWhy) {
    const std::array<unsigned short, 1> initial{1};
    auto set = SysvSemaphoreSet::create(SysvKey::private_key(), initial, Permissions(0600));
    ASSERT_TRUE(set) << set.error().message();
    test::track_sysv_id(test::IpcKind::SysvSem, set->id());
    const std::string uri = "sysvsem:id:" + std::to_string(set->id());
    as_nobody([&] {
        auto found = Inventory::find(Uri::parse(uri).value());
        CHILD_CHECK(found && *found);
        const IpcObjectInfo& o = **found;
        CHILD_CHECK(!o.users_known);
        CHILD_CHECK(o.state == ObjectState::UsersUnknown);
        CHILD_CHECK(o.sem_pids.empty() && o.sem_values.empty());
        CHILD_CHECK(!o.notes.empty() &&
                    o.notes.front() == "semctl GETPID private: Permission denied");
        return true;
    });
}

}  // namespace
}  // namespace ipckit
