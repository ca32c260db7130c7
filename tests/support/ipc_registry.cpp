// SPDX-License-Identifier: MIT
#include "ipc_registry.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <mqueue.h>
#include <signal.h>
#include <semaphore.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

namespace ipckit::test {

namespace {

constexpr std::size_t kMaxEntries = 4096;
constexpr std::size_t kMaxName = 200;

struct Entry {
    std::atomic<int> state;  // 0 empty, 1 being written, 2 valid, 3 removed
    IpcKind kind;
    int id;        // SysV id, or -1
    key_t key;     // SysV key, or 0
    char name[kMaxName];
};

// Lives in a MAP_SHARED page created before the first fork, so a child's registrations are
// seen (and cleaned up) by the test process even if the child crashes.
struct Table {
    std::atomic<std::uint64_t> counter;
    std::atomic<std::size_t> used;
    Entry entries[kMaxEntries];
};

pid_t g_run_pid = 0;
Table* g_table = nullptr;

Table& table() {
    if (g_table == nullptr) {
        void* p = ::mmap(nullptr, sizeof(Table), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            std::perror("ipckit test registry: mmap");
            std::abort();
        }
        g_table = new (p) Table{};
        g_run_pid = ::getpid();
    }
    return *g_table;
}

void add_entry(IpcKind kind, std::string_view name, int id, key_t key) {
    Table& t = table();
    const std::size_t i = t.used.fetch_add(1);
    if (i >= kMaxEntries) {
        std::fprintf(stderr, "ipckit test registry full; raise kMaxEntries\n");
        std::abort();
    }
    Entry& e = t.entries[i];
    e.kind = kind;
    e.id = id;
    e.key = key;
    const std::size_t n = std::min(name.size(), kMaxName - 1);
    std::memcpy(e.name, name.data(), n);
    e.name[n] = '\0';
    e.state.store(2, std::memory_order_release);
}

/// Appends `line` to the run's tracking file `file` (IPCKIT_TEST_TRACK_DIR, set by ctest), which
/// the leak check reads: POSIX queue names, and the System V keys this run made.
void append_tracked_line(const char* file, std::string_view name) {
    const char* dir = std::getenv("IPCKIT_TEST_TRACK_DIR");
    if (dir == nullptr) {
        return;
    }
    const std::string path = std::string(dir) + "/" + file;
    const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0) {
        const std::string line = std::string(name) + "\n";
        // One write of < PIPE_BUF bytes with O_APPEND: lines from concurrent tests never interleave.
        [[maybe_unused]] auto n = ::write(fd, line.data(), line.size());
        ::close(fd);
    }
}

std::string run_prefix() { return std::string(kTestPrefix) + std::to_string(g_run_pid) + "-"; }

int sysv_id_for(IpcKind kind, key_t key) {
    switch (kind) {
        case IpcKind::SysvMsg:
            return ::msgget(key, 0);
        case IpcKind::SysvSem:
            return ::semget(key, 0, 0);
        case IpcKind::SysvShm:
            return ::shmget(key, 0, 0);
        default:
            return -1;
    }
}

void remove_sysv(IpcKind kind, int id) {
    switch (kind) {
        case IpcKind::SysvMsg:
            ::msgctl(id, IPC_RMID, nullptr);
            break;
        case IpcKind::SysvSem:
            ::semctl(id, 0, IPC_RMID);
            break;
        case IpcKind::SysvShm:
            ::shmctl(id, IPC_RMID, nullptr);
            break;
        default:
            break;
    }
}

void remove_entry(const Entry& e) {
    switch (e.kind) {
        case IpcKind::PosixShm:
            ::shm_unlink(e.name);
            break;
        case IpcKind::PosixMq:
            ::mq_unlink(e.name);
            break;
        case IpcKind::PosixSem:
            ::sem_unlink(e.name);
            break;
        case IpcKind::SysvMsg:
        case IpcKind::SysvSem:
        case IpcKind::SysvShm: {
            if (e.id >= 0) {
                remove_sysv(e.kind, e.id);
            }
            if (e.key != 0) {
                const int id = sysv_id_for(e.kind, e.key);
                if (id >= 0) {
                    remove_sysv(e.kind, id);
                }
            }
            break;
        }
        case IpcKind::Path:
            std::error_code ec;
            std::filesystem::remove_all(e.name, ec);
            break;
    }
}

void sweep_dir(const char* dir, std::string_view prefix, bool is_mqueue) {
    DIR* d = ::opendir(dir);
    if (d == nullptr) {
        return;
    }
    while (dirent* ent = ::readdir(d)) {
        std::string_view n = ent->d_name;
        std::string_view bare = n;
        if (bare.starts_with("sem.")) {
            bare.remove_prefix(4);
        }
        if (!bare.starts_with(prefix)) {
            continue;
        }
        if (is_mqueue) {
            ::mq_unlink(("/" + std::string(n)).c_str());
        } else {
            ::unlinkat(::dirfd(d), ent->d_name, 0);
        }
    }
    ::closedir(d);
}

bool is_mqueue_mounted() {
    struct statfs s{};
    constexpr long kMqueueMagic = 0x19800202;
    return ::statfs("/dev/mqueue", &s) == 0 && s.f_type == kMqueueMagic;
}

std::string g_run_dir;

class CleanupListener : public ::testing::EmptyTestEventListener {
    void OnTestEnd(const ::testing::TestInfo& /*info*/) override { cleanup_registered(); }
};

}  // namespace

std::string unique_name(IpcKind kind, std::string_view tag) {
    Table& t = table();
    const auto n = t.counter.fetch_add(1);
    std::string name = "/" + run_prefix() + std::to_string(n) + "-" + std::string(tag);
    add_entry(kind, name, -1, 0);
    if (kind == IpcKind::PosixMq) {
        append_tracked_line("mq-names", name);
    }
    return name;
}

key_t unique_sysv_key(IpcKind kind) {
    Table& t = table();
    const auto n = t.counter.fetch_add(1);
    // 0x7e prefix, 16 bits of pid, 8 bits of counter: distinct across concurrently running
    // test processes (ctest -j) unless pids collide modulo 65536.
    const auto key = static_cast<key_t>(0x7e000000U | ((static_cast<unsigned>(g_run_pid) & 0xffffU) << 8U) |
                                        (static_cast<unsigned>(n) & 0xffU));
    add_entry(kind, "", -1, key);
    append_tracked_line("sysv-keys", std::to_string(key));
    return key;
}

void track_sysv_id(IpcKind kind, int id) { add_entry(kind, "", id, 0); }

const std::string& run_dir() {
    if (g_run_dir.empty()) {
        table();
        g_run_dir = "/tmp/" + run_prefix() + "dir";
        ::mkdir(g_run_dir.c_str(), 0700);
        add_entry(IpcKind::Path, g_run_dir, -1, 0);
    }
    return g_run_dir;
}

std::string unique_path(std::string_view tag) {
    const std::string& dir = run_dir();
    const auto n = table().counter.fetch_add(1);
    return dir + "/" + std::to_string(n) + "-" + std::string(tag);
}

void cleanup_registered() {
    if (g_table == nullptr || ::getpid() != g_run_pid) {
        return;  // never from a forked child: it would remove the parent's live objects
    }
    Table& t = table();
    const std::size_t used = std::min(t.used.load(), kMaxEntries);
    for (std::size_t i = 0; i < used; ++i) {
        Entry& e = t.entries[i];
        if (e.state.load(std::memory_order_acquire) != 2) {
            continue;
        }
        if (e.kind == IpcKind::Path) {
            // The run directory is reused by later tests; empty it but keep it.
            std::error_code ec;
            for (const auto& p : std::filesystem::directory_iterator(e.name, ec)) {
                std::filesystem::remove_all(p.path(), ec);
            }
            continue;
        }
        remove_entry(e);
        e.state.store(3, std::memory_order_release);
    }
    sweep_dir("/dev/shm", run_prefix(), false);
    if (is_mqueue_mounted()) {
        sweep_dir("/dev/mqueue", run_prefix(), true);
    }
}

namespace {
struct AtExit {
    ~AtExit() {
        cleanup_registered();
        if (!g_run_dir.empty() && ::getpid() == g_run_pid) {
            std::error_code ec;
            std::filesystem::remove_all(g_run_dir, ec);
        }
    }
} g_at_exit;
}  // namespace

namespace {
// The key of a "sysv KIND:ID" entry, from /proc/sysvipc (-1 if it is gone).
long long sysv_key_of(const std::string& leak) {
    const std::string kind = leak.substr(5, 3);
    const long long id = std::atoll(leak.c_str() + 9);
    std::ifstream in("/proc/sysvipc/" + kind);
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        long long key = 0;
        long long got = 0;
        if ((fields >> key >> got) && got == id) {
            return key;
        }
    }
    return -1;
}
}  // namespace

bool is_test_sysv_key(const std::string& leak) {
    const long long key = sysv_key_of(leak);
    return key != -1 && (static_cast<unsigned long long>(key) & 0xff000000ULL) == 0x7e000000ULL;
}

std::vector<std::string> sysv_objects() {
    std::vector<std::string> out;
    const std::pair<const char*, const char*> files[] = {
        {"/proc/sysvipc/msg", "msg"}, {"/proc/sysvipc/sem", "sem"}, {"/proc/sysvipc/shm", "shm"}};
    for (const auto& [path, kind] : files) {
        std::ifstream in(path);
        std::string line;
        std::getline(in, line);  // header
        while (std::getline(in, line)) {
            std::istringstream fields(line);
            long long key = 0;
            long long id = 0;
            if (fields >> key >> id) {
                out.push_back(std::string(kind) + ":" + std::to_string(id));
            }
        }
    }
    return out;
}

LeakReport scan_for_leaks(const std::vector<std::string>& sysv_baseline,
                          const std::string& tracked_mq_file,
                          const std::string& tracked_sysv_keys_file) {
    LeakReport report;
    auto scan = [&](const char* dir) {
        DIR* d = ::opendir(dir);
        if (d == nullptr) {
            return;
        }
        while (dirent* ent = ::readdir(d)) {
            std::string_view n = ent->d_name;
            const auto at = n.find(kTestPrefix);
            if (at == std::string_view::npos) {
                continue;
            }
            // "ipckit-test-<pid>-...": a live <pid> is a test process of another run on this
            // host (e.g. a developer's parallel build), not a leak of ours.
            const std::string_view rest = n.substr(at + kTestPrefix.size());
            const long pid = std::atol(std::string(rest.substr(0, rest.find('-'))).c_str());
            if (pid > 0 && ::kill(static_cast<pid_t>(pid), 0) == 0) {
                report.notes.push_back(std::string(n) + " belongs to live pid " +
                                       std::to_string(pid) + ": not counted");
                continue;
            }
            report.leaks.push_back(std::string(dir) + "/" + std::string(n));
        }
        ::closedir(d);
    };
    scan("/dev/shm");
    if (is_mqueue_mounted()) {
        scan("/dev/mqueue");
    } else {
        report.notes.push_back("/dev/mqueue is not mounted: POSIX queues checked by tracked name only");
    }
    // Tracked queue names are checked whether or not the fs is mounted: a missing mount must
    // never make the check pass vacuously.
    std::ifstream tracked(tracked_mq_file);
    std::string name;
    std::size_t checked = 0;
    while (std::getline(tracked, name)) {
        if (name.empty()) {
            continue;
        }
        ++checked;
        const mqd_t q = ::mq_open(name.c_str(), O_RDONLY);
        if (q != static_cast<mqd_t>(-1)) {
            ::mq_close(q);
            report.leaks.push_back("mqueue " + name);
        }
    }
    report.notes.push_back("checked " + std::to_string(checked) + " tracked POSIX queue names");
    std::set<long long> our_keys;
    if (!tracked_sysv_keys_file.empty()) {
        std::ifstream keys(tracked_sysv_keys_file);
        for (long long k = 0; keys >> k;) {
            our_keys.insert(k);
        }
    }
    for (const std::string& obj : sysv_objects()) {
        if (std::find(sysv_baseline.begin(), sysv_baseline.end(), obj) != sysv_baseline.end()) {
            continue;
        }
        const std::string leak = "sysv " + obj;
        if (!tracked_sysv_keys_file.empty() && is_test_sysv_key(leak) &&
            !our_keys.contains(sysv_key_of(leak))) {
            report.notes.push_back(leak + " is under another run's test key: left alone");
            continue;
        }
        report.leaks.push_back(leak);
    }
    // Only objects under a test key (unique_sysv_key) are certainly ours; an IPC_PRIVATE one
    // may belong to another test run on the same host, so it is reported but left in place.
    for (const std::string& leak : report.leaks) {
        if (leak.starts_with("sysv ") && !is_test_sysv_key(leak)) {
            report.notes.push_back(leak + " is not under a test key: reported, not removed");
        }
    }
    return report;
}

void remove_leaks(const LeakReport& report) {
    for (const std::string& leak : report.leaks) {
        if (leak.starts_with("/dev/shm/")) {
            ::unlink(leak.c_str());
        } else if (leak.starts_with("/dev/mqueue/")) {
            ::mq_unlink(leak.substr(std::strlen("/dev/mqueue")).c_str());
        } else if (leak.starts_with("mqueue ")) {
            ::mq_unlink(leak.substr(7).c_str());
        } else if (leak.starts_with("sysv ") && is_test_sysv_key(leak)) {
            const std::string kind = leak.substr(5, 3);
            const int id = std::atoi(leak.c_str() + 9);
            remove_sysv(kind == "msg" ? IpcKind::SysvMsg : kind == "sem" ? IpcKind::SysvSem : IpcKind::SysvShm, id);
        }
    }
}

bool ensure_mqueue_mounted() {
    if (is_mqueue_mounted()) {
        return true;
    }
    if (::geteuid() != 0) {
        return false;
    }
    ::mkdir("/dev/mqueue", 01777);
    return ::mount("mqueue", "/dev/mqueue", "mqueue", 0, nullptr) == 0 && is_mqueue_mounted();
}

void install_cleanup_listener() {
    table();
    ::testing::UnitTest::GetInstance()->listeners().Append(new CleanupListener);  // gtest owns it
}

}  // namespace ipckit::test
