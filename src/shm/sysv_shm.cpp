// SPDX-License-Identifier: MIT
#include "ipckit/shm/sysv_shm.hpp"

#include "shm/fd_backing.hpp"
#include "sys/syscall.hpp"

#include <sys/ipc.h>
#include <sys/shm.h>

#include <string>
#include <utility>

namespace ipckit {

template <bool Writable>
BasicSysvShmAttachment<Writable>::BasicSysvShmAttachment(BasicSysvShmAttachment&& other) noexcept
    : addr_(std::exchange(other.addr_, nullptr)), size_(std::exchange(other.size_, 0)) {}

template <bool Writable>
BasicSysvShmAttachment<Writable>& BasicSysvShmAttachment<Writable>::operator=(
    BasicSysvShmAttachment&& other) noexcept {
    if (this != &other) {
        reset();
        addr_ = std::exchange(other.addr_, nullptr);
        size_ = std::exchange(other.size_, 0);
    }
    return *this;
}

template <bool Writable>
void BasicSysvShmAttachment<Writable>::reset() noexcept {
    if (addr_ != nullptr) {
        ::shmdt(addr_);  // only EINVAL is possible, for an address we never attached
        addr_ = nullptr;
        size_ = 0;
    }
}

template class BasicSysvShmAttachment<true>;
template class BasicSysvShmAttachment<false>;

namespace {
std::string id_label(int id) {
    return "shm id " + std::to_string(id);
}

Result<shmid_ds> stat_id(int id) {
    shmid_ds ds{};
    IPCKIT_TRY(
        sys::call("shmctl(IPC_STAT)", id_label(id), [&] { return ::shmctl(id, IPC_STAT, &ds); }));
    return ds;
}
}  // namespace

Result<SysvShm> SysvShm::create(SysvKey key, std::size_t size, Permissions perms) {
    if (size == 0) {
        return Error(std::errc::invalid_argument, "shmget", key.to_string(), "size is 0");
    }
    const int flags = IPC_CREAT | IPC_EXCL | static_cast<int>(perms.bits() & 0777);
    auto id =
        sys::call("shmget", key.to_string(), [&] { return ::shmget(key.value(), size, flags); });
    if (!id) {
        if (id.error() == std::errc::invalid_argument) {
            return id.error().with_detail("size " + std::to_string(size) +
                                          " outside [SHMMIN, SHMMAX] (/proc/sys/kernel/shmmax)");
        }
        if (id.error() == std::errc::no_space_on_device) {
            return id.error().with_detail("shmmni or shmall reached (/proc/sys/kernel/shm*)");
        }
        return std::move(id).error();
    }
    return SysvShm(*id, key);
}

Result<SysvShm> SysvShm::open(SysvKey key,
                              std::size_t size,
                              Access access,
                              const Ownership& ownership) {
    if (key.is_private()) {
        return Error(std::errc::invalid_argument,
                     "shmget",
                     key.to_string(),
                     "a private segment cannot be opened by key; pass its id (from_id)");
    }
    // Size 0 to shmget matches any existing segment; we compare ourselves to give the D14 message
    // instead of the kernel's bare EINVAL (it only refuses a *larger* request).
    // Flags with mode bits ask shmget to check them (ipcperms): 0 would skip the check entirely.
    const int wanted = access == Access::ReadOnly    ? 0400
                       : access == Access::WriteOnly ? 0200
                                                     : 0600;
    IPCKIT_TRY_ASSIGN(auto id, sys::call("shmget", key.to_string(), [&] {
                          return ::shmget(key.value(), 0, wanted);
                      }));
    IPCKIT_TRY_ASSIGN(auto ds, stat_id(id));
    // A segment someone else made first under our key (a squatter) is refused unless trusted.
    IPCKIT_TRY(ownership.check(ds.shm_perm.uid, ds.shm_perm.cuid, "shmget", key.to_string()));
    if (size != 0 && ds.shm_segsz != size) {
        return detail::size_mismatch("shmget", key.to_string(), ds.shm_segsz, size);
    }
    return SysvShm(id, key);
}

Result<SysvShm> SysvShm::open_or_create(SysvKey key,
                                        std::size_t size,
                                        Permissions perms,
                                        const Ownership& ownership) {
    if (key.is_private()) {
        return create(key, size, perms);
    }
    for (int attempt = 0; attempt < 100; ++attempt) {
        auto created = create(key, size, perms);
        if (created || created.error() != std::errc::file_exists) {
            return created;
        }
        auto opened = open(key, size, Access::ReadWrite, ownership);
        if (opened || opened.error() != std::errc::no_such_file_or_directory) {
            return opened;
        }
    }
    return Error(std::errc::resource_unavailable_try_again,
                 "shmget",
                 key.to_string(),
                 "the key kept appearing and disappearing");
}

Result<SysvShm> SysvShm::from_id(int id, const Ownership& ownership) {
    IPCKIT_TRY_ASSIGN(auto ds, stat_id(id));
    IPCKIT_TRY(ownership.check(ds.shm_perm.uid, ds.shm_perm.cuid, "shmctl", id_label(id)));
    IPCKIT_TRY_ASSIGN(auto key,
                      ds.shm_perm.__key == 0
                          ? SysvKey::private_key()
                          : SysvKey::from_number(static_cast<std::uint32_t>(ds.shm_perm.__key)));
    return SysvShm(id, key);
}

Result<void*> SysvShm::attach_raw(int flags) const {
    return sys::call_ptr("shmat",
                         id_label(id_),
                         reinterpret_cast<void*>(-1),  // NOLINT
                         [&] { return ::shmat(id_, nullptr, flags); });
}

Result<SysvShmAttachment> SysvShm::attach() const {
    IPCKIT_TRY_ASSIGN(auto addr, attach_raw(0));
    SysvShmAttachment at(addr, 0);
    auto ds = stat_id(id_);
    if (!ds) {
        return std::move(ds).error();  // `at` detaches
    }
    at.size_ = ds->shm_segsz;
    return at;
}

Result<SysvShmReadOnlyAttachment> SysvShm::attach_read_only() const {
    IPCKIT_TRY_ASSIGN(auto addr, attach_raw(SHM_RDONLY));
    SysvShmReadOnlyAttachment at(addr, 0);
    IPCKIT_TRY_ASSIGN(auto ds, stat_id(id_));
    at.size_ = ds.shm_segsz;
    return at;
}

Result<SysvShmStat> SysvShm::stat() const {
    IPCKIT_TRY_ASSIGN(auto ds, stat_id(id_));
    SysvShmStat s;
    s.size = ds.shm_segsz;
    s.creator_pid = ds.shm_cpid;
    s.last_pid = ds.shm_lpid;
    s.attach_count = ds.shm_nattch;
    s.attach_time = ds.shm_atime;
    s.detach_time = ds.shm_dtime;
    s.change_time = ds.shm_ctime;
    s.uid = ds.shm_perm.uid;
    s.gid = ds.shm_perm.gid;
    s.cuid = ds.shm_perm.cuid;
    s.cgid = ds.shm_perm.cgid;
    s.mode = ds.shm_perm.mode & 0777;
    s.marked_for_removal = (ds.shm_perm.mode & SHM_DEST) != 0;
    s.key = ds.shm_perm.__key;
    return s;
}

Result<void> SysvShm::set(uid_t uid, gid_t gid, Permissions perms) const {
    IPCKIT_TRY_ASSIGN(auto ds, stat_id(id_));
    ds.shm_perm.uid = uid;
    ds.shm_perm.gid = gid;
    ds.shm_perm.mode = static_cast<unsigned short>(perms.bits() & 0777);
    return sys::call("shmctl(IPC_SET)", id_label(id_), [&] { return ::shmctl(id_, IPC_SET, &ds); })
        .transform([](int) {});
}

Result<void> SysvShm::set_permissions(Permissions perms) const {
    IPCKIT_TRY_ASSIGN(auto ds, stat_id(id_));
    return set(ds.shm_perm.uid, ds.shm_perm.gid, perms);
}

Result<void> SysvShm::remove() const {
    return sys::call(
               "shmctl(IPC_RMID)", id_label(id_), [&] { return ::shmctl(id_, IPC_RMID, nullptr); })
        .transform([](int) {});
}

Result<void> SysvShm::remove(int id) {
    return SysvShm(id, SysvKey::private_key()).remove();  // IPC_RMID needs only the id
}

}  // namespace ipckit
