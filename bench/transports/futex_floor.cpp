// SPDX-License-Identifier: MIT
// Floor: the same slot protocol with the raw futex(2) system call (shared, not PRIVATE: F12), the
// cheapest way one process can sleep until another wakes it. Compare with shm_futex.cpp, which
// does the same through ipckit::Futex.
#include "ipckit/core/mapping.hpp"
#include "transports/registry.hpp"
#include "transports/shm_slots.hpp"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace ipckit::bench {
namespace {

class FutexFloor final : public ShmSlotsTransport {
public:
    Result<void> setup(const SetupParams& p) override {
        return use_anonymous_region(p.max_message_size);
    }
    void teardown() noexcept override { release_anonymous_region(); }

private:
    [[nodiscard]] std::string name() const override { return "futex slot"; }
    Result<void> wait(int dir, Which which) override {
        auto& state = header(dir)->state;
        const std::uint32_t want = state_value(which);
        for (;;) {
            const std::uint32_t now = state.load(std::memory_order_acquire);
            if (now == want) {
                return {};
            }
            const timespec rel = phase_deadline().to_relative_timespec();
            if (phase_deadline().expired()) {
                return timed_out("futex_wait", name());
            }
            const long rc = syscall(SYS_futex,
                                    reinterpret_cast<std::uint32_t*>(&state),
                                    FUTEX_WAIT,
                                    now,
                                    &rel,
                                    nullptr,
                                    0);
            if (rc != 0 && errno != EAGAIN && errno != EINTR && errno != ETIMEDOUT) {
                return Error::from_errno(errno, "futex_wait", name());
            }
        }
    }
    Result<void> post(int dir, Which which) override {
        auto& state = header(dir)->state;
        state.store(state_value(which), std::memory_order_release);
        if (syscall(SYS_futex,
                    reinterpret_cast<std::uint32_t*>(&state),
                    FUTEX_WAKE,
                    1,
                    nullptr,
                    nullptr,
                    0) < 0) {
            return Error::from_errno(errno, "futex_wake", name());
        }
        return {};
    }
};

}  // namespace

std::unique_ptr<Transport> make_futex_floor() {
    return std::make_unique<FutexFloor>();
}

}  // namespace ipckit::bench
