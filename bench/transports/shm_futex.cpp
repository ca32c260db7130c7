// SPDX-License-Identifier: MIT
// Shared memory + futex through ipckit::Futex: the futex floor's protocol with the library's
// wrapper, so the two rows side by side show what the wrapper costs.
#include "ipckit/sync/futex.hpp"
#include "transports/registry.hpp"
#include "transports/state_word.hpp"

namespace ipckit::bench {
namespace {

struct IpckitFutexNotifier {
    static constexpr const char* kName = "ipckit::Futex slot";
    static constexpr const char* kWaitOp = "Futex::wait";
    static Result<bool> sleep(std::atomic<std::uint32_t>& state,
                              std::uint32_t now,
                              const std::string& /*object*/) {
        return Futex::wait(state, now, phase_deadline());
    }
    static Result<void> wake(std::atomic<std::uint32_t>& state, const std::string& /*object*/) {
        IPCKIT_TRY(Futex::wake(state, 1));
        return {};
    }
};

}  // namespace

std::unique_ptr<Transport> make_shm_futex() {
    return std::make_unique<StateWordTransport<IpckitFutexNotifier>>();
}

}  // namespace ipckit::bench
