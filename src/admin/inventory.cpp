// SPDX-License-Identifier: MIT
// The host-wide IPC inventory: /dev/mqueue, /dev/shm, /proc/sysvipc, /proc/*/{maps,fd}.
// Everything read here belongs to other processes and may change or vanish under us: every
// ENOENT between readdir and stat/open skips the entry (C10), and nothing is ever mapped (a
// semaphore's value is read with pread, so a truncated file cannot SIGBUS us).
#include "ipckit/admin/inventory.hpp"

#include "sys/syscall.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <mqueue.h>
#include <semaphore.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <sstream>

namespace ipckit {

namespace {

constexpr const char* kMqueueDir = "/dev/mqueue";
constexpr const char* kShmDir = "/dev/shm";
constexpr long kMqueueMagic = 0x19800202;  // MQUEUE_MAGIC (linux/magic.h)
constexpr std::string_view kSemPrefix = "sem.";

struct DirCloser {
    void operator()(DIR* d) const noexcept { ::closedir(d); }
};
using DirPtr = std::unique_ptr<DIR, DirCloser>;

DirPtr open_dir(const char* path) {
    auto d = sys::call_ptr<DIR*>("opendir", path, nullptr, [&] { return ::opendir(path); });
    return DirPtr(d ? *d : nullptr);
}

/// Names in a directory except "." and ".."; an unreadable directory is empty.
std::vector<std::string> list_dir(const char* path) {
    std::vector<std::string> names;
    DirPtr d = open_dir(path);
    if (!d) {
        return names;
    }
    while (const dirent* e = ::readdir(d.get())) {
        const std::string_view n(e->d_name);
        if (n != "." && n != "..") {
            names.emplace_back(n);
        }
    }
    return names;
}

std::optional<struct stat> stat_nofollow(const std::string& path) {
    struct stat st {};
    auto r = sys::call("lstat", path, [&] { return ::lstat(path.c_str(), &st); });
    if (!r) {
        return std::nullopt;
    }
    return st;
}

/// Reads a small file whole (procfs, mqueue files), or the error that stopped it.
Result<std::string> read_bounded_file(const std::string& path) {
    auto fd = sys::call("open", path, [&] {
        return ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    });
    if (!fd) {
        return std::move(fd).error();
    }
    std::string out;
    char buf[4096];
    for (;;) {
        auto n = sys::call("read", path, [&] { return ::read(*fd, buf, sizeof buf); });
        if (!n) {
            ::close(*fd);
            return std::move(n).error();
        }
        if (*n == 0) {
            break;
        }
        out.append(buf, static_cast<std::size_t>(*n));
        if (out.size() > (std::size_t{16} << 20)) {
            break;  // refuse to buffer without bound (a huge maps file is cut, not trusted)
        }
    }
    ::close(*fd);
    return out;
}

/// read_bounded_file() where the reason does not matter: nullopt if it vanished or is unreadable.
std::optional<std::string> read_small_file(const std::string& path) {
    auto text = read_bounded_file(path);
    if (!text) {
        return std::nullopt;
    }
    return std::move(*text);
}

template <class T>
std::optional<T> to_number(std::string_view s) {
    T v{};
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size()) {
        return std::nullopt;
    }
    return v;
}

std::vector<std::string_view> split_ws(std::string_view line) {
    std::vector<std::string_view> out;
    std::size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) {
            ++i;
        }
        const std::size_t start = i;
        while (i < line.size() && line[i] != ' ' && line[i] != '\t') {
            ++i;
        }
        if (i > start) {
            out.push_back(line.substr(start, i - start));
        }
    }
    return out;
}

/// One /proc/sysvipc table as rows of column name -> text.
std::vector<std::map<std::string, std::string>> read_sysvipc(const char* which) {
    std::vector<std::map<std::string, std::string>> rows;
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
        std::map<std::string, std::string> row;
        for (std::size_t i = 0; i < header.size(); ++i) {
            row[header[i]] = std::string(fields[i]);
        }
        rows.push_back(std::move(row));
    }
    return rows;
}

template <class T>
std::optional<T> field(const std::map<std::string, std::string>& row, const char* name) {
    auto it = row.find(name);
    if (it == row.end()) {
        return std::nullopt;
    }
    return to_number<T>(it->second);
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

bool wants(const InventoryFilter& f, IpcObjectKind k) {
    return f.kinds.empty() || std::find(f.kinds.begin(), f.kinds.end(), k) != f.kinds.end();
}

bool is_mqueue_mounted() {
    struct statfs sfs {};
    auto r = sys::call("statfs", kMqueueDir, [&] { return ::statfs(kMqueueDir, &sfs); });
    return r && static_cast<long>(sfs.f_type) == kMqueueMagic;
}

/// F31: mounts the mqueue fs when we may; otherwise says plainly why queues cannot be listed.
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

void fill_from_stat(IpcObjectInfo& o, const struct stat& st) {
    o.uid = st.st_uid;
    o.gid = st.st_gid;
    o.mode = st.st_mode & 07777;
    o.size = static_cast<std::uint64_t>(st.st_size);
    o.access_time = st.st_atim.tv_sec;
    o.modify_time = st.st_mtim.tv_sec;
    o.change_time = st.st_ctim.tv_sec;
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

/// mq_getattr through a read-only, non-blocking open: never consumes a message.
void read_mq_attributes(IpcObjectInfo& o) {
    auto q = sys::call("mq_open", o.name, [&] {
        return ::mq_open(o.name.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    });
    if (!q) {
        o.notes.push_back(q.error().message());
        return;
    }
    mq_attr attr{};
    if (auto r = sys::call("mq_getattr", o.name, [&] { return ::mq_getattr(*q, &attr); })) {
        o.messages = static_cast<std::uint64_t>(attr.mq_curmsgs);
        o.max_messages = attr.mq_maxmsg;
        o.max_message_size = attr.mq_msgsize;
    }
    struct stat st {};
    if (o.path.empty() && ::fstat(*q, &st) == 0) {
        fill_from_stat(o, st);
        o.size.reset();  // QSIZE lives in the /dev/mqueue file we could not read
    }
    ::mq_close(*q);
}

/// The value of a glibc named semaphore, read with pread (never mapped): on 64-bit glibc a sem_t
/// starts with a 64-bit word whose low 32 bits are the value and high 32 bits the waiters.
void read_sem_value(IpcObjectInfo& o) {
    static_assert(sizeof(void*) == 8, "the sem_t layout read here is 64-bit glibc's");
    auto fd = sys::call("open", o.path, [&] {
        return ::open(o.path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    });
    if (!fd) {
        o.notes.push_back(fd.error().message());
        return;
    }
    std::uint64_t word = 0;
    auto n = sys::call("pread", o.path, [&] { return ::pread(*fd, &word, sizeof word, 0); });
    ::close(*fd);
    if (!n || *n != static_cast<ssize_t>(sizeof word)) {
        o.notes.emplace_back("semaphore file is shorter than a sem_t");
        return;
    }
    o.sem_value = static_cast<long>(word & 0xffffffffU);
    o.sem_waiters = static_cast<long>(word >> 32);
}

void read_sysv_sem_details(IpcObjectInfo& o, bool values) {
    if (!o.nsems || *o.nsems <= 0) {
        return;
    }
    const int n = *o.nsems;
    for (int i = 0; i < n; ++i) {
        auto pid = sys::call("semctl GETPID", o.name, [&] { return ::semctl(o.id, i, GETPID); });
        if (!pid) {
            o.notes.push_back(pid.error().message());
            o.sem_pids.clear();
            o.users_known = false;  // neither its last users nor its waiters could be read
            break;
        }
        o.sem_pids.push_back(*pid);
        auto ncnt = sys::call("semctl GETNCNT", o.name, [&] { return ::semctl(o.id, i, GETNCNT); });
        auto zcnt = sys::call("semctl GETZCNT", o.name, [&] { return ::semctl(o.id, i, GETZCNT); });
        o.sem_waiters = o.sem_waiters.value_or(0) + (ncnt ? *ncnt : 0) + (zcnt ? *zcnt : 0);
        if (values) {
            auto v = sys::call("semctl GETVAL", o.name, [&] { return ::semctl(o.id, i, GETVAL); });
            if (v) {
                o.sem_values.push_back(*v);
            }
        }
    }
}

using FileId = std::pair<dev_t, ino_t>;

/// (key, shmid) of a System V segment, as /proc/PID/maps names it: "/SYSV<key, 8 hex digits>
/// (deleted)", with the shmid as the inode number.
using SegmentId = std::pair<key_t, int>;

/// What one process uses, from /proc/PID/maps and /proc/PID/fd.
struct ProcessFiles {
    std::vector<FileId> files;        ///< mapped or open, by (device, inode)
    std::vector<SegmentId> segments;  ///< attached System V segments
    bool hidden = false;              ///< maps or fd could not be read: not ours to examine
};

/// An error reading /proc/PID/...: ENOENT/ESRCH mean the process is gone (nothing to see);
/// anything else (EACCES for another user's process when we are not root) means we could not
/// look.
bool could_not_look(const Error& e) {
    return e.code() != std::errc::no_such_file_or_directory &&
           e.code() != std::errc::no_such_process;
}

/// "/SYSV0000abcd (deleted)" -> the key; nullopt for any other path.
std::optional<key_t> sysv_segment_key(const std::vector<std::string_view>& fields) {
    constexpr std::string_view kSysv = "/SYSV";
    if (fields.size() != 7 || fields[6] != "(deleted)" || !fields[5].starts_with(kSysv) ||
        fields[5].size() != kSysv.size() + 8) {
        return std::nullopt;
    }
    std::uint32_t key = 0;
    const std::string_view hex = fields[5].substr(kSysv.size());
    auto [p, ec] = std::from_chars(hex.data(), hex.data() + hex.size(), key, 16);
    if (ec != std::errc() || p != hex.data() + hex.size()) {
        return std::nullopt;
    }
    return static_cast<key_t>(key);
}

/// Every file-backed mapping in /proc/PID/maps ("... fd:01 1234 /path"); System V segments
/// separately, by key and shmid.
void read_mapped_files(const std::string& proc_dir, ProcessFiles& out) {
    auto maps = read_bounded_file(proc_dir + "/maps");
    if (!maps) {
        out.hidden = out.hidden || could_not_look(maps.error());
        return;
    }
    std::istringstream in(*maps);
    std::string line;
    while (std::getline(in, line)) {
        auto f = split_ws(line);
        if (f.size() < 6) {
            continue;  // anonymous mapping
        }
        const auto colon = f[3].find(':');
        const auto ino = to_number<ino_t>(f[4]);
        if (colon == std::string_view::npos || !ino || *ino == 0) {
            continue;
        }
        if (auto key = sysv_segment_key(f)) {
            if (*ino <= static_cast<ino_t>(std::numeric_limits<int>::max())) {
                out.segments.emplace_back(*key, static_cast<int>(*ino));
            }
            continue;
        }
        unsigned maj = 0;
        unsigned min = 0;
        std::from_chars(f[3].data(), f[3].data() + colon, maj, 16);
        std::from_chars(f[3].data() + colon + 1, f[3].data() + f[3].size(), min, 16);
        out.files.emplace_back(makedev(maj, min), *ino);
    }
}

/// (device, inode) of every descriptor in /proc/PID/fd (stat follows the magic link).
void read_open_files(const std::string& proc_dir, ProcessFiles& out) {
    const std::string fd_dir = proc_dir + "/fd";
    auto opened =
        sys::call_ptr<DIR*>("opendir", fd_dir, nullptr, [&] { return ::opendir(fd_dir.c_str()); });
    if (!opened) {
        out.hidden = out.hidden || could_not_look(opened.error());
        return;
    }
    const DirPtr dir(*opened);
    while (const dirent* e = ::readdir(dir.get())) {
        const std::string_view fd(e->d_name);
        if (fd == "." || fd == "..") {
            continue;
        }
        struct stat st {};
        std::string link = fd_dir;
        link += '/';
        link += fd;
        if (::stat(link.c_str(), &st) == 0) {  // failure: closed meanwhile
            out.files.emplace_back(st.st_dev, st.st_ino);
        }
    }
}

/// True for a process that cannot hold an IPC object: a kernel thread (PF_KTHREAD) or a zombie.
/// /proc/PID/stat is readable whoever owns the process.
bool holds_nothing(const std::string& proc_dir) {
    constexpr unsigned long kPfKthread = 0x00200000;  // PF_KTHREAD (linux/sched.h)
    auto stat = read_small_file(proc_dir + "/stat");
    if (!stat) {
        return true;  // gone
    }
    const auto paren = stat->rfind(')');  // the command may itself contain ") "
    if (paren == std::string::npos) {
        return false;
    }
    const auto f = split_ws(std::string_view(*stat).substr(paren + 1));
    if (f.size() < 7) {
        return false;
    }
    const auto flags = to_number<unsigned long>(f[6]);
    return f[0] == "Z" || f[0] == "X" || (flags && (*flags & kPfKthread) != 0);
}

using Targets = std::map<FileId, std::vector<std::size_t>>;
using Segments = std::map<SegmentId, std::size_t>;

/// Adds `pid` to the users of every object in `targets` or `segments` that `pf` maps or holds.
void note_users(pid_t pid,
                const ProcessFiles& pf,
                const Targets& targets,
                const Segments& segments,
                std::vector<std::set<pid_t>>& users) {
    for (const FileId& id : pf.files) {
        if (auto it = targets.find(id); it != targets.end()) {
            for (std::size_t i : it->second) {
                users[i].insert(pid);
            }
        }
    }
    for (const SegmentId& seg : pf.segments) {
        if (auto it = segments.find(seg); it != segments.end()) {
            users[it->second].insert(pid);
        }
    }
}

/// Fills IpcObjectInfo::users from /proc/*/maps (mappings, System V attaches) and /proc/*/fd
/// (open descriptors). `targets` are the POSIX objects and channels by (device, inode). When we
/// are not root and a process that might hold one of them could not be examined (another
/// user's), their users are unknown. Root is taken to see every process: a process even root
/// may not examine (a sandbox supervisor holding capabilities root lacks) is not counted.
void scan_users(std::vector<IpcObjectInfo>& objects, const Targets& targets) {
    Segments segments;
    for (std::size_t i = 0; i < objects.size(); ++i) {
        if (objects[i].kind == IpcObjectKind::SysvShm && objects[i].id >= 0) {
            segments[{objects[i].key.value_or(0), objects[i].id}] = i;
        }
    }
    if (targets.empty() && segments.empty()) {
        return;
    }
    const pid_t self = ::getpid();
    const bool root = ::geteuid() == 0;
    std::vector<std::set<pid_t>> users(objects.size());
    bool hidden = false;
    for (const std::string& entry : list_dir("/proc")) {
        const auto pid = to_number<pid_t>(entry);
        if (!pid || *pid == self) {
            continue;
        }
        const std::string proc_dir = "/proc/" + entry;
        ProcessFiles pf;
        read_mapped_files(proc_dir, pf);
        read_open_files(proc_dir, pf);
        note_users(*pid, pf, targets, segments, users);
        // Once one process is hidden, every target's users are unknown: no need to ask again.
        hidden = hidden || (!root && pf.hidden && !holds_nothing(proc_dir));
    }
    for (std::size_t i = 0; i < objects.size(); ++i) {
        objects[i].users.assign(users[i].begin(), users[i].end());
    }
    // A System V segment's attach count is the kernel's own: only the users of POSIX objects
    // and channels, found through /proc alone, become unknown.
    if (!hidden) {
        return;
    }
    for (const auto& [id, indexes] : targets) {
        for (std::size_t i : indexes) {
            objects[i].users_known = false;
        }
    }
}

/// Header and participants of a channel file (Channel::inspect bounds-checks what it reads).
void read_channel(IpcObjectInfo& o, const std::string& dir) {
    ChannelOptions co;
    co.dir = dir;
    co.init_wait = std::chrono::milliseconds(50);  // a listing does not wait for a creator
    auto info = Channel::inspect(o.name, co);
    if (!info) {
        o.notes.push_back(info.error().message());
        return;
    }
    o.channel = std::move(*info);
}

void scan_shm_dir(const std::string& dir,
                  bool posix_objects,
                  const InventoryFilter& filter,
                  std::vector<IpcObjectInfo>& out,
                  std::map<std::pair<dev_t, ino_t>, std::vector<std::size_t>>& targets) {
    for (const std::string& entry : list_dir(dir.c_str())) {
        IpcObjectInfo o;
        if (entry.size() > kChannelFileSuffix.size() && entry.ends_with(kChannelFileSuffix)) {
            o.kind = IpcObjectKind::Channel;
            o.name = entry.substr(0, entry.size() - kChannelFileSuffix.size());
            o.uri = "chan:" + o.name;
            if (dir != kShmDir) {
                o.uri += "?dir=" + dir;
            }
        } else if (!posix_objects) {
            continue;
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
            continue;
        }
        o.path = dir;
        o.path += '/';
        o.path += entry;
        auto st = stat_nofollow(o.path);
        if (!st || !S_ISREG(st->st_mode)) {
            continue;  // vanished (C10), or a directory/symlink no shm_open would accept
        }
        fill_from_stat(o, *st);
        if (o.kind == IpcObjectKind::PosixSem) {
            read_sem_value(o);
        } else if (o.kind == IpcObjectKind::Channel) {
            read_channel(o, dir);
        }
        targets[{st->st_dev, st->st_ino}].push_back(out.size());
        out.push_back(std::move(o));
    }
}

void scan_mqueue(const InventoryFilter& filter,
                 std::vector<IpcObjectInfo>& out,
                 std::map<std::pair<dev_t, ino_t>, std::vector<std::size_t>>& targets) {
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

std::optional<pid_t> nonzero_pid(std::optional<pid_t> p) {
    if (p && *p > 0) {
        return p;
    }
    return std::nullopt;
}

void fill_sysv_common(IpcObjectInfo& o,
                      const std::map<std::string, std::string>& row,
                      const char* id_column) {
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
        msqid_ds ds{};
        if (sys::call("msgctl", o.name, [&] { return ::msgctl(o.id, IPC_STAT, &ds); })) {
            o.max_bytes = ds.msg_qbytes;
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

void scan_sysv_sem(const InventoryFilter& filter, bool details, std::vector<IpcObjectInfo>& out) {
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
        read_sysv_sem_details(o, details);
        out.push_back(std::move(o));
    }
}

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
        o.state = Inventory::classify(o);
        o.stale = o.state == ObjectState::Stale;
    }
}

Result<std::vector<IpcObjectInfo>> scan_impl(const InventoryFilter& filter,
                                             bool details,
                                             Inventory& inv) {
    std::vector<IpcObjectInfo> objects;
    std::map<std::pair<dev_t, ino_t>, std::vector<std::size_t>> targets;
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
    if (posix || wants(filter, IpcObjectKind::Channel)) {
        scan_shm_dir(kShmDir, posix, filter, objects, targets);
    }
    const std::string chan_dir = channel_directory();
    if (wants(filter, IpcObjectKind::Channel) && chan_dir != kShmDir) {
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
    scan_users(objects, targets);
    finish(objects);
    return objects;
}

}  // namespace

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
                   IpcObjectKind::Channel}) {
        if (kind_name(k) == name) {
            return k;
        }
    }
    return std::nullopt;
}

bool process_alive(pid_t pid) noexcept {
    if (pid <= 0) {
        return false;
    }
    // EPERM means it exists but is not ours: alive. Only ESRCH means gone.
    auto r = sys::call("kill", "", [&] { return ::kill(pid, 0); });
    return r || r.error().code() != std::errc::no_such_process;
}

std::string channel_directory() {
    const char* env = std::getenv("IPCKIT_SHM_DIR");  // NOLINT(concurrency-mt-unsafe): CLI use
    if (env != nullptr && env[0] == '/') {
        std::string d(env);
        while (d.size() > 1 && d.back() == '/') {
            d.pop_back();
        }
        return d;
    }
    return kShmDir;
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

Result<Inventory> Inventory::scan(const InventoryFilter& filter) {
    Inventory inv;
    auto objects = scan_impl(filter, /*details=*/false, inv);
    if (!objects) {
        return std::move(objects).error();
    }
    inv.objects = std::move(*objects);
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
    auto target = target_of(uri);
    if (!target) {
        return std::move(target).error();
    }
    const Target& t = *target;
    if (t.chan != nullptr && t.chan->dir && *t.chan->dir != channel_directory()) {
        return find_channel_in(*t.chan->dir, *t.chan, uri);
    }
    InventoryFilter filter;
    filter.kinds = {t.kind};
    std::optional<key_t> key;
    if (t.sysv != nullptr && t.sysv->kind != SysvAddress::Kind::Id) {
        auto k = t.sysv->resolve_key();
        if (!k) {
            return std::move(k).error();
        }
        if (k->is_private()) {
            return Error(std::errc::invalid_argument,
                         "find",
                         uri.text(),
                         "'private' names no existing object; address it as id:ID");
        }
        key = k->value();
    } else if (t.sysv == nullptr) {
        filter.prefix = t.exact_name;
    }
    Inventory inv;
    auto objects = scan_impl(filter, details, inv);
    if (!objects) {
        return std::move(objects).error();
    }
    const auto matches = [&](const IpcObjectInfo& o) {
        if (t.sysv == nullptr) {
            return o.name == t.exact_name;
        }
        return key ? (o.key && *o.key == *key) : o.id == t.sysv->id;
    };
    for (IpcObjectInfo& o : *objects) {
        if (matches(o)) {
            return std::optional<IpcObjectInfo>(std::move(o));
        }
    }
    if (t.kind == IpcObjectKind::PosixMq && !inv.unlisted.empty()) {
        return find_unlisted_mq(t.exact_name, inv.warnings.front());
    }
    return std::optional<IpcObjectInfo>();
}

Result<void> Inventory::remove(const IpcObjectInfo& o) {
    Result<int> r = 0;
    switch (o.kind) {
        case IpcObjectKind::PosixMq:
            r = sys::call("mq_unlink", o.name, [&] { return ::mq_unlink(o.name.c_str()); });
            break;
        case IpcObjectKind::PosixShm:
            r = sys::call("shm_unlink", o.name, [&] { return ::shm_unlink(o.name.c_str()); });
            break;
        case IpcObjectKind::PosixSem:
            r = sys::call("sem_unlink", o.name, [&] { return ::sem_unlink(o.name.c_str()); });
            break;
        case IpcObjectKind::Channel: {
            ChannelOptions co;
            co.dir = o.path.substr(0, o.path.rfind('/'));
            if (auto removed = Channel::remove(o.name, co); !removed) {
                if (removed.error().code() == std::errc::no_such_file_or_directory) {
                    return Error(
                        std::errc::no_such_file_or_directory, "remove", o.uri, "no such object");
                }
                return std::move(removed).error();
            }
            break;
        }
        case IpcObjectKind::SysvMsg:
            r = sys::call("msgctl IPC_RMID", "id " + std::to_string(o.id), [&] {
                return ::msgctl(o.id, IPC_RMID, nullptr);
            });
            break;
        case IpcObjectKind::SysvShm:
            r = sys::call("shmctl IPC_RMID", "id " + std::to_string(o.id), [&] {
                return ::shmctl(o.id, IPC_RMID, nullptr);
            });
            break;
        case IpcObjectKind::SysvSem:
            r = sys::call("semctl IPC_RMID", "id " + std::to_string(o.id), [&] {
                return ::semctl(o.id, 0, IPC_RMID);
            });
            break;
    }
    if (!r) {
        const auto& e = r.error();
        // A System V id that is gone (or reused for nothing) answers EINVAL/EIDRM.
        if (e.code() == std::errc::invalid_argument || e.code() == std::errc::identifier_removed) {
            return Error(std::errc::no_such_file_or_directory, "remove", o.uri, "no such object");
        }
        return e;
    }
    return {};
}

}  // namespace ipckit
