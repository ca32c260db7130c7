// SPDX-License-Identifier: MIT
// SigbusGuard: turns a SIGBUS inside a watched shared mapping into a flag instead of a crash.
// A file mapping raises SIGBUS when a page past the file's end is touched (a peer truncated it,
// F14) or when a hole cannot be allocated on a full file system (F13). The process-wide handler
// replaces the whole watched range with zero-filled private memory, so the faulting access
// completes, and marks the range as faulted; the owner then reports an error on its next call.
// Faults outside every watched range go to the handler that was installed before ours.
#pragma once

#include "ipckit/core/mapping.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace ipckit::detail {

class SigbusGuard {
public:
    SigbusGuard() noexcept = default;
    /// Watches `mapping` (installs the handler on first use). Inactive, never faulting, when the
    /// table of watched ranges is full (1024 at once) or the handler cannot be installed.
    static SigbusGuard watch(const Mapping& mapping) noexcept;

    SigbusGuard(SigbusGuard&& other) noexcept : slot_(other.slot_) { other.slot_ = nullptr; }
    SigbusGuard& operator=(SigbusGuard&& other) noexcept;
    SigbusGuard(const SigbusGuard&) = delete;
    SigbusGuard& operator=(const SigbusGuard&) = delete;
    /// Stops watching; must run before the mapping is unmapped (declare the guard after it).
    ~SigbusGuard() { reset(); }
    void reset() noexcept;

    /// True once a SIGBUS hit the range: its contents are now private zeros, not the file's.
    [[nodiscard]] bool faulted() const noexcept {
        return slot_ != nullptr && slot_->faulted.load(std::memory_order_relaxed);
    }

    struct Slot {
        std::atomic<std::uintptr_t> begin{0};  // 0: free; published last
        std::atomic<std::size_t> length{0};
        std::atomic<int> prot{0};
        std::atomic<bool> faulted{false};
        std::atomic<bool> used{false};
    };

private:
    explicit SigbusGuard(Slot* slot) noexcept : slot_(slot) {}
    Slot* slot_ = nullptr;
};

}  // namespace ipckit::detail
