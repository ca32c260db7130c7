// SPDX-License-Identifier: MIT
#include "ipckit/sync/robust_mutex.hpp"

#include "sync/shm_placement.hpp"
#include "sys/syscall.hpp"

#include <cerrno>
#include <string>

namespace ipckit {

namespace {

constexpr std::string_view kObject = "robust mutex";

Error unrecoverable(const char* op) {
    return {std::errc::state_not_recoverable,
            op,
            std::string(kObject),
            "a previous owner died and the next owner unlocked without consistent(); the "
            "protected data cannot be trusted: destroy() and init() the mutex again"};
}

// The outcome of a lock call that returns an error number: held (with state), not held (busy /
// timed out), or an Error.
// glibc marks an unrecoverable robust mutex by this value in __data.__owner (nptl's
// PTHREAD_MUTEX_NOTRECOVERABLE; not in a public header).
constexpr int kGlibcNotRecoverableOwner = 0x7ffffffe;

Result<std::optional<MutexState>> outcome(const pthread_mutex_t* mutex,
                                          const char* op,
                                          int rc,
                                          int not_acquired) {
    // glibc 2.36 quirk: pthread_mutex_trylock reports ENOTRECOVERABLE but leaves the lock word
    // set to the caller's tid, so later lock calls by that thread answer EDEADLK ("you hold it")
    // and other processes block for ever. ipckit never calls trylock (try_lock() uses clocklock
    // with an expired deadline, which cleans up); if someone else did, the owner field still
    // says "not recoverable": report that, the real state.
    if (rc == EDEADLK && mutex->__data.__owner == kGlibcNotRecoverableOwner) {
        rc = ENOTRECOVERABLE;
    }
    switch (rc) {
        case 0:
            return std::optional<MutexState>(MutexState::Consistent);
        case EOWNERDEAD:
            return std::optional<MutexState>(MutexState::OwnerDied);
        case ENOTRECOVERABLE:
            return unrecoverable(op);
        case EDEADLK:
            return Error(std::errc::resource_deadlock_would_occur,
                         op,
                         std::string(kObject),
                         "this thread already holds it");
        default:
            if (rc == not_acquired) {
                return std::optional<MutexState>();
            }
            return Error::from_errno(rc, op, std::string(kObject));
    }
}

}  // namespace

Result<RobustMutex> RobustMutex::init(std::span<std::byte> where) {
    IPCKIT_TRY_ASSIGN(auto m,
                      detail::place_in<pthread_mutex_t>("pthread_mutex_init", kObject, where));
    pthread_mutexattr_t attr;
    IPCKIT_TRY(sys::check_rc("pthread_mutexattr_init", kObject, ::pthread_mutexattr_init(&attr)));
    // PSHARED: the futex is used with the shared ops (F12). ROBUST: the kernel walks the dying
    // thread's robust list and marks the mutex so the next locker gets EOWNERDEAD (F10).
    // ERRORCHECK: a relock by the owner is EDEADLK instead of a silent self-deadlock.
    int rc = ::pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    if (rc == 0) {
        rc = ::pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
    }
    if (rc == 0) {
        rc = ::pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ERRORCHECK);
    }
    if (rc == 0) {
        rc = ::pthread_mutex_init(m, &attr);
    }
    ::pthread_mutexattr_destroy(&attr);
    IPCKIT_TRY(sys::check_rc("pthread_mutex_init", kObject, rc));
    return RobustMutex(m);
}

Result<RobustMutex> RobustMutex::attach(std::span<std::byte> where) {
    IPCKIT_TRY_ASSIGN(auto m,
                      detail::place_in<pthread_mutex_t>("robust_mutex_attach", kObject, where));
    return RobustMutex(m);
}

Result<MutexState> RobustMutex::lock() {
    IPCKIT_TRY_ASSIGN(auto r,
                      outcome(mutex_, "pthread_mutex_lock", ::pthread_mutex_lock(mutex_), -1));
    return *r;
}

Result<std::optional<MutexState>> RobustMutex::try_lock() {
    // Not pthread_mutex_trylock: see the quirk in outcome(). An already-expired deadline makes
    // clocklock a non-blocking attempt (POSIX: the timeout is not checked when the lock is free).
    const timespec past{0, 0};
    return outcome(mutex_,
                   "pthread_mutex_clocklock",
                   ::pthread_mutex_clocklock(mutex_, CLOCK_MONOTONIC, &past),
                   ETIMEDOUT);
}

Result<std::optional<MutexState>> RobustMutex::lock_until(Deadline deadline) {
    if (deadline.is_never()) {
        IPCKIT_TRY_ASSIGN(auto r, lock());
        return std::optional<MutexState>(r);
    }
    const timespec abs = deadline.to_monotonic_timespec();
    const int rc = ::pthread_mutex_clocklock(mutex_, CLOCK_MONOTONIC, &abs);
    return outcome(mutex_, "pthread_mutex_clocklock", rc, ETIMEDOUT);
}

Result<void> RobustMutex::consistent() {
    return sys::check_rc("pthread_mutex_consistent", kObject, ::pthread_mutex_consistent(mutex_));
}

Result<void> RobustMutex::unlock() {
    const int rc = ::pthread_mutex_unlock(mutex_);
    if (rc == EPERM) {
        return Error(std::errc::operation_not_permitted,
                     "pthread_mutex_unlock",
                     std::string(kObject),
                     "the calling thread does not hold it");
    }
    return sys::check_rc("pthread_mutex_unlock", kObject, rc);
}

Result<void> RobustMutex::destroy() {
    return sys::check_rc("pthread_mutex_destroy", kObject, ::pthread_mutex_destroy(mutex_));
}

}  // namespace ipckit
