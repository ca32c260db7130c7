// SPDX-License-Identifier: MIT
// UnnamedSemaphore: an unnamed process-shared POSIX semaphore placed in shared memory
// (sem_init(3) with pshared=1).
#pragma once

#include "ipckit/core/deadline.hpp"
#include "ipckit/core/result.hpp"
#include "ipckit/export.hpp"

#include <semaphore.h>

#include <chrono>
#include <cstddef>
#include <span>

namespace ipckit {

/// A view of a sem_t that lives in memory shared between processes (a Mapping from
/// Mapping::map_anonymous before fork, a PosixShm, a SysV segment).
///
/// Ownership: the *memory* owns the semaphore; this handle is a copyable pointer and must not
/// outlive the mapping. Exactly one process calls init() on fresh memory (before the others
/// attach()); destroy() is called once, when no process waits any more. Not robust (F11): a
/// process killed after wait() keeps the count. Thread-safety: all operations are safe from any
/// thread of any process mapping the memory. Fork: the child may use it if the mapping is shared.
///
/// @code
///   auto shm = Mapping::map_anonymous(4096).value();
///   auto sem = UnnamedSemaphore::init(shm.bytes().first(UnnamedSemaphore::kSize), 0).value();
///   // fork; child: sem.post();   parent: sem.wait_for(5s);
/// @endcode
class IPCKIT_API UnnamedSemaphore {
public:
    static constexpr std::size_t kSize = 32;      ///< sizeof(sem_t) on Linux (checked in .cpp)
    static constexpr std::size_t kAlignment = 8;  ///< alignof(sem_t)

    /// sem_init(pshared=1) on `where` (at least kSize bytes, kAlignment-aligned, else
    /// errc::invalid_argument); `initial` <= NamedSemaphore::kMaxValue.
    static Result<UnnamedSemaphore> init(std::span<std::byte> where, unsigned initial);
    /// A handle to a semaphore some process already init()ed at `where` (size and alignment are
    /// checked; the contents are the kernel's and glibc's business).
    static Result<UnnamedSemaphore> attach(std::span<std::byte> where);

    Result<void> wait();
    Result<bool> try_wait();
    Result<bool> wait_until(Deadline deadline);
    template <class Rep, class Period>
    Result<bool> wait_for(std::chrono::duration<Rep, Period> timeout) {
        return wait_until(Deadline::after(timeout));
    }
    Result<void> post();
    [[nodiscard]] Result<int> value() const;
    /// sem_destroy: only when no process waits on it.
    Result<void> destroy();

private:
    explicit UnnamedSemaphore(sem_t* sem) noexcept : sem_(sem) {}
    sem_t* sem_;
};

}  // namespace ipckit
