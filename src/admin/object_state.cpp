// SPDX-License-Identifier: MIT
// The words of the inventory (kind and state names) and its stale rule: whether an object is in
// use, and whether `ipckit rm --stale` may remove it (docs/design/cli.md, "Stale").
#include "ipckit/admin/inventory.hpp"

#include <sys/types.h>

#include <algorithm>
#include <optional>
#include <string_view>
#include <vector>

namespace ipckit {

std::string_view kind_name(IpcObjectKind kind) noexcept {
    switch (kind) {
        case IpcObjectKind::PosixMq:
            return "mq";
        case IpcObjectKind::PosixShm:
            return "shm";
        case IpcObjectKind::PosixSem:
            return "sem";
        case IpcObjectKind::SysvMsg:
            return "sysvmq";
        case IpcObjectKind::SysvShm:
            return "sysvshm";
        case IpcObjectKind::SysvSem:
            return "sysvsem";
        case IpcObjectKind::Channel:
            return "chan";
        case IpcObjectKind::Event:
            return "event";
        case IpcObjectKind::Service:
            return "srv";
        case IpcObjectKind::Bridge:
            return "bridge";
    }
    return "?";
}

std::optional<IpcObjectKind> kind_from_name(std::string_view name) noexcept {
    for (auto k : {IpcObjectKind::PosixMq,
                   IpcObjectKind::PosixShm,
                   IpcObjectKind::PosixSem,
                   IpcObjectKind::SysvMsg,
                   IpcObjectKind::SysvShm,
                   IpcObjectKind::SysvSem,
                   IpcObjectKind::Channel,
                   IpcObjectKind::Event,
                   IpcObjectKind::Service,
                   IpcObjectKind::Bridge}) {
        if (kind_name(k) == name) {
            return k;
        }
    }
    return std::nullopt;
}
std::string_view state_name(ObjectState state) noexcept {
    switch (state) {
        case ObjectState::InUse:
            return "in-use";
        case ObjectState::UsersUnknown:
            return "users-unknown";
        case ObjectState::Unread:
            return "unread";
        case ObjectState::NeverUsed:
            return "never-used";
        case ObjectState::Stale:
            return "stale";
        case ObjectState::Idle:
            return "idle";
    }
    return "?";
}

namespace {

/// A System V object by the last users the kernel recorded (0: none): Idle if one is alive or
/// none is recorded (nothing proves them gone); else Stale, or NeverUsed if nobody used the
/// object after its creator set it up (`used` false).
ObjectState by_last_users(const std::vector<pid_t>& last, bool used) {
    bool any = false;
    for (pid_t p : last) {
        if (p > 0) {
            any = true;
            if (process_alive(p)) {
                return ObjectState::Idle;
            }
        }
    }
    if (!any) {
        return ObjectState::Idle;  // no record of any user: nothing proves them gone
    }
    return used ? ObjectState::Stale : ObjectState::NeverUsed;
}

}  // namespace

ObjectState Inventory::classify(const IpcObjectInfo& o) {
    const bool live_user =
        std::any_of(o.users.begin(), o.users.end(), [](pid_t p) { return process_alive(p); });
    if (live_user || o.attached.value_or(0) > 0 || o.sem_waiters.value_or(0) > 0) {
        return ObjectState::InUse;
    }
    if (!o.users_known) {
        return ObjectState::UsersUnknown;
    }
    switch (o.kind) {
        case IpcObjectKind::PosixMq: {
            // A count we could not read (mq_open refused) is only "empty" if QSIZE says so.
            const bool unread = o.messages ? *o.messages > 0 : o.size.value_or(1) > 0;
            return unread ? ObjectState::Unread : ObjectState::Stale;
        }
        case IpcObjectKind::PosixShm:
        case IpcObjectKind::PosixSem:
        case IpcObjectKind::Channel:
        case IpcObjectKind::Event:
        case IpcObjectKind::Service:
        case IpcObjectKind::Bridge:     // its process is gone (or its pid is another's now)
            return ObjectState::Stale;  // no last-user record exists: nobody maps it or holds it
        case IpcObjectKind::SysvShm: {
            if (!o.attached) {
                return ObjectState::Idle;  // attach count unknown
            }
            // shm_lpid is 0 until the first attach; then the creator is the only record.
            // shm_atime is 0 until the first attach: nobody used it yet.
            return by_last_users({o.last_pid.value_or(o.creator_pid.value_or(0))},
                                 o.access_time.has_value());
        }
        case IpcObjectKind::SysvMsg: {
            const ObjectState s =
                by_last_users({o.last_send_pid.value_or(0), o.last_recv_pid.value_or(0)}, true);
            if (s == ObjectState::Stale && o.messages.value_or(1) > 0) {
                return ObjectState::Unread;
            }
            return s;
        }
        case IpcObjectKind::SysvSem:
            // semctl SETVAL/SETALL record a sempid but leave sem_otime 0: only semop sets it.
            return by_last_users(o.sem_pids, o.access_time.has_value());
    }
    return ObjectState::Idle;
}

bool Inventory::is_stale(const IpcObjectInfo& o) {
    return classify(o) == ObjectState::Stale;
}

bool Inventory::removable_as_stale(const IpcObjectInfo& o, bool include_unread) {
    const ObjectState s = classify(o);
    return s == ObjectState::Stale ||
           (include_unread && (s == ObjectState::Unread || s == ObjectState::NeverUsed));
}

}  // namespace ipckit
