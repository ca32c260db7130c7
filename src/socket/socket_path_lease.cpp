// SPDX-License-Identifier: MIT
#include "ipckit/socket/socket_path_lease.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <utility>

namespace ipckit {

SocketPathLease SocketPathLease::adopt_bound(std::string path) noexcept {
    SocketPathLease lease;
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0 || !S_ISSOCK(st.st_mode)) {
        return lease;
    }
    lease.path_ = std::move(path);
    lease.dev_ = st.st_dev;
    lease.ino_ = st.st_ino;
    lease.owner_pid_ = ::getpid();
    return lease;
}

SocketPathLease::SocketPathLease(SocketPathLease&& other) noexcept
    : path_(std::exchange(other.path_, {}))
    , dev_(other.dev_)
    , ino_(other.ino_)
    , owner_pid_(other.owner_pid_) {}

SocketPathLease& SocketPathLease::operator=(SocketPathLease&& other) noexcept {
    if (this != &other) {
        reset();
        path_ = std::exchange(other.path_, {});
        dev_ = other.dev_;
        ino_ = other.ino_;
        owner_pid_ = other.owner_pid_;
    }
    return *this;
}

void SocketPathLease::reset() noexcept {
    if (path_.empty()) {
        return;
    }
    struct stat st {};
    // A narrow window remains between lstat and unlink (no unlinkat-by-inode exists); the checks
    // still stop the common cases: a fork child's destructor, and a restarted server's new socket.
    if (::getpid() == owner_pid_ && ::lstat(path_.c_str(), &st) == 0 && S_ISSOCK(st.st_mode) &&
        st.st_dev == dev_ && st.st_ino == ino_) {
        ::unlink(path_.c_str());
    }
    path_.clear();
}

}  // namespace ipckit
