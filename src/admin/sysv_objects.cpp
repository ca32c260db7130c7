// SPDX-License-Identifier: MIT
// System V objects in the inventory: /proc/sysvipc/{msg,shm,sem} lists every queue, segment and
// set whoever owns it; what the table lacks (a queue's capacity, a set's per-semaphore last pids,
// waiters and values) comes from the facilities' own by-id calls.
#include "admin/host_files.hpp"
#include "admin/scanners.hpp"
#include "ipckit/core/ownership.hpp"
#include "ipckit/core/sysv_key.hpp"
#include "ipckit/message/sysv_msg_queue.hpp"
#include "ipckit/sync/sysv_semaphore_set.hpp"

#include <sys/ipc.h>
#include <sys/shm.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <map>
#include <sstream>

namespace ipckit::detail {

namespace {

using SysvRow = std::map<std::string, std::string>;

/// One /proc/sysvipc table as rows of column name -> text.
std::vector<SysvRow> read_sysvipc(const char* which) {
    std::vector<SysvRow> rows;
    auto text = read_small_file(std::string("/proc/sysvipc/") + which);
    if (!text) {
        return rows;
    }
    std::istringstream in(*text);
    std::string line;
    std::vector<std::string> header;
    while (std::getline(in, line)) {
        auto fields = split_ws(line);
        if (header.empty()) {
            for (auto f : fields) {
                header.emplace_back(f);
            }
            continue;
        }
        if (fields.size() < header.size()) {
            continue;
        }
        SysvRow row;
        for (std::size_t i = 0; i < header.size(); ++i) {
            row[header[i]] = std::string(fields[i]);
        }
        rows.push_back(std::move(row));
    }
    return rows;
}

template <class T>
std::optional<T> field(const SysvRow& row, const char* name) {
    auto it = row.find(name);
    if (it == row.end()) {
        return std::nullopt;
    }
    return to_number<T>(it->second);
}

std::optional<pid_t> nonzero_pid(std::optional<pid_t> p) {
    if (p && *p > 0) {
        return p;
    }
    return std::nullopt;
}

void fill_sysv_common(IpcObjectInfo& o, const SysvRow& row, const char* id_column) {
    o.key = field<key_t>(row, "key");
    o.id = field<int>(row, id_column).value_or(-1);
    if (!o.key || *o.key == 0) {
        o.name = "private";
    } else {
        o.name = SysvKey::from_number(static_cast<std::uint32_t>(*o.key))
                     .transform([](SysvKey k) { return k.to_string(); })
                     .value_or(std::string("?"));
    }
    o.uid = field<uid_t>(row, "uid").value_or(0);
    o.gid = field<gid_t>(row, "gid").value_or(0);
    o.cuid = field<uid_t>(row, "cuid");
    o.cgid = field<gid_t>(row, "cgid");
    // perms is printed in octal, with SHM_DEST (01000) and SHM_LOCKED (02000) for segments.
    unsigned perms = 0;
    if (auto it = row.find("perms"); it != row.end()) {
        std::from_chars(it->second.data(), it->second.data() + it->second.size(), perms, 8);
    }
    o.mode = perms & 0777;
    o.marked_for_removal = (perms & SHM_DEST) != 0;
    o.locked = (perms & SHM_LOCKED) != 0;
    o.change_time = field<std::int64_t>(row, "ctime");
}

std::optional<std::int64_t> nonzero_time(std::optional<std::int64_t> t) {
    if (t && *t != 0) {
        return t;
    }
    return std::nullopt;
}

/// The kernel's answer as `ipckit stat` has always noted it ("semctl GETPID 0x000011ec:
/// Permission denied"), whichever call of the facility was refused.
std::string semctl_note(const Error& e, const IpcObjectInfo& o) {
    return Error(e.code(), "semctl GETPID", o.name).message();
}

/// Per-semaphore last pids and waiters of a set, with `values` also its values. A set whose
/// pids cannot be read leaves its users unknown: neither its last users nor its waiters are seen.
void read_sysv_sem_details(IpcObjectInfo& o, bool values) {
    if (!o.nsems || *o.nsems <= 0) {
        return;
    }
    // Any owner: looking is not trusting, and the listing shows every set the kernel lets us read.
    auto set = SysvSemaphoreSet::from_id(o.id, Ownership::any());
    if (!set) {
        o.notes.push_back(semctl_note(set.error(), o));
        o.users_known = false;
        return;
    }
    const int n = std::min(*o.nsems, set->size());  // the kernel's count bounds the table's
    for (int i = 0; i < n; ++i) {
        const auto index = static_cast<unsigned short>(i);
        auto pid = set->last_pid(index);
        if (!pid) {
            o.notes.push_back(semctl_note(pid.error(), o));
            o.sem_pids.clear();
            o.users_known = false;
            break;
        }
        o.sem_pids.push_back(*pid);
        auto ncnt = set->waiting_to_take(index);
        auto zcnt = set->waiting_for_zero(index);
        o.sem_waiters = o.sem_waiters.value_or(0) + (ncnt ? *ncnt : 0) + (zcnt ? *zcnt : 0);
        if (values) {
            if (auto v = set->value(index)) {
                o.sem_values.push_back(*v);
            }
        }
    }
}

}  // namespace

void scan_sysv_msg(const InventoryFilter& filter, std::vector<IpcObjectInfo>& out) {
    for (const auto& row : read_sysvipc("msg")) {
        IpcObjectInfo o;
        o.kind = IpcObjectKind::SysvMsg;
        fill_sysv_common(o, row, "msqid");
        if (!name_matches(o.name, filter.prefix)) {
            continue;
        }
        o.uri = "sysvmq:id:" + std::to_string(o.id);
        o.size = field<std::uint64_t>(row, "cbytes");
        o.messages = field<std::uint64_t>(row, "qnum");
        o.last_send_pid = nonzero_pid(field<pid_t>(row, "lspid"));
        o.last_recv_pid = nonzero_pid(field<pid_t>(row, "lrpid"));
        o.access_time = nonzero_time(field<std::int64_t>(row, "stime"));
        o.modify_time = nonzero_time(field<std::int64_t>(row, "rtime"));
        if (auto st = SysvMsgQueue::stat(o.id)) {
            o.max_bytes = st->max_bytes;
        }
        out.push_back(std::move(o));
    }
}

void scan_sysv_shm(const InventoryFilter& filter, std::vector<IpcObjectInfo>& out) {
    for (const auto& row : read_sysvipc("shm")) {
        IpcObjectInfo o;
        o.kind = IpcObjectKind::SysvShm;
        fill_sysv_common(o, row, "shmid");
        if (!name_matches(o.name, filter.prefix)) {
            continue;
        }
        o.uri = "sysvshm:id:" + std::to_string(o.id);
        o.size = field<std::uint64_t>(row, "size");
        o.attached = field<std::uint64_t>(row, "nattch");
        o.creator_pid = nonzero_pid(field<pid_t>(row, "cpid"));
        o.last_pid = nonzero_pid(field<pid_t>(row, "lpid"));
        o.rss = field<std::uint64_t>(row, "rss");
        o.swap = field<std::uint64_t>(row, "swap");
        if (o.creator_pid) {
            if (auto comm = read_small_file("/proc/" + std::to_string(*o.creator_pid) + "/comm")) {
                o.creator_command = comm->substr(0, comm->find('\n'));
            }
        }
        o.access_time = nonzero_time(field<std::int64_t>(row, "atime"));
        o.modify_time = nonzero_time(field<std::int64_t>(row, "dtime"));
        out.push_back(std::move(o));
    }
}

void scan_sysv_sem(const InventoryFilter& filter, bool values, std::vector<IpcObjectInfo>& out) {
    for (const auto& row : read_sysvipc("sem")) {
        IpcObjectInfo o;
        o.kind = IpcObjectKind::SysvSem;
        fill_sysv_common(o, row, "semid");
        if (!name_matches(o.name, filter.prefix)) {
            continue;
        }
        o.uri = "sysvsem:id:" + std::to_string(o.id);
        o.nsems = field<int>(row, "nsems");
        o.access_time = nonzero_time(field<std::int64_t>(row, "otime"));
        read_sysv_sem_details(o, values);
        out.push_back(std::move(o));
    }
}

}  // namespace ipckit::detail
