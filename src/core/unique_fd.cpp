// SPDX-License-Identifier: MIT
#include "ipckit/core/unique_fd.hpp"

#include <unistd.h>

#include <cerrno>

#include "ipckit/core/assert.hpp"

namespace ipckit {

void UniqueFd::reset(int fd) noexcept {
    const int old = std::exchange(fd_, fd);
    if (old >= 0) {
        // Never retry close on EINTR: Linux has already released the number, and a retry could
        // close a descriptor another thread just received. EBADF means we double-closed: a bug.
        const int rc = ::close(old);
        IPCKIT_ASSERT(rc == 0 || errno != EBADF, "UniqueFd closed a descriptor it did not own");
    }
}

}  // namespace ipckit
