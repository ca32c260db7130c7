// SPDX-License-Identifier: MIT
// Who uses each object: /proc/*/maps (mappings, System V attaches) and /proc/*/fd (open
// descriptors), and whether a process is alive. A process may exit while we read it: its
// vanished files mean "gone", only a refusal (EACCES) means "could not look".
#include "admin/host_files.hpp"
#include "admin/scanners.hpp"
#include "sys/syscall.hpp"

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <charconv>
#include <csignal>
#include <cstdint>
#include <limits>
#include <set>
#include <sstream>

namespace ipckit {

namespace detail {

namespace {

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
    auto fds = read_dir(fd_dir);
    if (!fds) {
        out.hidden = out.hidden || could_not_look(fds.error());
        return;
    }
    for (const std::string& fd : *fds) {
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

}  // namespace

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

}  // namespace detail

bool process_alive(pid_t pid) noexcept {
    if (pid <= 0) {
        return false;
    }
    // EPERM means it exists but is not ours: alive. Only ESRCH means gone.
    auto r = sys::call("kill", "", [&] { return ::kill(pid, 0); });
    return r || r.error().code() != std::errc::no_such_process;
}

}  // namespace ipckit
