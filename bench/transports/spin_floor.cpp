// SPDX-License-Identifier: MIT
// Floor: two processes ping-pong a cache line in anonymous shared memory by busy-spinning on a
// state word. No system call on the path: the fastest any IPC on this machine can be, and the
// unit every other row's "x floor" ratio is measured in.
#include "ipckit/core/mapping.hpp"
#include "transports/registry.hpp"
#include "transports/shm_slots.hpp"

namespace ipckit::bench {
namespace {

class SpinFloor final : public ShmSlotsTransport {
public:
    Result<void> setup(const SetupParams& p) override {
        return use_anonymous_region(p.max_message_size);
    }
    void teardown() noexcept override { release_anonymous_region(); }

private:
    [[nodiscard]] std::string name() const override { return "spin slot"; }
    Result<void> wait(int dir, Which which) override {
        auto& state = header(dir)->state;
        const std::uint32_t want = state_value(which);
        return spin_until(
            [&] { return state.load(std::memory_order_acquire) == want; }, "spin", name());
    }
    Result<void> post(int dir, Which which) override {
        header(dir)->state.store(state_value(which), std::memory_order_release);
        return {};
    }
};

}  // namespace

std::unique_ptr<Transport> make_spin_floor() {
    return std::make_unique<SpinFloor>();
}

}  // namespace ipckit::bench
