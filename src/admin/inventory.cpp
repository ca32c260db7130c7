// SPDX-License-Identifier: MIT
// Inventory: the host-wide listing put together from the scanners (src/admin/scanners.hpp),
// lookup by URI, and removal through each facility's own unlink/remove. The stale rule is in
// object_state.cpp.
#include "ipckit/admin/inventory.hpp"

#include "admin/host_files.hpp"
#include "admin/scanners.hpp"
#include "ipckit/core/posix_name.hpp"
#include "ipckit/message/posix_mq.hpp"
#include "ipckit/message/sysv_msg_queue.hpp"
#include "ipckit/service/service.hpp"
#include "ipckit/shm/posix_shm.hpp"
#include "ipckit/shm/sysv_shm.hpp"
#include "ipckit/sync/named_semaphore.hpp"
#include "ipckit/sync/sysv_semaphore_set.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <utility>

namespace ipckit {

namespace detail {

bool wants(const InventoryFilter& f, IpcObjectKind k) {
    return f.kinds.empty() || std::find(f.kinds.begin(), f.kinds.end(), k) != f.kinds.end();
}

bool name_matches(const std::string& name, const std::string& prefix) {
    if (prefix.empty()) {
        return true;
    }
    std::string_view n(name);
    std::string_view p(prefix);
    if (n.starts_with('/') && !p.starts_with('/')) {
        n.remove_prefix(1);
    }
    return n.starts_with(p);
}

void fill_from_stat(IpcObjectInfo& o, const struct stat& st) {
    o.uid = st.st_uid;
    o.gid = st.st_gid;
    o.mode = st.st_mode & 07777;
    o.size = static_cast<std::uint64_t>(st.st_size);
    o.access_time = st.st_atim.tv_sec;
    o.modify_time = st.st_mtim.tv_sec;
    o.change_time = st.st_ctim.tv_sec;
}

}  // namespace detail

using namespace detail;  // NOLINT(google-build-using-namespace): the scanners, used only here

namespace {

void add_user(IpcObjectInfo& o, pid_t pid) {
    if (pid > 0 && std::find(o.users.begin(), o.users.end(), pid) == o.users.end()) {
        o.users.push_back(pid);
    }
}

/// A live server (its record locked) and live clients (their lanes locked) use the service.
void add_service_users(IpcObjectInfo& o) {
    if (o.service->server_alive && o.service->record_valid) {
        add_user(o, o.service->server_pid);
    }
    for (const ServiceClientInfo& c : o.service->clients) {
        if (c.alive) {
            add_user(o, c.pid);
        }
    }
}

/// Adds the users the scanners learn besides /proc (a notify registrant, live channel
/// participants), then classifies every object.
void finish(std::vector<IpcObjectInfo>& objects) {
    for (IpcObjectInfo& o : objects) {
        if (o.notify_pid && process_alive(*o.notify_pid) &&
            std::find(o.users.begin(), o.users.end(), *o.notify_pid) == o.users.end()) {
            o.users.push_back(*o.notify_pid);
        }
        if (o.channel) {
            // A participant's OFD lock says it is alive even where /proc hides its fds.
            for (const auto* list : {&o.channel->publishers, &o.channel->subscribers}) {
                for (const ChannelParticipantInfo& p : *list) {
                    if (p.alive && p.pid > 0 &&
                        std::find(o.users.begin(), o.users.end(), p.pid) == o.users.end()) {
                        o.users.push_back(p.pid);
                    }
                }
            }
        }
        if (o.service) {
            // The record's lock and the lanes' locks say who is alive, as for channels.
            add_service_users(o);
        }
        o.state = Inventory::classify(o);
        o.stale = o.state == ObjectState::Stale;
    }
}

/// Every object `filter` asks for; with `details` also what only `stat` shows (semaphore
/// values). Kinds that cannot be listed are recorded in `inv`.
std::vector<IpcObjectInfo> scan_impl(const InventoryFilter& filter, bool details, Inventory& inv) {
    std::vector<IpcObjectInfo> objects;
    Targets targets;
    if (wants(filter, IpcObjectKind::PosixMq)) {
        if (auto ok = ensure_mqueue_listable(); !ok) {
            // Not root: the plain sentence alone. A failed mount: the sentence plus why.
            inv.warnings.push_back(ok.error().op() == std::string_view("list POSIX queues")
                                       ? ok.error().detail()
                                       : ok.error().message());
            inv.unlisted.push_back(IpcObjectKind::PosixMq);
        } else {
            scan_mqueue(filter, objects, targets);
        }
    }
    const bool posix =
        wants(filter, IpcObjectKind::PosixShm) || wants(filter, IpcObjectKind::PosixSem);
    const bool files =  // channel, event and service files
        wants(filter, IpcObjectKind::Channel) || wants(filter, IpcObjectKind::Event) ||
        wants(filter, IpcObjectKind::Service);
    if (posix || files) {
        scan_shm_dir(kShmDir, posix, filter, objects, targets);
    }
    const std::string chan_dir = channel_directory();
    if (files && chan_dir != kShmDir) {
        scan_shm_dir(chan_dir, false, filter, objects, targets);
    }
    if (wants(filter, IpcObjectKind::SysvMsg)) {
        scan_sysv_msg(filter, objects);
    }
    if (wants(filter, IpcObjectKind::SysvShm)) {
        scan_sysv_shm(filter, objects);
    }
    if (wants(filter, IpcObjectKind::SysvSem)) {
        scan_sysv_sem(filter, details, objects);
    }
    if (wants(filter, IpcObjectKind::Bridge)) {
        scan_bridges(filter, inv, objects);
    }
    scan_users(objects, targets);
    finish(objects);
    return objects;
}

}  // namespace

Result<Inventory> Inventory::scan(const InventoryFilter& filter) {
    Inventory inv;
    inv.objects = scan_impl(filter, /*details=*/false, inv);
    return inv;
}

namespace {

/// What a URI names in the inventory.
struct Target {
    IpcObjectKind kind = IpcObjectKind::PosixShm;
    std::string exact_name;             // POSIX name or channel name
    const SysvAddress* sysv = nullptr;  // System V kinds
    const ChanUri* chan = nullptr;
};

Result<Target> target_of(const Uri& uri) {
    Target t;
    if (const auto* mq = uri.get_if<PosixMqUri>()) {
        t = {IpcObjectKind::PosixMq, mq->name.str()};
    } else if (const auto* shm = uri.get_if<PosixShmUri>()) {
        t = {IpcObjectKind::PosixShm, shm->name.str()};
    } else if (const auto* sem = uri.get_if<PosixSemUri>()) {
        t = {IpcObjectKind::PosixSem, sem->name.str()};
    } else if (const auto* chan = uri.get_if<ChanUri>()) {
        t = {IpcObjectKind::Channel, chan->name};
        t.chan = chan;
    } else if (const auto* ev = uri.get_if<EventUri>()) {
        if (ev->dir && *ev->dir != channel_directory()) {
            return Error(std::errc::invalid_argument,
                         "find",
                         uri.text(),
                         "events are found in $IPCKIT_SHM_DIR (or /dev/shm); set it to " +
                             *ev->dir + " instead of ?dir=");
        }
        t = {IpcObjectKind::Event, ev->name};
    } else if (const auto* q = uri.get_if<SysvMqUri>()) {
        t = {IpcObjectKind::SysvMsg, {}, &q->address};
    } else if (const auto* s = uri.get_if<SysvShmUri>()) {
        t = {IpcObjectKind::SysvShm, {}, &s->address};
    } else if (const auto* ss = uri.get_if<SysvSemUri>()) {
        t = {IpcObjectKind::SysvSem, {}, &ss->address};
    } else {
        return Error(std::errc::invalid_argument,
                     "find",
                     uri.text(),
                     std::string(uri.scheme_name()) +
                         ": is not a kernel object ipckit can list (sockets and FIFOs have no "
                         "inventory)");
    }
    return t;
}

/// A channel in an explicit ?dir= directory: only that directory is looked at.
std::optional<IpcObjectInfo> find_channel_in(const std::string& dir,
                                             const ChanUri& chan,
                                             const Uri& uri) {
    const std::string path = dir + "/" + channel_file_name(chan.name);
    auto st = stat_nofollow(path);
    if (!st || !S_ISREG(st->st_mode)) {
        return std::nullopt;
    }
    IpcObjectInfo o;
    o.kind = IpcObjectKind::Channel;
    o.name = chan.name;
    o.uri = uri.object_string() + "?dir=" + dir;
    o.path = path;
    fill_from_stat(o, *st);
    read_channel(o, dir);
    std::vector<IpcObjectInfo> one{o};
    scan_users(one, {{{st->st_dev, st->st_ino}, {0}}});
    finish(one);
    return std::move(one.front());
}

/// /dev/mqueue is not mounted and we may not mount it: ask the queue itself (F31).
Result<std::optional<IpcObjectInfo>> find_unlisted_mq(const std::string& name,
                                                      const std::string& why) {
    IpcObjectInfo o;
    o.kind = IpcObjectKind::PosixMq;
    o.name = name;
    o.uri = "mq:" + name;
    read_mq_attributes(o);
    if (o.max_messages) {
        o.notes.push_back(why);
        return std::optional<IpcObjectInfo>(std::move(o));
    }
    if (!o.notes.empty() && o.notes.front().find("No such file") != std::string::npos) {
        return std::optional<IpcObjectInfo>();
    }
    return Error(
        std::errc::permission_denied, "stat", name, o.notes.empty() ? why : o.notes.front());
}

}  // namespace

Result<std::optional<IpcObjectInfo>> Inventory::find(const Uri& uri, bool details) {
    IPCKIT_TRY_ASSIGN(const Target t, target_of(uri));
    if (t.chan != nullptr && t.chan->dir && *t.chan->dir != channel_directory()) {
        return find_channel_in(*t.chan->dir, *t.chan, uri);
    }
    InventoryFilter filter;
    filter.kinds = {t.kind};
    std::optional<key_t> key;
    if (t.sysv != nullptr && t.sysv->kind != SysvAddress::Kind::Id) {
        IPCKIT_TRY_ASSIGN(const SysvKey k, t.sysv->resolve_key());
        if (k.is_private()) {
            return Error(std::errc::invalid_argument,
                         "find",
                         uri.text(),
                         "'private' names no existing object; address it as id:ID");
        }
        key = k.value();
    } else if (t.sysv == nullptr) {
        filter.prefix = t.exact_name;
    }
    Inventory inv;
    std::vector<IpcObjectInfo> objects = scan_impl(filter, details, inv);
    const auto matches = [&](const IpcObjectInfo& o) {
        if (t.sysv == nullptr) {
            return o.name == t.exact_name;
        }
        return key ? (o.key && *o.key == *key) : o.id == t.sysv->id;
    };
    for (IpcObjectInfo& o : objects) {
        if (matches(o)) {
            return std::optional<IpcObjectInfo>(std::move(o));
        }
    }
    if (t.kind == IpcObjectKind::PosixMq && !inv.unlisted.empty()) {
        return find_unlisted_mq(t.exact_name, inv.warnings.front());
    }
    return std::optional<IpcObjectInfo>();
}

namespace {

/// The object of `kind` (found by name: services, bridges) whose name is `exact`; what could not
/// be listed goes to `inv`.
std::optional<IpcObjectInfo> find_by_exact_name(IpcObjectKind kind,
                                                const std::string& exact,
                                                Inventory& inv) {
    InventoryFilter filter;
    filter.kinds = {kind};
    filter.prefix = exact;
    for (IpcObjectInfo& o : scan_impl(filter, /*details=*/true, inv)) {
        if (o.name == exact) {
            return std::move(o);
        }
    }
    return std::nullopt;
}

}  // namespace

Result<std::optional<IpcObjectInfo>> Inventory::find_service(std::string_view name) {
    IPCKIT_TRY_ASSIGN(const std::string exact, Service::validate_name(name));
    Inventory inv;
    return find_by_exact_name(IpcObjectKind::Service, exact, inv);
}

Result<std::string> Inventory::bridge_name(std::string_view text) {
    std::string_view name = text;
    if (name.starts_with("bridge:")) {
        name.remove_prefix(std::string_view("bridge:").size());
    }
    const std::size_t dash = name.find('-');
    const std::string_view pid = name.substr(0, dash);
    const std::string_view nth = dash == std::string_view::npos ? "0" : name.substr(dash + 1);
    if (!to_number<std::uint32_t>(pid) || !to_number<std::uint32_t>(nth)) {
        return Error(std::errc::invalid_argument,
                     "find",
                     "bridge:" + std::string(name),
                     "a bridge is named by its pid: bridge:PID (bridge:PID-N for a process's "
                     "further bridges)");
    }
    return std::string(name);
}

Result<std::optional<IpcObjectInfo>> Inventory::find_bridge(std::string_view name) {
    IPCKIT_TRY_ASSIGN(const std::string exact, bridge_name(name));
    Inventory inv;
    auto found = find_by_exact_name(IpcObjectKind::Bridge, exact, inv);
    if (!found && !inv.warnings.empty()) {
        return Error(std::errc::permission_denied, "find", "bridge:" + exact, inv.warnings.front());
    }
    return found;
}

namespace {

/// unlink of a POSIX object through its facility (mq_unlink, shm_unlink, sem_unlink).
Result<void> unlink_posix(const IpcObjectInfo& o) {
    IPCKIT_TRY_ASSIGN(const PosixName name, PosixName::make(o.name));
    switch (o.kind) {
        case IpcObjectKind::PosixMq:
            return PosixMq::unlink(name);
        case IpcObjectKind::PosixShm:
            return PosixShm::unlink(name);
        default:
            return NamedSemaphore::unlink(name);
    }
}

/// IPC_RMID of a System V object by id through its facility. An id that is gone (or reused
/// for nothing) answers EINVAL/EIDRM: "no such object". A refusal keeps the words `ipckit rm`
/// has always printed ("msgctl IPC_RMID id 3: Operation not permitted").
Result<void> remove_sysv(const IpcObjectInfo& o) {
    Result<void> r;
    const char* op = "";
    switch (o.kind) {
        case IpcObjectKind::SysvMsg:
            r = SysvMsgQueue::remove(o.id);
            op = "msgctl IPC_RMID";
            break;
        case IpcObjectKind::SysvShm:
            r = SysvShm::remove(o.id);
            op = "shmctl IPC_RMID";
            break;
        default:
            r = SysvSemaphoreSet::remove(o.id);
            op = "semctl IPC_RMID";
            break;
    }
    if (!r) {
        const auto& e = r.error();
        if (e.code() == std::errc::invalid_argument || e.code() == std::errc::identifier_removed) {
            return Error(std::errc::no_such_file_or_directory, "remove", o.uri, "no such object");
        }
        return Error(e.code(), op, "id " + std::to_string(o.id));
    }
    return {};
}

/// Channel::remove of the channel in its directory.
Result<void> remove_channel(const IpcObjectInfo& o) {
    ChannelOptions co;
    co.dir = o.path.substr(0, o.path.rfind('/'));
    auto removed = Channel::remove(o.name, co);
    if (!removed && removed.error().code() == std::errc::no_such_file_or_directory) {
        return Error(std::errc::no_such_file_or_directory, "remove", o.uri, "no such object");
    }
    return removed;
}

/// Event::remove of the event in its directory.
Result<void> remove_event(const IpcObjectInfo& o) {
    EventOptions eo;
    eo.dir = o.path.substr(0, o.path.rfind('/'));
    auto removed = Event::remove(o.name, eo);
    if (!removed && removed.error().code() == std::errc::no_such_file_or_directory) {
        return Error(std::errc::no_such_file_or_directory, "remove", o.uri, "no such object");
    }
    return removed;
}

/// Service::remove of the record and every channel of the service, in its directory.
Result<void> remove_service(const IpcObjectInfo& o) {
    ChannelOptions co;
    co.dir = o.path.substr(0, o.path.rfind('/'));
    if (auto st = stat_nofollow(o.path); !st) {
        return Error(std::errc::no_such_file_or_directory, "remove", o.uri, "no such object");
    }
    return Service::remove(o.name, co);
}

}  // namespace

Result<void> Inventory::remove(const IpcObjectInfo& o) {
    switch (o.kind) {
        case IpcObjectKind::PosixMq:
        case IpcObjectKind::PosixShm:
        case IpcObjectKind::PosixSem:
            return unlink_posix(o);
        case IpcObjectKind::Channel:
            return remove_channel(o);
        case IpcObjectKind::Event:
            return remove_event(o);
        case IpcObjectKind::Service:
            return remove_service(o);
        case IpcObjectKind::Bridge:
            if (!o.bridge) {
                return Error(std::errc::invalid_argument, "remove", o.uri, "no status read");
            }
            return remove_bridge_status(*o.bridge);
        case IpcObjectKind::SysvMsg:
        case IpcObjectKind::SysvShm:
        case IpcObjectKind::SysvSem:
            return remove_sysv(o);
    }
    return {};
}

}  // namespace ipckit
