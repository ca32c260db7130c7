// SPDX-License-Identifier: MIT
#include "ipckit/sync/unnamed_semaphore.hpp"

#include "sync/semaphore_ops.hpp"
#include "sync/shm_placement.hpp"
#include "sys/syscall.hpp"

#include <cstdint>
#include <string>

namespace ipckit {

static_assert(sizeof(sem_t) == UnnamedSemaphore::kSize);
static_assert(alignof(sem_t) == UnnamedSemaphore::kAlignment);

namespace {

constexpr std::string_view kSemaphoreObject = "shared semaphore";

Result<sem_t*> place(const char* op, std::span<std::byte> where) {
    return detail::place_in<sem_t>(op, kSemaphoreObject, where);
}

}  // namespace

Result<UnnamedSemaphore> UnnamedSemaphore::init(std::span<std::byte> where, unsigned initial) {
    IPCKIT_TRY(detail::check_initial_value("sem_init", kSemaphoreObject, initial));
    IPCKIT_TRY_ASSIGN(auto sem, place("sem_init", where));
    // pshared=1: the futex word is used with the shared futex ops, so waiters in other
    // processes are woken (F12).
    IPCKIT_TRY(
        sys::call("sem_init", kSemaphoreObject, [&] { return ::sem_init(sem, 1, initial); }));
    return UnnamedSemaphore(sem);
}

Result<UnnamedSemaphore> UnnamedSemaphore::attach(std::span<std::byte> where) {
    IPCKIT_TRY_ASSIGN(auto sem, place("sem_attach", where));
    return UnnamedSemaphore(sem);
}

Result<void> UnnamedSemaphore::wait() {
    return detail::sem_wait_blocking(sem_, kSemaphoreObject);
}
Result<bool> UnnamedSemaphore::try_wait() {
    return detail::sem_try_wait(sem_, kSemaphoreObject);
}
Result<bool> UnnamedSemaphore::wait_until(Deadline deadline) {
    return detail::sem_wait_until(sem_, deadline, kSemaphoreObject);
}
Result<void> UnnamedSemaphore::post() {
    return detail::sem_post_checked(sem_, kSemaphoreObject);
}
Result<int> UnnamedSemaphore::value() const {
    return detail::sem_value(sem_, kSemaphoreObject);
}

Result<void> UnnamedSemaphore::destroy() {
    IPCKIT_TRY(sys::call("sem_destroy", kSemaphoreObject, [&] { return ::sem_destroy(sem_); }));
    return {};
}

}  // namespace ipckit
