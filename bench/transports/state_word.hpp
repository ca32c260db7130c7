// SPDX-License-Identifier: MIT
// The state-word ping-pong shared by spin-floor, futex-floor and shm-futex: each slot's header
// carries a state word (Empty 0, Full 1) in anonymous shared memory. A waiter loads the word until
// it holds the wanted value and in between lets the Notifier sleep; a poster stores the new value
// and lets the Notifier wake the peer. The rows differ only in their Notifier, so side by side they
// show what a sleep/wake mechanism (and a wrapper around it) costs.
//
// A Notifier has: kName (the object in errors), kWaitOp (the call a timeout names),
//   static Result<bool> sleep(std::atomic<std::uint32_t>& state, std::uint32_t now,
//                             const std::string& object);  // false: the phase deadline passed
//   static Result<void> wake(std::atomic<std::uint32_t>& state, const std::string& object);
#pragma once

#include "engine/wait.hpp"
#include "transports/shm_slots.hpp"

#include <atomic>
#include <cstdint>
#include <string>

namespace ipckit::bench {

template <class Notifier>
class StateWordTransport final : public ShmSlotsTransport {
public:
    Result<void> setup(const SetupParams& p) override {
        return use_anonymous_region(p.max_message_size);
    }
    void teardown() noexcept override { release_anonymous_region(); }

private:
    [[nodiscard]] std::string name() const override { return Notifier::kName; }
    Result<void> wait(int dir, Which which) override {
        auto& state = header(dir)->state;
        const std::uint32_t want = state_value(which);
        for (;;) {
            const std::uint32_t now = state.load(std::memory_order_acquire);
            if (now == want) {
                return {};
            }
            IPCKIT_TRY_ASSIGN(const bool in_time, Notifier::sleep(state, now, object_));
            if (!in_time) {
                return timed_out(Notifier::kWaitOp, object_);
            }
        }
    }
    Result<void> post(int dir, Which which) override {
        auto& state = header(dir)->state;
        state.store(state_value(which), std::memory_order_release);
        return Notifier::wake(state, object_);
    }
    const std::string object_ = Notifier::kName;  // built once, not per wait
};

}  // namespace ipckit::bench
