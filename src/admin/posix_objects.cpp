// SPDX-License-Identifier: MIT
// POSIX objects in the inventory: message queues (/dev/mqueue), shared memory objects and named
// semaphores (/dev/shm), each read without being used: a queue through a read-only open, a
// semaphore's value with pread (never mapped, so a truncated file cannot SIGBUS us).
#include "admin/host_files.hpp"
#include "admin/scanners.hpp"
#include "ipckit/core/ownership.hpp"
#include "ipckit/core/posix_name.hpp"
#include "ipckit/core/unique_fd.hpp"
#include "ipckit/message/posix_mq.hpp"
#include "sys/syscall.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cstdint>
#include <map>
#include <string_view>
#include <utility>

namespace ipckit::detail {

namespace {

constexpr long kMqueueMagic = 0x19800202;  // MQUEUE_MAGIC (linux/magic.h)
constexpr std::string_view kSemPrefix = "sem.";

bool is_mqueue_mounted() {
    struct statfs sfs {};
    auto r = sys::call("statfs", kMqueueDir, [&] { return ::statfs(kMqueueDir, &sfs); });
    return r && static_cast<long>(sfs.f_type) == kMqueueMagic;
}

/// "QSIZE:129  NOTIFY:0  SIGNO:0  NOTIFY_PID:0" (mq_overview(7)).
void parse_qsize_line(IpcObjectInfo& o, std::string_view text) {
    for (auto token : split_ws(text)) {
        const auto colon = token.find(':');
        if (colon == std::string_view::npos) {
            continue;
        }
        const auto key = token.substr(0, colon);
        const auto value = token.substr(colon + 1);
        if (key == "QSIZE") {
            o.size = to_number<std::uint64_t>(value);  // unparsable: unknown, never 0
        } else if (key == "NOTIFY_PID") {
            const auto pid = to_number<pid_t>(value).value_or(0);
            if (pid > 0) {
                o.notify_pid = pid;
            }
        }
    }
}

/// The value of a glibc named semaphore, read with pread (never mapped): on 64-bit glibc a sem_t
/// starts with a 64-bit word whose low 32 bits are the value and high 32 bits the waiters.
void read_sem_value(IpcObjectInfo& o) {
    static_assert(sizeof(void*) == 8, "the sem_t layout read here is 64-bit glibc's");
    auto opened = sys::call("open", o.path, [&] {
        return ::open(o.path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    });
    if (!opened) {
        o.notes.push_back(opened.error().message());
        return;
    }
    const UniqueFd fd(*opened);
    std::uint64_t word = 0;
    auto n = sys::call("pread", o.path, [&] { return ::pread(fd.get(), &word, sizeof word, 0); });
    if (!n || *n != static_cast<ssize_t>(sizeof word)) {
        o.notes.emplace_back("semaphore file is shorter than a sem_t");
        return;
    }
    o.sem_value = static_cast<long>(word & 0xffffffffU);
    o.sem_waiters = static_cast<long>(word >> 32);
}

}  // namespace

Result<void> ensure_mqueue_listable() {
    if (is_mqueue_mounted()) {
        return {};
    }
    if (::geteuid() != 0) {
        return Error(std::errc::operation_not_permitted,
                     "list POSIX queues",
                     kMqueueDir,
                     "POSIX queues cannot be listed: mqueue fs not mounted on /dev/mqueue (as "
                     "root: mount -t mqueue none /dev/mqueue)");
    }
    (void)sys::call("mkdir", kMqueueDir, [] { return ::mkdir(kMqueueDir, 0755); });
    auto m = sys::call(
        "mount", kMqueueDir, [] { return ::mount("mqueue", kMqueueDir, "mqueue", 0, nullptr); });
    if (!m) {
        return m.error().with_detail("POSIX queues cannot be listed: mqueue fs not mounted");
    }
    return {};
}

void read_mq_attributes(IpcObjectInfo& o) {
    auto name = PosixName::make(o.name);
    if (!name) {
        o.notes.push_back(name.error().message());
        return;
    }
    // Read-only: reading the attributes never consumes a message. Any owner: looking is not
    // trusting, and the listing shows every queue the kernel lets us open.
    auto q = PosixMq::open(*name, Access::ReadOnly, Ownership::any());
    if (!q) {
        o.notes.push_back(q.error().message());
        return;
    }
    if (auto a = q->attributes()) {
        o.messages = static_cast<std::uint64_t>(a->current_messages);
        o.max_messages = a->max_messages;
        o.max_message_size = a->max_message_size;
    }
    struct stat st {};
    if (o.path.empty() && ::fstat(q->native_handle(), &st) == 0) {
        fill_from_stat(o, st);
        o.size.reset();  // QSIZE lives in the /dev/mqueue file we could not read
    }
}

namespace {

/// Adds the object file `entry` of `dir` holds, if the filter wants it; returns its index.
std::optional<std::size_t> add_file_object(const std::string& dir,
                                           const std::string& entry,
                                           bool posix_objects,
                                           const InventoryFilter& filter,
                                           std::vector<IpcObjectInfo>& out,
                                           Targets& targets) {
    IpcObjectInfo o;
    if (auto chan = channel_of_file(dir, entry)) {
        o = std::move(*chan);
    } else if (auto ev = event_of_file(dir, entry)) {
        o = std::move(*ev);
    } else if (auto srv = service_of_file(dir, entry)) {
        o = std::move(*srv);
    } else if (!posix_objects) {
        return std::nullopt;
    } else if (entry.starts_with(kSemPrefix)) {
        o.kind = IpcObjectKind::PosixSem;
        o.name = "/" + entry.substr(kSemPrefix.size());
        o.uri = "sem:" + o.name;
    } else {
        o.kind = IpcObjectKind::PosixShm;
        o.name = "/" + entry;
        o.uri = "shm:" + o.name;
    }
    if (!wants(filter, o.kind) || !name_matches(o.name, filter.prefix)) {
        return std::nullopt;
    }
    o.path = dir;
    o.path += '/';
    o.path += entry;
    auto st = stat_nofollow(o.path);
    if (!st || !S_ISREG(st->st_mode)) {
        return std::nullopt;  // vanished (C10), or a directory/symlink no shm_open would accept
    }
    fill_from_stat(o, *st);
    if (o.kind == IpcObjectKind::PosixSem) {
        read_sem_value(o);
    } else if (o.kind == IpcObjectKind::Channel) {
        read_channel(o, dir);
    } else if (o.kind == IpcObjectKind::Event) {
        read_event(o, dir);
    } else if (o.kind == IpcObjectKind::Service) {
        read_service(o, dir);
    }
    targets[{st->st_dev, st->st_ino}].push_back(out.size());
    out.push_back(std::move(o));
    return out.size() - 1;
}

}  // namespace

void scan_shm_dir(const std::string& dir,
                  bool posix_objects,
                  const InventoryFilter& filter,
                  std::vector<IpcObjectInfo>& out,
                  Targets& targets) {
    const bool services = wants(filter, IpcObjectKind::Service);
    std::map<std::string, std::size_t> service_rows;                 // NAME -> index in out
    std::vector<std::pair<std::string, std::string>> service_files;  // channel file, NAME
    for (const std::string& entry : list_dir(dir)) {
        if (auto owner = services ? service_of_channel_file(entry) : std::nullopt) {
            service_files.emplace_back(entry, std::move(*owner));
            continue;
        }
        auto index = add_file_object(dir, entry, posix_objects, filter, out, targets);
        if (index && out[*index].kind == IpcObjectKind::Service) {
            service_rows[out[*index].name] = *index;
        }
    }
    // A listed service's channels are part of its row (its users map them); the channels of
    // a service with no record are ordinary channels, so that they can still be seen and removed.
    for (const auto& [entry, owner] : service_files) {
        const auto row = service_rows.find(owner);
        if (row == service_rows.end()) {
            (void)add_file_object(dir, entry, posix_objects, filter, out, targets);
            continue;
        }
        std::string path = dir;
        path += '/';
        path += entry;
        auto st = stat_nofollow(path);
        if (!st || !S_ISREG(st->st_mode)) {
            continue;
        }
        IpcObjectInfo& o = out[row->second];
        targets[{st->st_dev, st->st_ino}].push_back(row->second);
        o.size = o.size.value_or(0) + static_cast<std::uint64_t>(st->st_size);
        if (o.service) {
            o.service->files.push_back(entry);
        }
    }
}

void scan_mqueue(const InventoryFilter& filter, std::vector<IpcObjectInfo>& out, Targets& targets) {
    for (const std::string& entry : list_dir(kMqueueDir)) {
        IpcObjectInfo o;
        o.kind = IpcObjectKind::PosixMq;
        o.name = "/" + entry;
        o.uri = "mq:" + o.name;
        if (!name_matches(o.name, filter.prefix)) {
            continue;
        }
        o.path = std::string(kMqueueDir) + "/" + entry;
        auto st = stat_nofollow(o.path);
        if (!st) {
            continue;
        }
        fill_from_stat(o, *st);
        o.size.reset();  // st_size means nothing here: QSIZE, if we may read it
        if (auto text = read_small_file(o.path)) {
            parse_qsize_line(o, *text);
        } else if (!stat_nofollow(o.path)) {
            continue;  // vanished (C10)
        } else {
            o.notes.push_back("read " + o.path + ": no permission (QSIZE and NOTIFY_PID unknown)");
        }
        read_mq_attributes(o);
        targets[{st->st_dev, st->st_ino}].push_back(out.size());
        out.push_back(std::move(o));
    }
}

}  // namespace ipckit::detail
