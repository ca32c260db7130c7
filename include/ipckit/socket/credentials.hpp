// SPDX-License-Identifier: MIT
// Credentials: who is on the other end of a Unix socket (SO_PEERCRED, SCM_CREDENTIALS; unix(7)).
#pragma once

#include <sys/types.h>

#include "ipckit/export.hpp"

namespace ipckit {

/// A process's pid, effective uid and gid as the kernel reported them: for SO_PEERCRED, the values
/// at connect()/socketpair() time; for SCM_CREDENTIALS, the sender's at sendmsg() time.
/// The pid may have been reused by the time you look at it (F22); use Socket::peer_pidfd() when
/// you must act on the process.
struct IPCKIT_API Credentials {
    pid_t pid = 0;
    uid_t uid = static_cast<uid_t>(-1);
    gid_t gid = static_cast<gid_t>(-1);
    friend bool operator==(const Credentials&, const Credentials&) = default;
};

}  // namespace ipckit
