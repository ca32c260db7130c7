// SPDX-License-Identifier: MIT
// Memory fences that ThreadSanitizer accepts (private; the channel and events use them).
#pragma once

#include <atomic>

namespace ipckit::detail {

/// TSan does not model std::atomic_thread_fence (GCC refuses it under -fsanitize=thread with
/// -Werror); under TSan a full fence is a seq_cst read-modify-write (also a full barrier on x86)
/// and an acquire fence a compiler barrier (enough on x86's TSO; TSan cannot see across mappings
/// anyway).
inline void full_fence() noexcept {
#if defined(__SANITIZE_THREAD__)
    static std::atomic<int> dummy{0};
    dummy.fetch_add(0, std::memory_order_seq_cst);
#else
    std::atomic_thread_fence(std::memory_order_seq_cst);
#endif
}
inline void acquire_fence() noexcept {
#if defined(__SANITIZE_THREAD__)
    std::atomic_signal_fence(std::memory_order_acquire);
#else
    std::atomic_thread_fence(std::memory_order_acquire);
#endif
}

}  // namespace ipckit::detail
