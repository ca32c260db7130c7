// SPDX-License-Identifier: MIT
// UniqueFd: sole owner of one file descriptor (close(2) exactly once).
#pragma once

#include <utility>

#include "ipckit/export.hpp"

namespace ipckit {

/// Move-only owner of a file descriptor. The destructor closes it; close() is never retried on
/// EINTR (on Linux the descriptor is already gone; retrying could close a reused number).
/// Every descriptor ipckit creates is O_CLOEXEC; see Fork/exec in docs/architecture.md.
///
/// @code
///   UniqueFd fd(::open(path, O_RDONLY | O_CLOEXEC));
///   int raw = fd.release();   // caller now owns raw
/// @endcode
class IPCKIT_API UniqueFd {
public:
    UniqueFd() noexcept = default;
    explicit UniqueFd(int fd) noexcept : fd_(fd) {}
    UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
    UniqueFd& operator=(UniqueFd&& other) noexcept {
        reset(other.release());
        return *this;
    }
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;
    ~UniqueFd() { reset(); }

    [[nodiscard]] int get() const noexcept { return fd_; }
    [[nodiscard]] bool valid() const noexcept { return fd_ >= 0; }
    explicit operator bool() const noexcept { return valid(); }

    /// Gives up ownership without closing; returns the descriptor (or -1).
    [[nodiscard]] int release() noexcept { return std::exchange(fd_, -1); }
    /// Closes the current descriptor (if any) and takes ownership of `fd`.
    void reset(int fd = -1) noexcept;

private:
    int fd_ = -1;
};

}  // namespace ipckit
