// SPDX-License-Identifier: MIT
// The C API's handle table (handle_table.hpp): insert and remove under a mutex.
#include "capi/handle_table.hpp"

#include <utility>

namespace ipckit::capi {

// NOLINTNEXTLINE(cppcoreguidelines-avoid-non-const-global-variables): the one process-wide table
constinit HandleTable g_handle_table;

std::uint64_t HandleTable::insert(std::unique_ptr<Object> obj, Kind kind) {
    const std::lock_guard<std::mutex> lock(mutex_);
    const bool fresh = free_.empty();
    std::uint32_t index = 0;
    if (!fresh) {
        index = free_.back();
    } else {
        if (next_unused_ == kMaxChunks * kChunkSize) {
            return 0;
        }
        index = next_unused_;
        auto& chunk = chunks_.at(index >> kChunkBits);
        if (chunk.load(std::memory_order_relaxed) == nullptr) {
            // Never freed: a lookup with a stale or forged handle may read any slot at any time.
            // NOLINTNEXTLINE(cppcoreguidelines-owning-memory): owned by the table for ever
            chunk.store(new Slot[kChunkSize], std::memory_order_release);
        }
    }
    // Every slot ever handed out may come back to the free list: reserve for it now (the only
    // step that may throw is before any change), so remove() never allocates.
    free_.reserve(static_cast<std::size_t>(next_unused_) + 1);
    if (fresh) {
        ++next_unused_;
    } else {
        free_.pop_back();
    }
    Slot* chunk = chunks_.at(index >> kChunkBits).load(std::memory_order_relaxed);
    // NOLINTNEXTLINE(cppcoreguidelines-pro-bounds-pointer-arithmetic): offset < kChunkSize
    Slot& slot = chunk[index & (kChunkSize - 1)];
    const std::uint32_t generation = slot.generation.load(std::memory_order_relaxed) + 1;  // odd
    slot.kind.store(kind, std::memory_order_relaxed);
    slot.obj.store(obj.release(), std::memory_order_relaxed);
    slot.generation.store(generation, std::memory_order_release);
    return (std::uint64_t{generation} << 32U) | index;
}

std::unique_ptr<Object> HandleTable::remove(std::uint64_t handle, Kind kind) noexcept {
    const std::lock_guard<std::mutex> lock(mutex_);
    Slot* slot = find(handle);
    if (slot == nullptr || slot->kind.load(std::memory_order_relaxed) != kind) {
        return nullptr;
    }
    slot->generation.store(slot->generation.load(std::memory_order_relaxed) + 1,
                           std::memory_order_release);  // even: free
    std::unique_ptr<Object> obj(slot->obj.exchange(nullptr, std::memory_order_relaxed));
    slot->kind.store(Kind::None, std::memory_order_relaxed);
    free_.push_back(static_cast<std::uint32_t>(handle));  // capacity reserved by insert()
    return obj;
}

}  // namespace ipckit::capi
