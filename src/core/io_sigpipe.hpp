// SPDX-License-Identifier: MIT
// How FdKind::Other writes keep SIGPIPE away (src/core/io.cpp), exposed for white-box tests.
// Private to the library.
#pragma once

#include <atomic>

namespace ipckit::detail {

/// Whether the running kernel honours pwritev2's RWF_NOSIGNAL (Linux >= 6.18): probed once, on a
/// pipe with no reader and SIGPIPE blocked, and only believed if the write failed with EPIPE and
/// left no SIGPIPE pending. A probe that cannot decide (no descriptor free, a SIGPIPE already
/// pending) answers false without remembering it.
bool kernel_honours_rwf_nosignal() noexcept;

/// Tests only: true makes FdKind::Other writes use the signal-mask shield, as on a kernel without
/// RWF_NOSIGNAL, so that path stays covered on new kernels.
extern std::atomic<bool> force_sigpipe_mask_shield;

}  // namespace ipckit::detail
