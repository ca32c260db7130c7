// SPDX-License-Identifier: MIT
// The creation policy and permissions every named facility takes.
#pragma once

#include <sys/types.h>

#include "ipckit/export.hpp"

namespace ipckit {

/// How a named object is obtained. CreateExclusive (O_EXCL / IPC_EXCL) is the default wherever a
/// squatter could pre-create the name; OpenOrCreate exists for rendezvous where either side may
/// come first.
enum class OpenMode {
    OpenExisting,     ///< fail with errc::no_such_file_or_directory if absent
    CreateExclusive,  ///< fail with errc::file_exists if present
    OpenOrCreate,     ///< open if present, else create
};

/// Direction of access a handle needs.
enum class Access { ReadOnly, WriteOnly, ReadWrite };

/// Permission bits for a new object. The default is owner read/write (0600): the bits pass
/// through the umask (F17) and 0600 survives any umask.
class IPCKIT_API Permissions {
public:
    constexpr Permissions() noexcept = default;
    constexpr explicit Permissions(mode_t bits) noexcept : bits_(bits & 07777U) {}
    static constexpr Permissions owner_read_write() noexcept { return Permissions(0600); }
    [[nodiscard]] constexpr mode_t bits() const noexcept { return bits_; }
    friend constexpr bool operator==(Permissions, Permissions) = default;

private:
    mode_t bits_ = 0600;
};

/// Translates OpenMode into the O_CREAT/O_EXCL bits for open-like calls.
constexpr int open_flags(OpenMode mode) noexcept {
    constexpr int kCreat = 0100;  // O_CREAT on Linux (asserted in src/core/open_mode.cpp)
    constexpr int kExcl = 0200;   // O_EXCL
    switch (mode) {
        case OpenMode::OpenExisting:
            return 0;
        case OpenMode::CreateExclusive:
            return kCreat | kExcl;
        case OpenMode::OpenOrCreate:
            return kCreat;
    }
    return 0;
}

}  // namespace ipckit
