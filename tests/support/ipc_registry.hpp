// SPDX-License-Identifier: MIT
// Unique test object names and the registry that removes every object a test created, even when
// the test fails or a child crashes, plus the leak scan the end-of-suite check runs.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

namespace ipckit::test {

/// Kinds of kernel object the harness knows how to find and remove.
enum class IpcKind { PosixShm, PosixMq, PosixSem, SysvMsg, SysvSem, SysvShm, Path };

/// "/ipckit-test-<runpid>-<n>-<tag>", unique across the test process and every child it forks,
/// and registered for removal after the current test. `kind` decides how it is removed.
std::string unique_name(IpcKind kind, std::string_view tag = "obj");
inline std::string unique_shm_name(std::string_view tag = "shm") { return unique_name(IpcKind::PosixShm, tag); }
inline std::string unique_mq_name(std::string_view tag = "mq") { return unique_name(IpcKind::PosixMq, tag); }
inline std::string unique_sem_name(std::string_view tag = "sem") { return unique_name(IpcKind::PosixSem, tag); }

/// A System V key no other live test process uses, registered so that any object of `kind`
/// created under it is removed after the test.
key_t unique_sysv_key(IpcKind kind);
/// Registers an id (e.g. from IPC_PRIVATE) for removal after the test.
void track_sysv_id(IpcKind kind, int id);

/// A fresh path inside this run's private 0700 temp directory (for FIFOs, sockets, lock files);
/// the directory is removed with everything in it when the test process ends.
std::string unique_path(std::string_view tag = "file");
/// This run's temp directory.
const std::string& run_dir();

/// The prefix every test object name starts with: "ipckit-test-".
inline constexpr std::string_view kTestPrefix = "ipckit-test-";

/// Removes every registered object and every /dev/shm (and mounted /dev/mqueue) entry of this
/// run's prefix. Runs after each test and at exit, in the test process only (never in children).
void cleanup_registered();

/// What the leak check found: one line per object ("/dev/shm/ipckit-test-1-2-shm").
struct LeakReport {
    std::vector<std::string> leaks;
    std::vector<std::string> notes;  ///< e.g. "POSIX queues checked by name: /dev/mqueue not mounted"
};
/// Scans /dev/shm and /dev/mqueue for names with kTestPrefix, checks every mq name listed in
/// `tracked_mq_file` is gone (for hosts where /dev/mqueue is not mounted), and lists System V
/// objects that are not in `sysv_baseline` ("msg:ID"/"sem:ID"/"shm:ID" strings).
/// With `tracked_sysv_keys_file` (the keys unique_sysv_key() gave in this run, one per line), a
/// new object under another run's test key is a note, not a leak.
LeakReport scan_for_leaks(const std::vector<std::string>& sysv_baseline,
                          const std::string& tracked_mq_file,
                          const std::string& tracked_sysv_keys_file = {});
/// The System V objects that exist now, as "msg:ID", "sem:ID", "shm:ID".
std::vector<std::string> sysv_objects();
/// True if a "sysv KIND:ID" leak entry is under a key from unique_sysv_key().
bool is_test_sysv_key(const std::string& leak);
/// Removes what a LeakReport found (System V objects only when under a test key) (so one leak does not poison later runs).
void remove_leaks(const LeakReport& report);

/// Mounts the mqueue file system on /dev/mqueue if it is not mounted and we may (root).
/// Returns true if /dev/mqueue is a mounted mqueue fs afterwards.
bool ensure_mqueue_mounted();

/// Installs the per-test cleanup listener (called by the suite's main()).
void install_cleanup_listener();

}  // namespace ipckit::test
