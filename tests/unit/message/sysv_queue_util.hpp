// SPDX-License-Identifier: MIT
// Helpers shared by the System V message queue tests.
#pragma once

#include "ipc_registry.hpp"
#include "ipckit/message/sysv_msg_queue.hpp"

namespace ipckit::test {

/// A new IPC_PRIVATE queue, removed by the registry at the end of the test even if it fails.
inline SysvMsgQueue private_queue() {
    auto q = SysvMsgQueue::create(SysvKey::private_key()).value();
    track_sysv_id(IpcKind::SysvMsg, q.id());
    return q;
}

}  // namespace ipckit::test
