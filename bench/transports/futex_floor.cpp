// SPDX-License-Identifier: MIT
// Floor: the state-word protocol with the raw futex(2) system call (shared, not PRIVATE: F12),
// the cheapest way one process can sleep until another wakes it. Raw on purpose: shm_futex.cpp
// does the same through ipckit::Futex, and the two rows side by side price the wrapper.
#include "transports/registry.hpp"
#include "transports/state_word.hpp"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace ipckit::bench {
namespace {

struct RawFutexNotifier {
    static constexpr const char* kName = "futex slot";
    static constexpr const char* kWaitOp = "futex_wait";
    static Result<bool> sleep(std::atomic<std::uint32_t>& state,
                              std::uint32_t now,
                              const std::string& object) {
        const timespec rel = phase_deadline().to_relative_timespec();
        if (phase_deadline().expired()) {
            return false;
        }
        const long rc = syscall(
            SYS_futex, reinterpret_cast<std::uint32_t*>(&state), FUTEX_WAIT, now, &rel, nullptr, 0);
        if (rc != 0 && errno != EAGAIN && errno != EINTR && errno != ETIMEDOUT) {
            return Error::from_errno(errno, "futex_wait", object);
        }
        return true;
    }
    static Result<void> wake(std::atomic<std::uint32_t>& state, const std::string& object) {
        if (syscall(SYS_futex,
                    reinterpret_cast<std::uint32_t*>(&state),
                    FUTEX_WAKE,
                    1,
                    nullptr,
                    nullptr,
                    0) < 0) {
            return Error::from_errno(errno, "futex_wake", object);
        }
        return {};
    }
};

}  // namespace

std::unique_ptr<Transport> make_futex_floor() {
    return std::make_unique<StateWordTransport<RawFutexNotifier>>();
}

}  // namespace ipckit::bench
