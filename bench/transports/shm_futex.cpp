// SPDX-License-Identifier: MIT
// Shared memory + futex through ipckit::Futex: the futex floor's protocol with the library's
// wrapper, so the two rows side by side show what the wrapper costs.
#include "ipckit/core/mapping.hpp"
#include "ipckit/sync/futex.hpp"
#include "transports/registry.hpp"
#include "transports/shm_slots.hpp"

namespace ipckit::bench {
namespace {

class ShmFutex final : public ShmSlotsTransport {
public:
    Result<void> setup(const SetupParams& p) override {
        return use_anonymous_region(p.max_message_size);
    }
    void teardown() noexcept override { release_anonymous_region(); }

private:
    [[nodiscard]] std::string name() const override { return "ipckit::Futex slot"; }
    Result<void> wait(int dir, Which which) override {
        auto& state = header(dir)->state;
        const std::uint32_t want = state_value(which);
        for (;;) {
            const std::uint32_t now = state.load(std::memory_order_acquire);
            if (now == want) {
                return {};
            }
            auto r = Futex::wait(state, now, phase_deadline());
            if (!r) {
                return r.error();
            }
            if (!*r) {
                return timed_out("Futex::wait", name());
            }
        }
    }
    Result<void> post(int dir, Which which) override {
        auto& state = header(dir)->state;
        state.store(state_value(which), std::memory_order_release);
        auto r = Futex::wake(state, 1);
        if (!r) {
            return r.error();
        }
        return {};
    }
};

}  // namespace

std::unique_ptr<Transport> make_shm_futex() {
    return std::make_unique<ShmFutex>();
}

}  // namespace ipckit::bench
