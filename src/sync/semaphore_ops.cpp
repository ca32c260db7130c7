// SPDX-License-Identifier: MIT
#include "sync/semaphore_ops.hpp"

#include "ipckit/core/assert.hpp"
#include "ipckit/sync/named_semaphore.hpp"
#include "sys/syscall.hpp"

#include <climits>
#include <string>

namespace ipckit::detail {

static_assert(SEM_VALUE_MAX == NamedSemaphore::kMaxValue);

Result<void> sem_wait_blocking(sem_t* sem, std::string_view object) {
    IPCKIT_ASSERT(sem != nullptr, "use of a closed or moved-from semaphore");
    // sys::call retries EINTR: a signal handler running in this process does not end the wait
    // (use wait_until with a deadline, or post() from the handler, to get out).
    IPCKIT_TRY(sys::call("sem_wait", object, [&] { return ::sem_wait(sem); }));
    return {};
}

Result<bool> sem_try_wait(sem_t* sem, std::string_view object) {
    IPCKIT_ASSERT(sem != nullptr, "use of a closed or moved-from semaphore");
    IPCKIT_TRY_ASSIGN(auto r, sys::call_maybe("sem_trywait", object, {EAGAIN}, [&] {
                          return ::sem_trywait(sem);
                      }));
    return r.has_value();
}

Result<bool> sem_wait_until(sem_t* sem, Deadline deadline, std::string_view object) {
    IPCKIT_ASSERT(sem != nullptr, "use of a closed or moved-from semaphore");
    if (deadline.is_never()) {
        IPCKIT_TRY(sem_wait_blocking(sem, object));
        return true;
    }
    // sem_clockwait (glibc >= 2.30) takes an absolute CLOCK_MONOTONIC time, so an EINTR retry
    // waits only for what is left and a settimeofday cannot stretch or shorten the wait (B36).
    const timespec abs = deadline.to_monotonic_timespec();
    IPCKIT_TRY_ASSIGN(auto r, sys::call_maybe("sem_clockwait", object, {ETIMEDOUT}, [&] {
                          return ::sem_clockwait(sem, CLOCK_MONOTONIC, &abs);
                      }));
    return r.has_value();
}

Result<void> sem_post_checked(sem_t* sem, std::string_view object) {
    IPCKIT_ASSERT(sem != nullptr, "use of a closed or moved-from semaphore");
    auto r = sys::call("sem_post", object, [&] { return ::sem_post(sem); });
    if (!r) {
        if (r.error() == std::errc::value_too_large) {
            return r.error().with_detail("the value is already SEM_VALUE_MAX (" +
                                         std::to_string(SEM_VALUE_MAX) + ")");
        }
        return std::move(r).error();
    }
    return {};
}

Result<int> sem_value(sem_t* sem, std::string_view object) {
    IPCKIT_ASSERT(sem != nullptr, "use of a closed or moved-from semaphore");
    int value = 0;
    IPCKIT_TRY(sys::call("sem_getvalue", object, [&] { return ::sem_getvalue(sem, &value); }));
    return value;
}

Result<void> check_initial_value(const char* op, std::string_view object, unsigned initial) {
    if (initial > static_cast<unsigned>(SEM_VALUE_MAX)) {
        return Error(std::errc::invalid_argument,
                     op,
                     std::string(object),
                     "initial value " + std::to_string(initial) + " > SEM_VALUE_MAX (" +
                         std::to_string(SEM_VALUE_MAX) + ")");
    }
    return {};
}

}  // namespace ipckit::detail
