// SPDX-License-Identifier: MIT
// The status files of running bridges: each Bridge opened with BridgeOptions::status_dir keeps
// one file there with its pid, its two URIs and its counters (refreshed every 100 ms, removed at
// exit); another process lists them (`ipckit bridges`). docs/design/bridge.md.
#pragma once

#include "ipckit/core/result.hpp"
#include "ipckit/export.hpp"

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace ipckit {

/// The counters of one direction of a bridge.
struct IPCKIT_API BridgeDirectionCounters {
    std::uint64_t relayed = 0;
    std::uint64_t dropped = 0;
    std::uint64_t gaps = 0;
};

/// One bridge as its status file describes it.
struct IPCKIT_API BridgeStatus {
    std::string path;  ///< the status file
    /// "PID" for a process's first bridge, "PID-N" for its further ones (`bridge:NAME` in ls/stat)
    std::string name;
    pid_t pid = 0;
    /// False when the process is gone (or its pid now belongs to another process): the file is
    /// a leftover of a killed bridge, removable with remove_bridge_status().
    bool alive = false;
    std::string from;
    std::string to;
    BridgeDirectionCounters forward;  ///< FROM -> TO
    BridgeDirectionCounters back;     ///< TO -> FROM (--both)
    std::uint64_t reconnects = 0;
};

/// Where bridges keep their status files: $IPCKIT_RUNTIME_DIR, else $XDG_RUNTIME_DIR/ipckit,
/// else /tmp/ipckit-UID; then "/bridges".
IPCKIT_API std::string bridge_status_dir();

/// The bridges with a status file in `dir` (empty: bridge_status_dir()). A missing directory is
/// an empty list. Files that are not valid status files (size, magic, owner, a symlink) are
/// skipped: nothing is trusted from them.
IPCKIT_API Result<std::vector<BridgeStatus>> list_bridges(const std::string& dir = {});

/// Removes the status file of a dead bridge; errc::device_or_resource_busy if it is alive.
IPCKIT_API Result<void> remove_bridge_status(const BridgeStatus& status);

}  // namespace ipckit
