// SPDX-License-Identifier: MIT
// Test hooks: the system calls WaitSet::wait made and the rings it drained, counted only in the
// test-hooks build (ipckit_testhooks); always 0 in the shipped library.
#pragma once

#include <atomic>
#include <cstdint>

namespace ipckit::detail {
extern std::atomic<std::uint64_t> g_wait_set_syscalls;
/// Datagrams a WaitSet's doorbell received (rings), test-hooks build only.
extern std::atomic<std::uint64_t> g_wait_set_rings;
}  // namespace ipckit::detail
