// SPDX-License-Identifier: MIT
// PosixShm: a POSIX shared memory object (shm_overview(7)).
#pragma once

#include "ipckit/core/open_mode.hpp"
#include "ipckit/core/ownership.hpp"
#include "ipckit/core/posix_name.hpp"
#include "ipckit/core/result.hpp"
#include "ipckit/core/unique_fd.hpp"
#include "ipckit/export.hpp"
#include "ipckit/shm/region.hpp"

#include <sys/types.h>

#include <cstddef>
#include <string>

namespace ipckit {

namespace detail {
/// Unlinks a POSIX shm name on destruction unless released: the primitive owner that lets
/// PosixShm follow the rule of zero.
/// Removes the name on destruction, but only from the process that created it and only while the
/// name still refers to the object we created (same device and inode): a fork child's copy, or a
/// name a peer has meanwhile unlinked and re-created, is left alone.
class IPCKIT_API ShmNameLease {
public:
    ShmNameLease() noexcept = default;
    /// `fd` is the descriptor of the object just created under `name`.
    ShmNameLease(std::string name, int fd) noexcept;
    ShmNameLease(ShmNameLease&& other) noexcept;
    ShmNameLease& operator=(ShmNameLease&& other) noexcept;
    ShmNameLease(const ShmNameLease&) = delete;
    ShmNameLease& operator=(const ShmNameLease&) = delete;
    ~ShmNameLease() { reset(); }
    [[nodiscard]] bool active() const noexcept { return active_; }
    void release() noexcept { active_ = false; }
    void reset() noexcept;

private:
    std::string name_;
    bool active_ = false;
    pid_t owner_pid_ = 0;
    dev_t dev_ = 0;
    ino_t ino_ = 0;
};
}  // namespace detail

/// A POSIX shared memory object: a file on the /dev/shm tmpfs, opened with shm_open(3), sized
/// with ftruncate/posix_fallocate and mapped with map()/map_read_only().
///
/// Ownership: the fd (closed on destruction). A handle from create() (or an open_or_create() that
/// created) also owns the *name* and unlinks it on destruction, so a crash-free run leaves nothing
/// in /dev/shm; call keep_name() to leave it for others, unlink() to remove it now. open() never
/// unlinks. Regions returned by map() live independently of this handle.
///
/// Space is reserved at creation (posix_fallocate): a full /dev/shm is ENOSPC from create() and
/// not a SIGBUS on first touch (F13). What remains the caller's risk: a peer with write access
/// that shrinks the object (ftruncate) makes our mapped pages past the new end raise SIGBUS (F14);
/// check with size() or use a sealed Memfd when the peer is not trusted. removed() detects a name
/// removed under us (F15).
///
/// Thread-safety: the handle is not synchronised. Fork: the fd is O_CLOEXEC (shm_open always sets
/// FD_CLOEXEC); a child inherits mappings made before fork.
///
/// @code
///   auto name = PosixName::make("/jobs").value();
///   auto shm = PosixShm::create(name, 4096).value();        // 0600, exclusive, space reserved
///   Region r = shm.map().value();
///   auto* hdr = r.as<Header>().value();
///   // elsewhere:
///   auto peer = PosixShm::open(name, Access::ReadOnly).value();
///   ReadOnlyRegion ro = peer.map_read_only().value();        // const bytes only
/// @endcode
class IPCKIT_API PosixShm {
public:
    /// O_CREAT|O_EXCL with `perms` (through the umask, F17), then reserves `size` bytes. Size 0
    /// is errc::invalid_argument. On any failure after shm_open the new name is removed again.
    static Result<PosixShm> create(const PosixName& name,
                                   std::size_t size,
                                   Permissions perms = Permissions());
    /// Opens an existing object (O_NOFOLLOW is implied by shm_open, F16). An owner `ownership`
    /// does not trust is refused (is_untrusted_owner): by default only the caller's own objects.
    static Result<PosixShm> open(const PosixName& name,
                                 Access access = Access::ReadWrite,
                                 const Ownership& ownership = {});
    /// Creates with `size` or opens the existing object, which must already have `size` bytes:
    /// otherwise "segment /x exists with size X, requested Y" (errc::invalid_argument). An
    /// existing object's owner is checked as open() does.
    static Result<PosixShm> open_or_create(const PosixName& name,
                                           std::size_t size,
                                           Permissions perms = Permissions(),
                                           const Ownership& ownership = {});
    /// shm_unlink(3) by name.
    static Result<void> unlink(const PosixName& name);

    /// Current size (fstat; a peer may have changed it).
    [[nodiscard]] Result<std::size_t> size() const;
    /// Grows (reserving the space) or shrinks the object. Shrinking under live mappings makes
    /// their tail raise SIGBUS (F14): the caller must know no one maps it.
    Result<void> resize(std::size_t new_size);
    /// Maps [offset, offset+length) read-write (length 0: to the end). Checked: offset alignment,
    /// range within the current size, an empty object.
    [[nodiscard]] Result<Region> map(Sharing sharing = Sharing::Shared,
                                     std::size_t offset = 0,
                                     std::size_t length = 0) const;
    /// Maps read-only: the region hands out const bytes only.
    [[nodiscard]] Result<ReadOnlyRegion> map_read_only(std::size_t offset = 0,
                                                       std::size_t length = 0) const;
    /// True if the name was removed while we hold the object (st_nlink == 0, F15): a new
    /// create() of the same name would reach a different object.
    [[nodiscard]] Result<bool> removed() const;

    /// Unlinks the name now (and drops ownership of it).
    Result<void> unlink();
    /// Leave the name in place when this handle is destroyed.
    void keep_name() noexcept { lease_.release(); }
    /// True if this handle created the object (and owns the name).
    [[nodiscard]] bool owns_name() const noexcept { return lease_.active(); }

    [[nodiscard]] const PosixName& name() const noexcept { return name_; }
    [[nodiscard]] int native_handle() const noexcept { return fd_.get(); }

private:
    PosixShm(UniqueFd fd, PosixName name, detail::ShmNameLease lease) noexcept
        : fd_(std::move(fd)), name_(std::move(name)), lease_(std::move(lease)) {}
    UniqueFd fd_;
    PosixName name_;
    detail::ShmNameLease lease_;  // last: unlink after close is fine, the order does not matter
};

}  // namespace ipckit
