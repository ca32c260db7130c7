// SPDX-License-Identifier: MIT
// The scanners behind Inventory (src/admin/inventory.cpp): POSIX objects (posix_objects.cpp),
// System V objects (sysv_objects.cpp), channels (channel_objects.cpp) and the /proc readers that
// find each object's users (proc_users.cpp). Each scanner appends what it finds to one listing.
#pragma once

#include "ipckit/admin/inventory.hpp"
#include "ipckit/core/result.hpp"

#include <sys/stat.h>
#include <sys/types.h>

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ipckit::detail {

/// A file by (device, inode), as /proc/PID/maps and fstat name it.
using FileId = std::pair<dev_t, ino_t>;
/// The POSIX objects and channels of a listing by their file: indexes into the listing.
using Targets = std::map<FileId, std::vector<std::size_t>>;

/// True if the filter asks for kind `k` (an empty filter asks for every kind).
bool wants(const InventoryFilter& f, IpcObjectKind k);
/// True if `name` starts with `prefix`; a prefix without the leading '/' also matches.
bool name_matches(const std::string& name, const std::string& prefix);
/// Owner, mode, size and times of a file-backed object.
void fill_from_stat(IpcObjectInfo& o, const struct stat& st);

// ---- POSIX objects (posix_objects.cpp)

/// F31: mounts the mqueue fs when we may; otherwise says plainly why queues cannot be listed
/// (op "list POSIX queues" when not root, the mount's error otherwise).
Result<void> ensure_mqueue_listable();
/// Every queue in /dev/mqueue (QSIZE, NOTIFY_PID and mq_getattr).
void scan_mqueue(const InventoryFilter& filter, std::vector<IpcObjectInfo>& out, Targets& targets);
/// The attributes of queue `o.name` (read-only open: never consumes a message); when `o.path` is
/// empty (no /dev/mqueue) also its owner, mode and times. What fails is noted.
void read_mq_attributes(IpcObjectInfo& o);
/// POSIX shm objects and named semaphores (when `posix_objects`) and channel files in `dir`.
void scan_shm_dir(const std::string& dir,
                  bool posix_objects,
                  const InventoryFilter& filter,
                  std::vector<IpcObjectInfo>& out,
                  Targets& targets);

// ---- System V objects (sysv_objects.cpp), from /proc/sysvipc/{msg,shm,sem}

void scan_sysv_msg(const InventoryFilter& filter, std::vector<IpcObjectInfo>& out);
void scan_sysv_shm(const InventoryFilter& filter, std::vector<IpcObjectInfo>& out);
/// With `values` also every semaphore's value (stat).
void scan_sysv_sem(const InventoryFilter& filter, bool values, std::vector<IpcObjectInfo>& out);

// ---- channels (channel_objects.cpp)

/// The channel that file `entry` of `dir` holds (kind, name and URI set), or nullopt if the file
/// is no channel file.
std::optional<IpcObjectInfo> channel_of_file(const std::string& dir, const std::string& entry);
/// Header and participants of channel `o.name` in `dir` (Channel::inspect bounds-checks what it
/// reads); what fails is noted.
void read_channel(IpcObjectInfo& o, const std::string& dir);

// ---- events (event_objects.cpp)
/// The event that file `entry` of `dir` holds (kind, name and URI set), or nullopt.
std::optional<IpcObjectInfo> event_of_file(const std::string& dir, const std::string& entry);
/// Ids and counters of event `o.name` in `dir` (Event::inspect); what fails is noted.
void read_event(IpcObjectInfo& o, const std::string& dir);

// ---- services (service_objects.cpp)
/// The service whose record file `entry` of `dir` is (NAME.srv: kind, name and URI set), or
/// nullopt.
std::optional<IpcObjectInfo> service_of_file(const std::string& dir, const std::string& entry);
/// NAME if `entry` is a channel file of service NAME (NAME.srv-req.chan, NAME.srv-rsp<L>.chan).
std::optional<std::string> service_of_channel_file(const std::string& entry);
/// Server record and client lanes of service `o.name` in `dir` (o.service is set even when the
/// record is invalid: record_valid says so and a note says why); what fails is noted.
void read_service(IpcObjectInfo& o, const std::string& dir);

// ---- bridges (bridge_objects.cpp)
/// One object per bridge status file in bridge_status_dir() (list_bridges() validates them and
/// skips the rest); a directory that cannot be read is a warning and an unlisted kind.
void scan_bridges(const InventoryFilter& filter, Inventory& inv, std::vector<IpcObjectInfo>& out);

// ---- users, from /proc/*/{maps,fd} (proc_users.cpp)

/// Fills IpcObjectInfo::users from /proc/*/maps (mappings, System V attaches) and /proc/*/fd
/// (open descriptors). `targets` are the POSIX objects and channels by (device, inode). When we
/// are not root and a process that might hold one of them could not be examined (another
/// user's), their users are unknown. Root is taken to see every process: a process even root
/// may not examine (a sandbox supervisor holding capabilities root lacks) is not counted.
void scan_users(std::vector<IpcObjectInfo>& objects, const Targets& targets);

}  // namespace ipckit::detail
