// SPDX-License-Identifier: MIT
#include "ipckit/sync/sysv_semaphore_set.hpp"

#include "sync/sysv_semaphore_set_fault.hpp"
#include "sys/syscall.hpp"

#include <sys/ipc.h>
#include <sys/sem.h>

#include <algorithm>
#include <string>
#include <thread>

namespace ipckit {

namespace detail {
void (*sysv_sem_after_create_hook)() = nullptr;
}  // namespace detail

namespace {

// semctl(2): the caller defines this union.
union SemUn {
    int val;
    semid_ds* buf;
    unsigned short* array;
};

std::string object_of(int id) {
    return "semid " + std::to_string(id);
}
std::string object_of(SysvKey key) {
    return "sem set key " + key.to_string();
}

std::vector<sembuf> to_sembufs(std::span<const SemOp> ops, short extra_flags) {
    std::vector<sembuf> out;
    out.reserve(ops.size());
    for (const SemOp& op : ops) {
        const auto flags = static_cast<short>((op.undo ? SEM_UNDO : 0) | extra_flags);
        out.push_back(sembuf{op.index, op.delta, flags});
    }
    return out;
}

Error annotate(Error e) {
    if (e == std::errc::identifier_removed) {
        return e.with_detail(
            "the set was removed (IPC_RMID) while this process used or waited on it");
    }
    if (e == std::errc::result_out_of_range) {
        return e.with_detail("the operation would take a value above SEMVMX (32767)");
    }
    if (e == std::errc::file_too_large) {
        return e.with_detail("semaphore index beyond the set's size");
    }
    return e;
}

Result<void> check_values(const char* op,
                          std::string_view object,
                          std::span<const unsigned short> values) {
    for (std::size_t i = 0; i < values.size(); ++i) {
        if (values[i] > SysvSemaphoreSet::kMaxValue) {
            return Error(std::errc::invalid_argument,
                         op,
                         std::string(object),
                         "value " + std::to_string(values[i]) + " for semaphore " +
                             std::to_string(i) + " > SEMVMX (32767)");
        }
    }
    return {};
}

Result<semid_ds> ipc_stat(int id) {
    semid_ds ds{};
    SemUn arg{};
    arg.buf = &ds;
    auto r = sys::call(
        "semctl(IPC_STAT)", object_of(id), [&] { return ::semctl(id, 0, IPC_STAT, arg); });
    if (!r) {
        return annotate(std::move(r).error());
    }
    return ds;
}

}  // namespace

Result<SysvSemaphoreSet> SysvSemaphoreSet::create(SysvKey key,
                                                  std::span<const unsigned short> initial,
                                                  Permissions permissions) {
    const std::string object = object_of(key);
    if (initial.empty()) {
        return Error(
            std::errc::invalid_argument, "semget", object, "a set needs at least one semaphore");
    }
    IPCKIT_TRY(check_values("semget", object, initial));
    const int nsems = static_cast<int>(initial.size());
    const int flags =
        IPC_CREAT | (key.is_private() ? 0 : IPC_EXCL) | static_cast<int>(permissions.bits());
    auto id = sys::call("semget", object, [&] { return ::semget(key.value(), nsems, flags); });
    if (!id) {
        Error e = std::move(id).error();
        if (e == std::errc::invalid_argument) {
            return e.with_detail("nsems " + std::to_string(nsems) +
                                 " may exceed SEMMSL (see /proc/sys/kernel/sem, first field)");
        }
        return e;
    }
    SysvSemaphoreSet set(*id, nsems);
#ifdef IPCKIT_FAULT_POINTS
    if (detail::sysv_sem_after_create_hook != nullptr) {
        detail::sysv_sem_after_create_hook();
    }
#endif
    // Values first (SETALL leaves sem_otime at 0), then one semop that changes nothing but sets
    // sem_otime: openers treat otime != 0 as "initialised" (semget(2) NOTES).
    std::vector<unsigned short> values(initial.begin(), initial.end());
    auto init = set.set_values(values).and_then([&]() -> Result<void> {
        const short first = initial[0] < kMaxValue ? short{1} : short{-1};
        const SemOp mark[] = {{0, first, false}, {0, static_cast<short>(-first), false}};
        IPCKIT_TRY_ASSIGN(auto r, set.try_apply(mark));
        if (!r) {
            return Error(std::errc::resource_unavailable_try_again, "semop(init)", object_of(*id));
        }
        return {};
    });
    if (!init) {
        (void)set.remove();  // never leave a half-initialised set for openers to wait on
        return std::move(init).error();
    }
    return set;
}

Result<SysvSemaphoreSet> SysvSemaphoreSet::open(SysvKey key,
                                                Deadline deadline,
                                                const Ownership& ownership) {
    const std::string object = object_of(key);
    IPCKIT_TRY_ASSIGN(const int id,
                      sys::call("semget", object, [&] { return ::semget(key.value(), 0, 0); }));
    // Wait for the creator's marking semop; back off from 100 us to 10 ms between checks.
    auto pause = std::chrono::microseconds(100);
    for (bool first = true;; first = false) {
        IPCKIT_TRY_ASSIGN(const auto ds, ipc_stat(id));
        if (first) {
            // A set someone else made first under our key (a squatter) is refused unless
            // trusted, before we wait on it or touch its values.
            IPCKIT_TRY(ownership.check(ds.sem_perm.uid, ds.sem_perm.cuid, "semget", object));
        }
        if (ds.sem_otime != 0) {
            return SysvSemaphoreSet(id, static_cast<int>(ds.sem_nsems));
        }
        if (deadline.expired()) {
            return Error(std::errc::timed_out,
                         "semget",
                         object,
                         "the set exists but its creator never initialised it (sem_otime is 0); "
                         "a crashed creator? remove it with ipcrm -s " +
                             std::to_string(id));
        }
        std::this_thread::sleep_for(
            std::min<std::chrono::nanoseconds>(pause, deadline.remaining()));
        pause = std::min(pause * 2, std::chrono::microseconds(10'000));
    }
}

Result<SysvSemaphoreSet> SysvSemaphoreSet::open_or_create(SysvKey key,
                                                          std::span<const unsigned short> initial,
                                                          Permissions permissions,
                                                          Deadline deadline,
                                                          const Ownership& ownership) {
    for (;;) {
        auto created = create(key, initial, permissions);
        if (created || created.error() != std::errc::file_exists) {
            return created;
        }
        auto opened = open(key, deadline, ownership);
        // The set vanished between our semget calls (removed by its owner): try creating again.
        if (opened || opened.error() != std::errc::no_such_file_or_directory ||
            deadline.expired()) {
            return opened;
        }
    }
}

Result<SysvSemaphoreSet> SysvSemaphoreSet::from_id(int id, const Ownership& ownership) {
    IPCKIT_TRY_ASSIGN(auto ds, ipc_stat(id));
    IPCKIT_TRY(ownership.check(ds.sem_perm.uid, ds.sem_perm.cuid, "semctl", object_of(id)));
    return SysvSemaphoreSet(id, static_cast<int>(ds.sem_nsems));
}

Result<void> SysvSemaphoreSet::apply(std::span<const SemOp> ops) {
    IPCKIT_TRY(apply_until(ops, Deadline::never()));
    return {};
}

// NOLINTNEXTLINE(readability-make-member-function-const): changes the kernel object
Result<bool> SysvSemaphoreSet::try_apply(std::span<const SemOp> ops) {
    auto bufs = to_sembufs(ops, IPC_NOWAIT);
    auto r = sys::call_maybe(
        "semop", object_of(id_), {EAGAIN}, [&] { return ::semop(id_, bufs.data(), bufs.size()); });
    if (!r) {
        return annotate(std::move(r).error());
    }
    return r->has_value();
}

// NOLINTNEXTLINE(readability-make-member-function-const): changes the kernel object
Result<bool> SysvSemaphoreSet::apply_until(std::span<const SemOp> ops, Deadline deadline) {
    auto bufs = to_sembufs(ops, 0);
    // semop/semtimedop are never restarted after a signal handler, and a SIGSTOP/SIGCONT alone
    // makes them fail with EINTR (F9): call_maybe retries, recomputing the time left each time.
    auto r = sys::call_maybe("semtimedop", object_of(id_), {EAGAIN}, [&] {
        if (deadline.is_never()) {
            return ::semop(id_, bufs.data(), bufs.size());
        }
        const timespec left = deadline.to_relative_timespec();
        return ::semtimedop(id_, bufs.data(), bufs.size(), &left);
    });
    if (!r) {
        return annotate(std::move(r).error());
    }
    return r->has_value();
}

Result<void> SysvSemaphoreSet::wait(unsigned short index, bool undo) {
    const SemOp op{index, -1, undo};
    return apply({&op, 1});
}
Result<bool> SysvSemaphoreSet::try_wait(unsigned short index, bool undo) {
    const SemOp op{index, -1, undo};
    return try_apply({&op, 1});
}
Result<bool> SysvSemaphoreSet::wait_until(unsigned short index, Deadline deadline, bool undo) {
    const SemOp op{index, -1, undo};
    return apply_until({&op, 1}, deadline);
}
Result<void> SysvSemaphoreSet::post(unsigned short index, bool undo) {
    const SemOp op{index, 1, undo};
    return apply({&op, 1});
}
Result<bool> SysvSemaphoreSet::wait_zero_until(unsigned short index, Deadline deadline) {
    const SemOp op{index, 0, false};
    return apply_until({&op, 1}, deadline);
}

Result<int> SysvSemaphoreSet::ctl(const char* op, unsigned short index, int cmd) const {
    auto r = sys::call(op, object_of(id_), [&] { return ::semctl(id_, index, cmd); });
    if (!r) {
        return annotate(std::move(r).error());
    }
    return *r;
}

Result<int> SysvSemaphoreSet::value(unsigned short index) const {
    return ctl("semctl(GETVAL)", index, GETVAL);
}
Result<pid_t> SysvSemaphoreSet::last_pid(unsigned short index) const {
    IPCKIT_TRY_ASSIGN(auto r, ctl("semctl(GETPID)", index, GETPID));
    return static_cast<pid_t>(r);
}
Result<int> SysvSemaphoreSet::waiting_to_take(unsigned short index) const {
    return ctl("semctl(GETNCNT)", index, GETNCNT);
}
Result<int> SysvSemaphoreSet::waiting_for_zero(unsigned short index) const {
    return ctl("semctl(GETZCNT)", index, GETZCNT);
}

// NOLINTNEXTLINE(readability-make-member-function-const): changes the kernel object
Result<void> SysvSemaphoreSet::set_value(unsigned short index, int value) {
    if (value < 0 || value > kMaxValue) {
        return Error(std::errc::result_out_of_range,
                     "semctl(SETVAL)",
                     object_of(id_),
                     "value " + std::to_string(value) + " outside [0, SEMVMX=32767]");
    }
    SemUn arg{};
    arg.val = value;
    // Note: SETVAL clears every process's SEM_UNDO adjustment for this semaphore (B07).
    auto r = sys::call(
        "semctl(SETVAL)", object_of(id_), [&] { return ::semctl(id_, index, SETVAL, arg); });
    if (!r) {
        return annotate(std::move(r).error());
    }
    return {};
}

Result<std::vector<unsigned short>> SysvSemaphoreSet::values() const {
    std::vector<unsigned short> out(static_cast<std::size_t>(nsems_));
    SemUn arg{};
    arg.array = out.data();
    auto r =
        sys::call("semctl(GETALL)", object_of(id_), [&] { return ::semctl(id_, 0, GETALL, arg); });
    if (!r) {
        return annotate(std::move(r).error());
    }
    return out;
}

// NOLINTNEXTLINE(readability-make-member-function-const): changes the kernel object
Result<void> SysvSemaphoreSet::set_values(std::span<const unsigned short> values) {
    if (values.size() != static_cast<std::size_t>(nsems_)) {
        return Error(
            std::errc::invalid_argument,
            "semctl(SETALL)",
            object_of(id_),
            std::to_string(values.size()) + " values for a set of " + std::to_string(nsems_));
    }
    IPCKIT_TRY(check_values("semctl(SETALL)", object_of(id_), values));
    std::vector<unsigned short> copy(values.begin(), values.end());
    SemUn arg{};
    arg.array = copy.data();
    auto r =
        sys::call("semctl(SETALL)", object_of(id_), [&] { return ::semctl(id_, 0, SETALL, arg); });
    if (!r) {
        return annotate(std::move(r).error());
    }
    return {};
}

Result<SysvSemaphoreSetStat> SysvSemaphoreSet::stat() const {
    IPCKIT_TRY_ASSIGN(auto ds, ipc_stat(id_));
    SysvSemaphoreSetStat s;
    s.nsems = static_cast<int>(ds.sem_nsems);
    s.last_op = ds.sem_otime;
    s.last_change = ds.sem_ctime;
    s.mode = ds.sem_perm.mode & 0777U;
    s.uid = ds.sem_perm.uid;
    s.gid = ds.sem_perm.gid;
    s.creator_uid = ds.sem_perm.cuid;
    s.creator_gid = ds.sem_perm.cgid;
    return s;
}

// NOLINTNEXTLINE(readability-make-member-function-const): changes the kernel object
Result<void> SysvSemaphoreSet::remove() {
    auto r =
        sys::call("semctl(IPC_RMID)", object_of(id_), [&] { return ::semctl(id_, 0, IPC_RMID); });
    if (!r) {
        return annotate(std::move(r).error());
    }
    return {};
}

Result<void> SysvSemaphoreSet::remove(int id) {
    return SysvSemaphoreSet(id, 0).remove();  // IPC_RMID needs only the id
}

}  // namespace ipckit
