// SPDX-License-Identifier: MIT
// SocketPathLease: removes the socket file a process bound, and only that one (unix(7)).
#pragma once

#include <sys/types.h>

#include <string>

#include "ipckit/export.hpp"

namespace ipckit {

/// Owner of a filesystem socket path created by bind(2). On destruction it unlinks the path only
/// if (1) this is the process that bound it (a fork child's copy never removes the parent's
/// socket) and (2) the path still names the very inode we bound (a later server that replaced it
/// keeps its socket). Move-only; empty for abstract names, unnamed sockets and internet sockets.
class IPCKIT_API SocketPathLease {
public:
    SocketPathLease() noexcept = default;
    /// Records the identity (st_dev, st_ino) of the socket just bound at `path`. If the path
    /// cannot be stat'ed, the lease is empty (nothing is ever removed blindly).
    static SocketPathLease adopt_bound(std::string path) noexcept;

    SocketPathLease(SocketPathLease&& other) noexcept;
    SocketPathLease& operator=(SocketPathLease&& other) noexcept;
    SocketPathLease(const SocketPathLease&) = delete;
    SocketPathLease& operator=(const SocketPathLease&) = delete;
    ~SocketPathLease() { reset(); }

    [[nodiscard]] const std::string& path() const noexcept { return path_; }
    [[nodiscard]] bool owns() const noexcept { return !path_.empty(); }
    /// Unlinks now (under the rules above); safe to call twice.
    void reset() noexcept;
    /// Gives up the path without removing it.
    void release() noexcept { path_.clear(); }

private:
    std::string path_;
    dev_t dev_ = 0;
    ino_t ino_ = 0;
    pid_t owner_pid_ = 0;
};

}  // namespace ipckit
