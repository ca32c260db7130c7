// SPDX-License-Identifier: MIT
// SysvShm and its attachments: System V shared memory (shmget(2), shmat(2), shmctl(2)).
#pragma once

#include "ipckit/core/open_mode.hpp"
#include "ipckit/core/ownership.hpp"
#include "ipckit/core/result.hpp"
#include "ipckit/core/sysv_key.hpp"
#include "ipckit/export.hpp"
#include "ipckit/shm/region.hpp"

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <span>
#include <type_traits>

namespace ipckit {

/// What shmctl(IPC_STAT) reports about a segment.
struct IPCKIT_API SysvShmStat {
    std::size_t size = 0;            ///< shm_segsz
    pid_t creator_pid = 0;           ///< shm_cpid
    pid_t last_pid = 0;              ///< shm_lpid: last shmat/shmdt
    std::uint64_t attach_count = 0;  ///< shm_nattch
    std::time_t attach_time = 0;     ///< shm_atime (0: never attached)
    std::time_t detach_time = 0;     ///< shm_dtime
    std::time_t change_time = 0;     ///< shm_ctime
    uid_t uid = 0, gid = 0, cuid = 0, cgid = 0;
    mode_t mode = 0;                  ///< permission bits (0777)
    bool marked_for_removal = false;  ///< IPC_RMID done; destroyed at the last detach (F27)
    key_t key = 0;
};

/// Move-only owner of one shmat(2) attachment; shmdt(2) on destruction. Writable = false is a
/// SHM_RDONLY attachment that hands out const bytes only. The bound for every offset is the
/// segment size read once at attach time (IPC_STAT), never anything stored in the segment.
///
/// A process killed while attached is detached by the kernel (shm_nattch recovers).
/// Fork: a child inherits the attachment (shm_nattch + 1); exec detaches.
template <bool Writable>
class IPCKIT_API BasicSysvShmAttachment {
public:
    using Byte = std::conditional_t<Writable, std::byte, const std::byte>;
    template <class T>
    using Elem = std::conditional_t<Writable, T, const T>;

    BasicSysvShmAttachment() noexcept = default;
    BasicSysvShmAttachment(BasicSysvShmAttachment&& other) noexcept;
    BasicSysvShmAttachment& operator=(BasicSysvShmAttachment&& other) noexcept;
    BasicSysvShmAttachment(const BasicSysvShmAttachment&) = delete;
    BasicSysvShmAttachment& operator=(const BasicSysvShmAttachment&) = delete;
    ~BasicSysvShmAttachment() { reset(); }

    [[nodiscard]] Byte* data() const noexcept { return static_cast<Byte*>(addr_); }
    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    [[nodiscard]] bool valid() const noexcept { return addr_ != nullptr; }
    [[nodiscard]] std::span<Byte> bytes() const noexcept { return {data(), size_}; }

    template <SharedViewable T>
    Result<Elem<T>*> as(std::size_t offset = 0) const {
        return detail::typed_at<Elem<T>>(data(), size_, offset);
    }
    template <SharedConstructible T, class... Args>
    Result<T*> construct(std::size_t offset, Args&&... args) const requires Writable {
        IPCKIT_TRY(
            detail::check_typed_range(data(), size_, offset, sizeof(T), alignof(T), 1, "object"));
        // NOLINTNEXTLINE(cppcoreguidelines-owning-memory): placement new, never deleted
        return ::new (static_cast<void*>(data() + offset)) T(std::forward<Args>(args)...);
    }

    /// shmdt now; safe to call twice.
    void reset() noexcept;

private:
    friend class SysvShm;
    BasicSysvShmAttachment(void* addr, std::size_t size) noexcept : addr_(addr), size_(size) {}
    void* addr_ = nullptr;
    std::size_t size_ = 0;
};

using SysvShmAttachment = BasicSysvShmAttachment<true>;
using SysvShmReadOnlyAttachment = BasicSysvShmAttachment<false>;
extern template class BasicSysvShmAttachment<true>;
extern template class BasicSysvShmAttachment<false>;

/// A System V shared memory segment, named by a SysvKey (or IPC_PRIVATE) and identified by its id.
///
/// Ownership: none. The segment is a kernel object that outlives every process until removed;
/// this handle is just (id, key) and never removes on destruction. remove() is IPC_RMID: the
/// segment disappears at once from new shmget lookups but is destroyed only when the last
/// attachment detaches (F27). Attachments are separate RAII objects.
///
/// Thread-safety: all members are safe to call concurrently (they are single system calls).
/// Fork: the id is valid in a child; attachments are inherited.
///
/// @code
///   auto seg = SysvShm::create(SysvKey::private_key(), 100000).value();
///   SysvShmAttachment at = seg.attach().value();
///   seg.remove().value();            // destroyed when `at` (and every other attach) is gone
/// @endcode
class IPCKIT_API SysvShm {
public:
    /// IPC_CREAT|IPC_EXCL (always a new segment for private_key()); size 0 is invalid_argument.
    static Result<SysvShm> create(SysvKey key, std::size_t size, Permissions perms = Permissions());
    /// An existing segment. `size` 0 accepts any size; otherwise the segment must have exactly
    /// `size` bytes: "segment 0x... exists with size X, requested Y" (errc::invalid_argument).
    /// `access` is checked against the segment's mode by shmget itself (EACCES), so a caller
    /// learns at open, not at the first attach, that it may not write. An owner or creator
    /// (IPC_STAT) that `ownership` does not trust is refused (is_untrusted_owner): by default
    /// only the caller's own segments.
    static Result<SysvShm> open(SysvKey key,
                                std::size_t size = 0,
                                Access access = Access::ReadWrite,
                                const Ownership& ownership = {});
    /// Creates, or opens one of exactly `size` bytes (its owner checked as open() does).
    static Result<SysvShm> open_or_create(SysvKey key,
                                          std::size_t size,
                                          Permissions perms = Permissions(),
                                          const Ownership& ownership = {});
    /// A segment known by id (from another process, or `ipcs`); checked with IPC_STAT, its owner
    /// as open() does.
    static Result<SysvShm> from_id(int id, const Ownership& ownership = {});

    [[nodiscard]] int id() const noexcept { return id_; }
    [[nodiscard]] SysvKey key() const noexcept { return key_; }

    /// shmat read-write.
    [[nodiscard]] Result<SysvShmAttachment> attach() const;
    /// shmat(SHM_RDONLY): const bytes only; a write through a cast faults (SIGSEGV).
    [[nodiscard]] Result<SysvShmReadOnlyAttachment> attach_read_only() const;

    [[nodiscard]] Result<SysvShmStat> stat() const;
    /// IPC_SET: owner uid/gid and permission bits (the only fields the kernel lets you change).
    Result<void> set(uid_t uid, gid_t gid, Permissions perms) const;
    Result<void> set_permissions(Permissions perms) const;
    /// IPC_RMID: see the class comment.
    Result<void> remove() const;
    /// IPC_RMID of segment `id` without a handle: needs only to be its owner or creator (or
    /// CAP_SYS_ADMIN), not the read permission from_id() needs. errc::invalid_argument if there
    /// is no such segment.
    static Result<void> remove(int id);

private:
    SysvShm(int id, SysvKey key) noexcept : id_(id), key_(key) {}
    [[nodiscard]] Result<void*> attach_raw(int flags) const;
    int id_ = -1;
    SysvKey key_ = SysvKey::private_key();
};

}  // namespace ipckit
