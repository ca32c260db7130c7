// SPDX-License-Identifier: MIT
// Floor: two processes ping-pong a cache line in anonymous shared memory by busy-spinning on a
// state word. No system call on the path: the fastest any IPC on this machine can be, and the
// unit every other row's "x floor" ratio is measured in.
#include "transports/registry.hpp"
#include "transports/state_word.hpp"

namespace ipckit::bench {
namespace {

struct SpinNotifier {
    static constexpr const char* kName = "spin slot";
    static constexpr const char* kWaitOp = "spin";
    /// Spins a few thousand turns while the word still holds `now`, then looks at the deadline.
    static Result<bool> sleep(std::atomic<std::uint32_t>& state,
                              std::uint32_t now,
                              const std::string& /*object*/) {
        for (unsigned turns = 0; turns < 4096; ++turns) {
            if (state.load(std::memory_order_acquire) != now) {
                return true;
            }
            __builtin_ia32_pause();
        }
        return !phase_deadline().expired();
    }
    static Result<void> wake(std::atomic<std::uint32_t>& /*state*/, const std::string& /*object*/) {
        return {};
    }
};

}  // namespace

std::unique_ptr<Transport> make_spin_floor() {
    return std::make_unique<StateWordTransport<SpinNotifier>>();
}

}  // namespace ipckit::bench
