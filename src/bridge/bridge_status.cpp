// SPDX-License-Identifier: MIT
// Status files of running bridges (include/ipckit/bridge/bridge_status.hpp): the writer a Bridge
// refreshes from its status thread, and the reader `ipckit bridges` uses. One fixed-size binary
// record per file, written whole with one pwrite; a reader validates everything it reads.
#include "ipckit/bridge/bridge_status.hpp"

#include "bridge/bridge_side.hpp"
#include "ipckit/core/unique_fd.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>

namespace ipckit {

namespace detail {

namespace {

constexpr std::array<char, 8> kMagic{'i', 'p', 'k', 'b', 'r', 'd', 'g', '1'};
constexpr std::size_t kUriMax = 1024;

/// The file's layout (native byte order: it never leaves the host).
struct StatusRecord {
    std::array<char, 8> magic{};
    std::uint32_t size = 0;
    std::int32_t pid = 0;
    std::uint64_t start_ticks = 0;  ///< the process's start time: a reused pid has another
    std::uint64_t seq = 0;          ///< equal to seq_end in a record written whole
    std::uint64_t reconnects = 0;
    std::array<std::array<std::uint64_t, 3>, 2> counters{};  ///< [direction][relayed, dropped, gaps]
    std::array<char, kUriMax> from{};
    std::array<char, kUriMax> to{};
    std::uint64_t seq_end = 0;
};

std::error_code last_error() {
    return {errno, std::system_category()};
}

/// Field 22 of /proc/PID/stat (starttime, clock ticks since boot), 0 when unreadable.
std::uint64_t start_ticks(pid_t pid) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(f, line)) {
        return 0;
    }
    const std::size_t paren = line.rfind(')');  // the command name may hold blanks and ')'
    if (paren == std::string::npos) {
        return 0;
    }
    std::istringstream rest(line.substr(paren + 1));
    std::string field;
    for (int i = 3; i <= 22 && (rest >> field); ++i) {
        if (i == 22) {
            return std::strtoull(field.c_str(), nullptr, 10);
        }
    }
    return 0;
}

void copy_text(std::array<char, kUriMax>& to, const std::string& from) {
    const std::size_t n = std::min(from.size(), to.size() - 1);
    std::memcpy(to.data(), from.data(), n);
    to.at(n) = '\0';
}

/// Creates `dir` and its missing parents (0700); the last must then be a directory of ours that
/// nobody else can write to.
Result<void> make_private_dir(const std::string& dir) {
    for (std::size_t pos = 1; pos <= dir.size(); ++pos) {
        if (pos == dir.size() || dir[pos] == '/') {
            const std::string part = dir.substr(0, pos);
            if (::mkdir(part.c_str(), 0700) != 0 && errno != EEXIST) {
                return Error(last_error(), "mkdir", part);
            }
        }
    }
    struct stat st {};
    if (::lstat(dir.c_str(), &st) != 0) {
        return Error(last_error(), "stat", dir);
    }
    if (!S_ISDIR(st.st_mode) || st.st_uid != ::geteuid() || (st.st_mode & 0022) != 0) {
        return Error(std::errc::permission_denied,
                     "bridge status",
                     dir,
                     "not a directory of this user that only it can write to");
    }
    return {};
}

std::atomic<unsigned> g_status_files{0};

/// A status file is bridge-PID-N.stat: N counts the process's bridges from 0.
constexpr std::string_view kStatusFilePrefix = "bridge-";
constexpr std::string_view kStatusFileSuffix = ".stat";

}  // namespace

/// The status file of one running bridge.
class StatusWriter {
public:
    StatusWriter(int fd, std::string path, const std::string& from, const std::string& to)
        : fd_(fd), path_(std::move(path)) {
        rec_.magic = kMagic;
        rec_.size = sizeof(StatusRecord);
        rec_.pid = ::getpid();
        rec_.start_ticks = start_ticks(::getpid());
        copy_text(rec_.from, from);
        copy_text(rec_.to, to);
    }
    StatusWriter(const StatusWriter&) = delete;
    StatusWriter& operator=(const StatusWriter&) = delete;
    StatusWriter(StatusWriter&&) = delete;
    StatusWriter& operator=(StatusWriter&&) = delete;
    ~StatusWriter() {
        ::unlink(path_.c_str());
        ::close(fd_);
    }

    void update(const BridgeShared& s) {
        rec_.reconnects = s.reconnects.load(std::memory_order_relaxed);
        for (std::size_t d = 0; d < 2; ++d) {
            const DirectionCounters& c = s.dirs.at(d);
            rec_.counters.at(d) = {c.relayed.load(std::memory_order_relaxed),
                                   c.dropped.load(std::memory_order_relaxed),
                                   c.gaps.load(std::memory_order_relaxed)};
        }
        ++rec_.seq;
        rec_.seq_end = rec_.seq;
        (void)::pwrite(fd_, &rec_, sizeof rec_, 0);  // best effort: a status, not the data
    }

private:
    int fd_;
    std::string path_;
    StatusRecord rec_;
};

void StatusWriterDeleter::operator()(StatusWriter* p) const noexcept {
    delete p;  // NOLINT(cppcoreguidelines-owning-memory): the deleter of StatusWriterPtr
}

Result<StatusWriterPtr> open_status(const std::string& dir,
                                    const std::string& from,
                                    const std::string& to) {
    IPCKIT_TRY(make_private_dir(dir));
    const std::string path =
        dir + "/" + std::string(kStatusFilePrefix) + std::to_string(::getpid()) + "-" +
        std::to_string(g_status_files.fetch_add(1)) + std::string(kStatusFileSuffix);
    const int fd =
        ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        return Error(last_error(), "open", path);
    }
    // NOLINTNEXTLINE(cppcoreguidelines-owning-memory): owned by the StatusWriterPtr at once
    StatusWriterPtr w(new StatusWriter(fd, path, from, to));
    return w;
}

void update_status(StatusWriter& w, const BridgeShared& s) {
    w.update(s);
}

namespace {

/// The record of the file `path`, or an empty optional when it is not a valid status file.
std::optional<StatusRecord> read_status_record(const std::string& path) {
    const UniqueFd owned(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
    const int fd = owned.get();
    if (fd < 0) {
        return std::nullopt;
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
        static_cast<std::size_t>(st.st_size) != sizeof(StatusRecord) ||
        (st.st_uid != ::geteuid() && st.st_uid != 0)) {
        return std::nullopt;
    }
    StatusRecord rec;
    for (int attempt = 0; attempt < 3; ++attempt) {  // a read across a write: read it again
        if (::pread(fd, &rec, sizeof rec, 0) != static_cast<ssize_t>(sizeof rec)) {
            return std::nullopt;
        }
        if (rec.seq == rec.seq_end) {
            break;
        }
    }
    if (rec.magic != kMagic || rec.size != sizeof(StatusRecord) || rec.pid <= 0 ||
        rec.seq != rec.seq_end) {
        return std::nullopt;
    }
    rec.from.back() = '\0';
    rec.to.back() = '\0';
    return rec;
}

bool status_pid_alive(pid_t pid, std::uint64_t ticks) {
    if (::kill(pid, 0) != 0 && errno != EPERM) {
        return false;
    }
    return ticks == 0 || start_ticks(pid) == ticks;
}

}  // namespace

}  // namespace detail

std::string bridge_status_dir() {
    if (const char* d = std::getenv("IPCKIT_RUNTIME_DIR"); d != nullptr && *d == '/') {
        return std::string(d) + "/bridges";
    }
    if (const char* d = std::getenv("XDG_RUNTIME_DIR"); d != nullptr && *d == '/') {
        return std::string(d) + "/ipckit/bridges";
    }
    return "/tmp/ipckit-" + std::to_string(::geteuid()) + "/bridges";
}

Result<std::vector<BridgeStatus>> list_bridges(const std::string& dir_option) {
    const std::string dir = dir_option.empty() ? bridge_status_dir() : dir_option;
    std::vector<BridgeStatus> out;
    const std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), &::closedir);
    if (!d) {
        if (errno == ENOENT) {
            return out;
        }
        return Error(detail::last_error(), "opendir", dir);
    }
    while (const dirent* e = ::readdir(d.get())) {
        const std::string_view file = e->d_name;
        if (!file.starts_with(detail::kStatusFilePrefix) ||
            !file.ends_with(detail::kStatusFileSuffix) ||
            file.size() < detail::kStatusFilePrefix.size() + detail::kStatusFileSuffix.size()) {
            continue;
        }
        std::string path = dir;
        path += '/';
        path += file;
        const auto rec = detail::read_status_record(path);
        if (!rec) {
            continue;
        }
        // bridge-PID-N.stat: "PID" for N = 0, else "PID-N".
        std::string_view name = file.substr(
            detail::kStatusFilePrefix.size(),
            file.size() - detail::kStatusFilePrefix.size() - detail::kStatusFileSuffix.size());
        if (name.ends_with("-0")) {
            name.remove_suffix(2);
        }
        BridgeStatus s;
        s.path = path;
        s.name = name;
        s.pid = rec->pid;
        s.alive = detail::status_pid_alive(rec->pid, rec->start_ticks);
        s.from = rec->from.data();
        s.to = rec->to.data();
        s.forward = {rec->counters[0][0], rec->counters[0][1], rec->counters[0][2]};
        s.back = {rec->counters[1][0], rec->counters[1][1], rec->counters[1][2]};
        s.reconnects = rec->reconnects;
        out.push_back(std::move(s));
    }
    return out;
}

Result<void> remove_bridge_status(const BridgeStatus& status) {
    const auto rec = detail::read_status_record(status.path);
    if (!rec) {
        return Error(std::errc::invalid_argument,
                     "bridge status",
                     status.path,
                     "not a bridge status file");
    }
    if (detail::status_pid_alive(rec->pid, rec->start_ticks)) {
        return Error(std::errc::device_or_resource_busy,
                     "bridge status",
                     status.path,
                     "the bridge (pid " + std::to_string(rec->pid) + ") is running");
    }
    if (::unlink(status.path.c_str()) != 0) {
        return Error(detail::last_error(), "unlink", status.path);
    }
    return {};
}

}  // namespace ipckit
