// SPDX-License-Identifier: MIT
// The shared-memory half of the shm + notification transports: two one-message slots (leader to
// follower, follower to leader) in one region, and the protocol around them. A sender waits for
// its slot to be empty, copies the message in and announces it full; the receiver waits for full,
// copies the message out (bounds-checked: the length comes from another process) and announces
// it empty. Subclasses supply the memory (anonymous, POSIX shm, System V shm) and the two
// notifications (spin, futex, semaphore, eventfd, signal).
#pragma once

#include "engine/transport.hpp"
#include "ipckit/core/mapping.hpp"
#include "engine/wait.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

namespace ipckit::bench {

class ShmSlotsTransport : public Transport {
public:
    /// What a notification announces about one direction's slot.
    enum class Which { Empty, Full };

    struct alignas(64) SlotHeader {
        std::atomic<std::uint32_t> state{0};  // 0 empty, 1 full (spin and futex notifiers)
        std::uint32_t reserved = 0;
        std::uint64_t length = 0;
    };
    static_assert(std::atomic<std::uint32_t>::is_always_lock_free);

    /// Bytes of shared memory two slots of `max_message_size` need.
    static std::size_t region_size(std::size_t max_message_size) { return 2 * slot_stride(max_message_size); }

    Result<void> attach(Role role, int peer_pid) override {
        out_ = role == Role::Leader ? 0 : 1;
        peer_pid_ = peer_pid;
        return attach_notifier(role);
    }

    Result<void> send(std::span<const std::byte> message) override {
        IPCKIT_TRY(wait(out_, Which::Empty));
        SlotHeader* h = header(out_);
        std::memcpy(payload(out_), message.data(), message.size());
        h->length = message.size();
        return post(out_, Which::Full);
    }

    Result<std::size_t> receive(std::span<std::byte> buffer) override {
        const int in = 1 - out_;
        IPCKIT_TRY(wait(in, Which::Full));
        const std::uint64_t n = header(in)->length;
        if (n > capacity_ || n > buffer.size()) {
            return Error(std::errc::message_size,
                         "receive",
                         name(),
                         "slot length " + std::to_string(n) + " exceeds the buffer");
        }
        std::memcpy(buffer.data(), payload(in), static_cast<std::size_t>(n));
        IPCKIT_TRY(post(in, Which::Empty));
        return static_cast<std::size_t>(n);
    }

protected:
    /// Subclasses call this once the region (region_size(max)) is mapped in the supervisor.
    void use_region(std::byte* base, std::size_t max_message_size) {
        base_ = base;
        capacity_ = max_message_size;
        for (int d = 0; d < 2; ++d) {
            new (header(d)) SlotHeader{};
        }
    }
    [[nodiscard]] SlotHeader* header(int dir) const {
        return reinterpret_cast<SlotHeader*>(base_ + static_cast<std::size_t>(dir) *
                                                         slot_stride(capacity_));
    }
    [[nodiscard]] std::byte* payload(int dir) const {
        return base_ + static_cast<std::size_t>(dir) * slot_stride(capacity_) + sizeof(SlotHeader);
    }
    [[nodiscard]] int peer_pid() const { return peer_pid_; }
    /// For transports whose region is plain fork-inherited memory: maps it and uses it.
    Result<void> use_anonymous_region(std::size_t max_message_size) {
        IPCKIT_TRY_ASSIGN(anonymous_, Mapping::map_anonymous(region_size(max_message_size)));
        use_region(anonymous_.data(), max_message_size);
        return {};
    }
    void release_anonymous_region() noexcept { anonymous_ = Mapping(); }

    /// The object named in errors: "/ipckit-bench-1-3 (POSIX shm)".
    [[nodiscard]] virtual std::string name() const = 0;
    virtual Result<void> attach_notifier(Role /*role*/) { return {}; }
    /// Blocks until direction `dir`'s slot is `which`, at most until phase_deadline().
    virtual Result<void> wait(int dir, Which which) = 0;
    /// Announces that direction `dir`'s slot is now `which`.
    virtual Result<void> post(int dir, Which which) = 0;

private:
    static std::size_t slot_stride(std::size_t max_message_size) {
        return sizeof(SlotHeader) + (max_message_size + 63) / 64 * 64;
    }
    Mapping anonymous_;  // owns the region when use_anonymous_region() made it
    std::byte* base_ = nullptr;
    std::size_t capacity_ = 0;
    int out_ = 0;
    int peer_pid_ = 0;
};

/// The state-word protocol shared by the spin and futex notifiers: Full is state 1, Empty 0.
inline std::uint32_t state_value(ShmSlotsTransport::Which which) {
    return which == ShmSlotsTransport::Which::Full ? 1U : 0U;
}

}  // namespace ipckit::bench
