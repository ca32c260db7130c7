// SPDX-License-Identifier: MIT
#include "ipckit/sync/shared_condition.hpp"

#include <cerrno>
#include <string>

#include "sync/shm_placement.hpp"
#include "sys/syscall.hpp"

namespace ipckit {

namespace {
constexpr std::string_view kObject = "shared condition";
}  // namespace

Result<SharedCondition> SharedCondition::init(std::span<std::byte> where) {
    auto c = detail::place_in<pthread_cond_t>("pthread_cond_init", kObject, where);
    if (!c) {
        return std::move(c).error();
    }
    pthread_condattr_t attr;
    IPCKIT_TRY(sys::check_rc("pthread_condattr_init", kObject, ::pthread_condattr_init(&attr)));
    int rc = ::pthread_condattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    if (rc == 0) {
        // Deadlines are CLOCK_MONOTONIC like every ipckit Deadline (the default is REALTIME).
        rc = ::pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    }
    if (rc == 0) {
        rc = ::pthread_cond_init(*c, &attr);
    }
    ::pthread_condattr_destroy(&attr);
    IPCKIT_TRY(sys::check_rc("pthread_cond_init", kObject, rc));
    return SharedCondition(*c);
}

Result<SharedCondition> SharedCondition::attach(std::span<std::byte> where) {
    auto c = detail::place_in<pthread_cond_t>("shared_condition_attach", kObject, where);
    if (!c) {
        return std::move(c).error();
    }
    return SharedCondition(*c);
}

Result<ConditionWait> SharedCondition::wait(RobustMutex& mutex, Deadline deadline) {
    int rc = 0;
    const char* op = "pthread_cond_wait";
    if (deadline.is_never()) {
        rc = ::pthread_cond_wait(cond_, mutex.native_handle());
    } else {
        op = "pthread_cond_timedwait";
        const timespec abs = deadline.to_monotonic_timespec();  // the condvar's clock is MONOTONIC
        rc = ::pthread_cond_timedwait(cond_, mutex.native_handle(), &abs);
    }
    switch (rc) {
        case 0:
            return ConditionWait::Notified;
        case ETIMEDOUT:
            return ConditionWait::TimedOut;
        case EOWNERDEAD:
            return ConditionWait::OwnerDied;
        case ENOTRECOVERABLE:
            return Error(std::errc::state_not_recoverable,
                         op,
                         std::string(kObject),
                         "the mutex's earlier owner died and it was never made consistent");
        default:
            return Error::from_errno(rc, op, std::string(kObject));
    }
}

Result<void> SharedCondition::notify_one() {
    return sys::check_rc("pthread_cond_signal", kObject, ::pthread_cond_signal(cond_));
}
Result<void> SharedCondition::notify_all() {
    return sys::check_rc("pthread_cond_broadcast", kObject, ::pthread_cond_broadcast(cond_));
}
Result<void> SharedCondition::destroy() {
    return sys::check_rc("pthread_cond_destroy", kObject, ::pthread_cond_destroy(cond_));
}

}  // namespace ipckit
