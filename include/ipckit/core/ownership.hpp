// SPDX-License-Identifier: MIT
// Ownership: which owners an open of an existing named object trusts (squatting, RELIABILITY D14).
#pragma once

#include "ipckit/core/result.hpp"
#include "ipckit/export.hpp"

#include <sys/types.h>

#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace ipckit {

/// Which owners an open of an *existing* object trusts. Another user can create a POSIX or
/// System V name first (mode 0666) and wait for us to open it: we would read their messages,
/// use their semaphore or map memory they rewrite. So by default an object must be owned by the
/// caller's effective uid (read when checked, not when the policy is built). Root is not exempt:
/// root opening a squatted object is exactly the attack. See docs/design/ownership.md.
///
/// A refusal is errc::permission_denied-equivalent in ownership_category(), so
/// is_untrusted_owner() tells it from a plain EACCES of the kernel, and the detail names the
/// owner: "owned by nobody (uid 65534), not by you (uid 0)".
///
/// @code
///   auto q = PosixMq::open(name, Access::ReadOnly).value();        // ours only
///   auto shared = PosixMq::open(name, Access::ReadOnly, Ownership().trust(1000));
/// @endcode
class IPCKIT_API Ownership {
public:
    /// Trusts only the caller's effective uid.
    Ownership() = default;
    /// Trusts every owner: the permission bits alone decide (deliberate cross-user sharing).
    static Ownership any() {
        Ownership o;
        o.any_ = true;
        return o;
    }

    /// Also trusts objects owned (and, System V, created) by `uid`.
    Ownership& trust(uid_t uid) & {
        trusted_.push_back(uid);
        return *this;
    }
    Ownership&& trust(uid_t uid) && { return std::move(trust(uid)); }

    /// True for the caller's effective uid, a trusted uid, or any uid under any().
    [[nodiscard]] bool trusts(uid_t uid) const noexcept;
    [[nodiscard]] bool trusts_any() const noexcept { return any_; }
    /// The uids trusted besides the caller's own.
    [[nodiscard]] const std::vector<uid_t>& trusted() const noexcept { return trusted_; }

    /// Checks the owner of an object: an Error in ownership_category() if `owner` is not trusted.
    /// `op` and `object` name the open ("mq_open", "/jobs"), as the open's own errors do.
    [[nodiscard]] Result<void> check(uid_t owner, const char* op, std::string object) const;
    /// System V: the owner may hand the object to anyone with IPC_SET, so the creator must be
    /// trusted as well.
    [[nodiscard]] Result<void> check(uid_t owner,
                                     uid_t creator,
                                     const char* op,
                                     std::string object) const;

private:
    std::vector<uid_t> trusted_;
    bool any_ = false;
};

/// The category of ownership refusals. Its single value is EACCES, equivalent to
/// std::errc::permission_denied; message() is "untrusted owner".
IPCKIT_API const std::error_category& ownership_category() noexcept;

/// True if `e` is an Ownership refusal (the CLI maps it to exit 4, a kernel EACCES to 1).
[[nodiscard]] IPCKIT_API bool is_untrusted_owner(const Error& e) noexcept;

/// "nobody (uid 65534)", or "uid 1234" for a uid without a passwd entry.
[[nodiscard]] IPCKIT_API std::string describe_user(uid_t uid);

}  // namespace ipckit
