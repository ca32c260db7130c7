// SPDX-License-Identifier: MIT
// NamedSemaphore: a named POSIX semaphore (sem_overview(7), sem_open(3)).
#pragma once

#include "ipckit/core/deadline.hpp"
#include "ipckit/core/open_mode.hpp"
#include "ipckit/core/ownership.hpp"
#include "ipckit/core/posix_name.hpp"
#include "ipckit/core/result.hpp"
#include "ipckit/export.hpp"

#include <semaphore.h>

#include <chrono>
#include <memory>

namespace ipckit {

/// A named POSIX semaphore (glibc: the file /dev/shm/sem.NAME, mapped into each opener).
///
/// Ownership: the *name* lives in the kernel until unlink(); a handle only closes (sem_close) on
/// destruction, because a semaphore is normally created by one process and used by many after
/// it exits. POSIX semaphores are not robust: a process killed after wait() never gives the
/// count back (F11, B06). For a lock that survives its owner's death use RobustMutex or a
/// SysvSemaphoreSet with undo.
/// Opening an existing semaphore checks the owner (Ownership; by default only the caller's own):
/// a semaphore pre-created by another user could be posted or drained by that user at will. The
/// owner checked is that of the very file sem_open mapped (its inode, from /proc/self/maps), so
/// replacing the name during the open cannot fool it.
/// Thread-safety: every operation is safe from any thread. Fork: the child inherits the mapping
/// and may use the handle; after exec it is gone.
///
/// @code
///   auto name = PosixName::make("/jobs").value();
///   auto sem = NamedSemaphore::create(name, 2).value();
///   sem.wait().value();                 // 2 -> 1
///   if (!sem.wait_for(1s).value()) { /* timed out */ }
///   sem.post().value();
///   NamedSemaphore::unlink(name).value();
/// @endcode
class IPCKIT_API NamedSemaphore {
public:
    /// SEM_VALUE_MAX on Linux (INT_MAX); checked in the .cpp.
    static constexpr unsigned kMaxValue = 2147483647U;

    /// Creates a new semaphore (O_EXCL) with `initial` (<= kMaxValue, else
    /// errc::invalid_argument before any system call). errc::file_exists if the name is taken.
    static Result<NamedSemaphore> create(const PosixName& name,
                                         unsigned initial,
                                         Permissions permissions = {});
    /// Opens an existing semaphore: errc::no_such_file_or_directory if absent;
    /// errc::permission_denied-equivalent (is_untrusted_owner; the detail names the owner) if
    /// `ownership` does not trust its owner, or if the name was replaced or removed while it was
    /// being opened (the owner cannot be verified).
    static Result<NamedSemaphore> open(const PosixName& name, const Ownership& ownership = {});
    /// Opens if present (checking the owner as open() does), otherwise creates with `initial`.
    static Result<NamedSemaphore> open_or_create(const PosixName& name,
                                                 unsigned initial,
                                                 Permissions permissions = {},
                                                 const Ownership& ownership = {});
    /// Removes the name; handles that are open keep working. errc::no_such_file_or_directory if
    /// absent.
    static Result<void> unlink(const PosixName& name);

    /// Decrements, blocking while the value is 0. EINTR from a signal is retried.
    Result<void> wait();
    /// Decrements unless the value is 0; false = would block.
    Result<bool> try_wait();
    /// Decrements, waiting at most until `deadline` (sem_clockwait on CLOCK_MONOTONIC, so a
    /// wall-clock jump cannot stretch it); false = timed out.
    Result<bool> wait_until(Deadline deadline);
    template <class Rep, class Period>
    Result<bool> wait_for(std::chrono::duration<Rep, Period> timeout) {
        return wait_until(Deadline::after(timeout));
    }
    /// Increments. errc::value_too_large (EOVERFLOW) at kMaxValue.
    Result<void> post();
    /// The current value (a snapshot; 0 when processes are waiting on Linux).
    [[nodiscard]] Result<int> value() const;

    /// sem_close now (the destructor does it otherwise). The handle is empty afterwards; using it
    /// is a contract violation. The name and the count stay until unlink().
    Result<void> close();

    [[nodiscard]] const PosixName& name() const noexcept { return name_; }

private:
    struct Closer {
        void operator()(sem_t* sem) const noexcept;
    };
    NamedSemaphore(std::unique_ptr<sem_t, Closer> sem, PosixName name) noexcept
        : sem_(std::move(sem)), name_(std::move(name)) {}
    static Result<NamedSemaphore> open_impl(const PosixName& name,
                                            int flags,
                                            unsigned initial,
                                            Permissions permissions,
                                            const Ownership* ownership);
    std::unique_ptr<sem_t, Closer> sem_;  // sem_close exactly once
    PosixName name_;
};

}  // namespace ipckit
