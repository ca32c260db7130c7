// SPDX-License-Identifier: MIT
// The C API's process-wide handle table: 64-bit handles {generation: 32, index: 32} naming
// objects without exposing a pointer (docs/design/bindings.md).
//
// Slots live in chunks that are allocated once and never freed, so a lookup with any 64-bit
// value only reads memory that exists: an index check, an atomic chunk load and a generation
// compare, without a lock. A slot's generation is odd while it holds an object and is bumped
// (under the mutex) on insert and on remove, so a closed handle never matches again (until the
// generation wraps after 2^31 reuses of that one slot). Handle 0 is never valid.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

namespace ipckit::capi {

enum class Kind : std::uint32_t {
    None = 0,
    Publisher = 1,
    Subscriber = 2,
    Semaphore = 3,
    Mq = 4,
    Server = 5,
    Client = 6,
    Shm = 7,
    GroupConsumer = 8,
};

/// Base of the objects a handle names; each derived type has a `static constexpr Kind kKind`.
struct Object {
    Object() = default;
    Object(const Object&) = delete;
    Object& operator=(const Object&) = delete;
    Object(Object&&) = delete;
    Object& operator=(Object&&) = delete;
    virtual ~Object() = default;
};

class HandleTable {
public:
    static constexpr std::uint32_t kChunkBits = 10;
    static constexpr std::uint32_t kChunkSize = std::uint32_t{1} << kChunkBits;
    static constexpr std::uint32_t kMaxChunks = 64;  // 65 536 open handles per process

    constexpr HandleTable() noexcept = default;

    /// Takes ownership and returns its handle, or 0 when the table is full. May throw bad_alloc.
    std::uint64_t insert(std::unique_ptr<Object> obj, Kind kind);

    /// The object of a live handle of type T, else nullptr. No lock; the caller must not close
    /// the same handle concurrently (the C API's documented contract).
    template <class T>
    [[nodiscard]] T* lookup(std::uint64_t handle) const noexcept {
        Slot* slot = find(handle);
        if (slot == nullptr || slot->kind.load(std::memory_order_relaxed) != T::kKind) {
            return nullptr;
        }
        return static_cast<T*>(slot->obj.load(std::memory_order_relaxed));
    }

    /// Takes the object of a live handle of kind `kind` out of the table (the handle is dead from
    /// here on); nullptr for a bad handle.
    std::unique_ptr<Object> remove(std::uint64_t handle, Kind kind) noexcept;

private:
    struct Slot {
        std::atomic<std::uint32_t> generation{0};
        std::atomic<Kind> kind{Kind::None};
        std::atomic<Object*> obj{nullptr};
    };

    [[nodiscard]] Slot* find(std::uint64_t handle) const noexcept {
        const auto index = static_cast<std::uint32_t>(handle);
        const auto generation = static_cast<std::uint32_t>(handle >> 32U);
        if ((generation & 1U) == 0 || (index >> kChunkBits) >= kMaxChunks) {
            return nullptr;
        }
        // NOLINTNEXTLINE(cppcoreguidelines-pro-bounds-constant-array-index): < kMaxChunks, above
        Slot* chunk = chunks_[index >> kChunkBits].load(std::memory_order_acquire);
        if (chunk == nullptr) {
            return nullptr;
        }
        // NOLINTNEXTLINE(cppcoreguidelines-pro-bounds-pointer-arithmetic): offset < kChunkSize
        Slot* slot = chunk + (index & (kChunkSize - 1));
        return slot->generation.load(std::memory_order_acquire) == generation ? slot : nullptr;
    }

    std::array<std::atomic<Slot*>, kMaxChunks> chunks_{};
    std::mutex mutex_;                 // insert and remove
    std::uint32_t next_unused_ = 0;    // slots [0, next_unused_) have been handed out once
    std::vector<std::uint32_t> free_;  // removed slots, reused first
};

// NOLINTNEXTLINE(cppcoreguidelines-avoid-non-const-global-variables): the one process-wide table
extern HandleTable g_handle_table;

/// The table of this process (constant-initialised: usable from any static constructor).
inline HandleTable& handles() noexcept {
    return g_handle_table;
}

}  // namespace ipckit::capi
