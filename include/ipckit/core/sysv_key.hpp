// SPDX-License-Identifier: MIT
// SysvKey: how System V IPC objects are found (svipc(7), ftok(3)).
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "ipckit/core/result.hpp"
#include "ipckit/export.hpp"

namespace ipckit {

/// A System V IPC key. IPC_PRIVATE (numerically 0) is only reachable through private_key(), so a
/// typo'd "0" can never silently create a fresh, unreachable object every run (A03).
class IPCKIT_API SysvKey {
public:
    /// A new object every time (IPC_PRIVATE); share its id, not its key.
    static SysvKey private_key() noexcept { return SysvKey(0); }
    /// A numeric key in [1, 0xffffffff] (stored as the 32-bit key_t the kernel uses).
    static Result<SysvKey> from_number(long long key);
    /// ftok(path, id): id must be 1..255 (ftok keeps only 8 bits; 0 is undefined per ftok(3)).
    /// Fails with the ftok errno: "ftok /nope: No such file or directory".
    static Result<SysvKey> from_path(const std::string& path, int id);
    /// Parses "4587", "0x11ec", "private" or "ftok:PATH:ID".
    static Result<SysvKey> parse(std::string_view text);

    [[nodiscard]] key_t value() const noexcept { return key_; }
    [[nodiscard]] bool is_private() const noexcept { return key_ == 0; }
    /// "0x000011ec" or "private" (what ipcs prints).
    [[nodiscard]] std::string to_string() const;

    friend bool operator==(SysvKey, SysvKey) = default;

private:
    explicit SysvKey(key_t key) noexcept : key_(key) {}
    key_t key_;
};

}  // namespace ipckit
