// SPDX-License-Identifier: MIT
// Memfd: anonymous shared memory with an fd (memfd_create(2)) and file seals.
#pragma once

#include "ipckit/core/result.hpp"
#include "ipckit/core/unique_fd.hpp"
#include "ipckit/export.hpp"
#include "ipckit/shm/region.hpp"

#include <cstddef>
#include <string>
#include <string_view>

namespace ipckit {

/// File seals (fcntl(2) F_ADD_SEALS). Combine with |.
enum class Seals : unsigned {
    None = 0,
    Seal = 0x1,    ///< F_SEAL_SEAL: no further seals may be added
    Shrink = 0x2,  ///< F_SEAL_SHRINK: the size may not shrink (no SIGBUS from a peer's ftruncate)
    Grow = 0x4,    ///< F_SEAL_GROW: the size may not grow
    Write = 0x8,   ///< F_SEAL_WRITE: contents are frozen (refused while writable maps exist)
};
constexpr Seals operator|(Seals a, Seals b) noexcept {
    return static_cast<Seals>(static_cast<unsigned>(a) | static_cast<unsigned>(b));
}
constexpr Seals operator&(Seals a, Seals b) noexcept {
    return static_cast<Seals>(static_cast<unsigned>(a) & static_cast<unsigned>(b));
}
/// True if every seal in `wanted` is in `have`.
constexpr bool has_seals(Seals have, Seals wanted) noexcept {
    return (have & wanted) == wanted;
}

/// The modern unnamed shared memory: a tmpfs file with no name, shared by passing its fd (fork,
/// or SCM_RIGHTS over a Unix socket). Seals let the creator promise a receiver that the size
/// will not change (Shrink|Grow: no SIGBUS from a truncation, F14) or that the contents are frozen
/// (Write); a receiver checks them with from_received().
///
/// Ownership: the fd. The memory lives while any fd or mapping refers to it; nothing to unlink.
/// Thread-safety: not synchronised. Fork/exec: MFD_CLOEXEC (pass it on explicitly).
///
/// @code
///   auto m = Memfd::create("frames", 1 << 20).value();
///   Region r = m.map().value();
///   m.add_seals(Seals::Shrink | Seals::Grow).value();
///   send_fd(sock, m.native_handle());                           // SCM_RIGHTS, another issue
///   // receiver:
///   auto in = Memfd::from_received(std::move(fd), Seals::Shrink | Seals::Grow, 1 << 20).value();
/// @endcode
class IPCKIT_API Memfd {
public:
    /// memfd_create(name, MFD_CLOEXEC|MFD_ALLOW_SEALING) and reserve `size` bytes
    /// (posix_fallocate, so tmpfs exhaustion is ENOSPC here, never SIGBUS later). `name` is only
    /// a label shown in /proc/PID/fd ("memfd:name"); size 0 is errc::invalid_argument.
    static Result<Memfd> create(std::string_view name, std::size_t size);
    /// Adopts an fd received from a peer after checking it: it must be a memfd (F_GET_SEALS
    /// works), carry every seal in `required`, and be at most `max_size` bytes and not empty.
    /// Refusals are errc::operation_not_permitted (missing seals) or errc::invalid_argument.
    static Result<Memfd> from_received(UniqueFd fd, Seals required, std::size_t max_size);

    Result<void> add_seals(Seals seals);
    [[nodiscard]] Result<Seals> seals() const;
    [[nodiscard]] Result<std::size_t> size() const;
    /// Grows (reserving) or shrinks; EPERM once sealed against it.
    Result<void> resize(std::size_t new_size);

    [[nodiscard]] Result<Region> map(Sharing sharing = Sharing::Shared) const;
    [[nodiscard]] Result<ReadOnlyRegion> map_read_only() const;

    [[nodiscard]] int native_handle() const noexcept { return fd_.get(); }
    [[nodiscard]] const std::string& label() const noexcept { return label_; }

private:
    Memfd(UniqueFd fd, std::string label) noexcept : fd_(std::move(fd)), label_(std::move(label)) {}
    UniqueFd fd_;
    std::string label_;  // "memfd:name", for error messages
};

}  // namespace ipckit
