// SPDX-License-Identifier: MIT
// PosixName: a validated name for POSIX IPC objects (mq_overview(7), shm_overview(7),
// sem_overview(7)).
#pragma once

#include <string>
#include <string_view>

#include "ipckit/core/result.hpp"
#include "ipckit/export.hpp"

namespace ipckit {

/// A name for a POSIX message queue, shared memory object or named semaphore: "/" followed by
/// 1..kMaxLength characters, none of them '/' or NUL, and not "." or "..". Validation happens
/// before any system call, so a bad name is an errc::invalid_argument (or filename_too_long)
/// that says which rule it broke, instead of the kernel's surprising answers (F1: "/a/b" gives
/// EACCES, "/" gives ENOENT).
class IPCKIT_API PosixName {
public:
    /// NAME_MAX minus the 4 bytes glibc prepends for semaphores ("sem."), so one name is valid for
    /// every POSIX object kind.
    static constexpr std::size_t kMaxLength = 251;

    /// Validates `name`; errors name the rule: "must start with '/'", "contains '/' after the
    /// first character", "is empty after '/'", "is longer than 251 characters", ...
    static Result<PosixName> make(std::string_view name);

    /// "/jobs"
    [[nodiscard]] const std::string& str() const noexcept { return name_; }
    [[nodiscard]] const char* c_str() const noexcept { return name_.c_str(); }
    /// "jobs": the file name under /dev/shm or /dev/mqueue.
    [[nodiscard]] std::string_view without_slash() const noexcept {
        return std::string_view(name_).substr(1);
    }

    friend bool operator==(const PosixName&, const PosixName&) = default;

private:
    explicit PosixName(std::string name) : name_(std::move(name)) {}
    std::string name_;
};

}  // namespace ipckit
