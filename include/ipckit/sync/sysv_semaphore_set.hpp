// SPDX-License-Identifier: MIT
// SysvSemaphoreSet: a System V semaphore set (svipc(7), semget(2), semop(2), semctl(2)).
#pragma once

#include "ipckit/core/deadline.hpp"
#include "ipckit/core/open_mode.hpp"
#include "ipckit/core/ownership.hpp"
#include "ipckit/core/result.hpp"
#include "ipckit/core/sysv_key.hpp"
#include "ipckit/export.hpp"

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <ctime>
#include <span>
#include <vector>

namespace ipckit {

/// One operation of an atomic semop(2) batch.
struct IPCKIT_API SemOp {
    unsigned short index = 0;  ///< semaphore number in the set
    short delta = 0;    ///< > 0 add, < 0 take (blocks while it would go below 0), 0 wait for zero
    bool undo = false;  ///< SEM_UNDO: the kernel reverts it if this process dies
};

/// What IPC_STAT reports about a set.
struct IPCKIT_API SysvSemaphoreSetStat {
    int nsems = 0;
    std::time_t last_op = 0;      ///< sem_otime: 0 until the first semop (the init marker)
    std::time_t last_change = 0;  ///< sem_ctime
    mode_t mode = 0;              ///< permission bits
    uid_t uid = 0;
    gid_t gid = 0;
    uid_t creator_uid = 0;
    gid_t creator_gid = 0;
};

/// A System V semaphore set of N counters operated on atomically.
///
/// Ownership: the set lives in the kernel until remove() (IPC_RMID), whoever created it; this
/// handle is just the id (copyable) and never removes anything on destruction.
///
/// Initialisation race (seed 003, F26): semget creates a set with undefined values, and a
/// separate semctl sets them, so a second process can use the set between the two calls. ipckit
/// uses the man-page recipe: the creator (the only process whose IPC_CREAT|IPC_EXCL succeeds)
/// sets the values with SETALL and then performs one semop, which makes sem_otime non-zero;
/// every other opener waits (bounded by a deadline) until sem_otime != 0 before returning.
///
/// Interrupts: semop is never restarted after a signal (F9); ipckit retries EINTR with the time
/// left, so a signal never ends a wait early. EIDRM (set removed while waiting) is an Error
/// (errc::identifier_removed).
/// Thread-safety: all operations are safe. Fork: the id stays valid; SEM_UNDO adjustments are not
/// inherited by the child (semop(2)).
///
/// @code
///   auto set = SysvSemaphoreSet::open_or_create(key, 1, {{1}}).value();  // one mutex-like sem
///   set.wait(0, /*undo=*/true).value();   // P
///   /* critical section */
///   set.post(0, /*undo=*/true).value();   // V
/// @endcode
class IPCKIT_API SysvSemaphoreSet {
public:
    /// SEMVMX on Linux: the largest value a semaphore holds.
    static constexpr int kMaxValue = 32767;

    /// Creates a new set (IPC_CREAT|IPC_EXCL unless `key` is private) of `initial.size()`
    /// semaphores with those values, then marks it initialised. errc::file_exists if the key is
    /// taken; errc::invalid_argument if a value exceeds kMaxValue or the size is 0.
    static Result<SysvSemaphoreSet> create(SysvKey key,
                                           std::span<const unsigned short> initial,
                                           Permissions permissions = {});
    /// Opens an existing set and waits until its creator has initialised it (sem_otime != 0), at
    /// most until `deadline`: errc::timed_out (detail: "creator never initialised it") otherwise.
    /// A set whose owner or creator `ownership` does not trust is refused first
    /// (is_untrusted_owner): by default only the caller's own sets.
    static Result<SysvSemaphoreSet> open(
        SysvKey key,
        Deadline deadline = Deadline::after(std::chrono::seconds(5)),
        const Ownership& ownership = {});
    /// Creates it if absent (this process then initialises it), otherwise open(). Race-free: any
    /// number of processes may call it at once.
    static Result<SysvSemaphoreSet> open_or_create(
        SysvKey key,
        std::span<const unsigned short> initial,
        Permissions permissions = {},
        Deadline deadline = Deadline::after(std::chrono::seconds(5)),
        const Ownership& ownership = {});
    /// A handle for a known id (e.g. passed from a parent); IPC_STAT, and the owner checked as
    /// open() does.
    static Result<SysvSemaphoreSet> from_id(int id, const Ownership& ownership = {});

    /// Applies every op atomically (all or none), blocking until they can all be applied.
    Result<void> apply(std::span<const SemOp> ops);
    /// Applies them only if none would block (IPC_NOWAIT); false = would block.
    Result<bool> try_apply(std::span<const SemOp> ops);
    /// Applies them, waiting at most until `deadline` (semtimedop); false = timed out.
    Result<bool> apply_until(std::span<const SemOp> ops, Deadline deadline);

    /// P: take one from semaphore `index`.
    Result<void> wait(unsigned short index, bool undo = false);
    Result<bool> try_wait(unsigned short index, bool undo = false);
    Result<bool> wait_until(unsigned short index, Deadline deadline, bool undo = false);
    /// V: add one to semaphore `index`. errc::result_out_of_range at kMaxValue.
    Result<void> post(unsigned short index, bool undo = false);
    /// Waits until semaphore `index` is zero; false = timed out.
    Result<bool> wait_zero_until(unsigned short index, Deadline deadline = Deadline::never());

    [[nodiscard]] Result<int> value(unsigned short index) const;             ///< GETVAL
    Result<void> set_value(unsigned short index, int value);                 ///< SETVAL
    [[nodiscard]] Result<std::vector<unsigned short>> values() const;        ///< GETALL
    Result<void> set_values(std::span<const unsigned short> values);         ///< SETALL
    [[nodiscard]] Result<pid_t> last_pid(unsigned short index) const;        ///< GETPID
    [[nodiscard]] Result<int> waiting_to_take(unsigned short index) const;   ///< GETNCNT
    [[nodiscard]] Result<int> waiting_for_zero(unsigned short index) const;  ///< GETZCNT
    [[nodiscard]] Result<SysvSemaphoreSetStat> stat() const;                          ///< IPC_STAT
    /// IPC_RMID: wakes every waiter with EIDRM.
    Result<void> remove();
    /// IPC_RMID of set `id` without a handle: needs only to be its owner or creator (or
    /// CAP_SYS_ADMIN), not the read permission from_id() needs. errc::invalid_argument if there
    /// is no such set.
    static Result<void> remove(int id);

    [[nodiscard]] int id() const noexcept { return id_; }
    [[nodiscard]] int size() const noexcept { return nsems_; }

private:
    SysvSemaphoreSet(int id, int nsems) noexcept : id_(id), nsems_(nsems) {}
    [[nodiscard]] Result<int> ctl(const char* op, unsigned short index, int cmd) const;
    int id_;
    int nsems_;
};

}  // namespace ipckit
