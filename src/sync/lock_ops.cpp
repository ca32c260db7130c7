// SPDX-License-Identifier: MIT
#include "sync/lock_ops.hpp"

#include "sys/syscall.hpp"

#include <fcntl.h>

namespace ipckit::detail {

Result<UniqueFd> open_lock_file(const std::string& path, OpenMode mode, Permissions permissions) {
    IPCKIT_TRY_ASSIGN(
        auto fd, sys::call("open", path, [&] {
            return ::open(path.c_str(), O_RDWR | O_CLOEXEC | open_flags(mode), permissions.bits());
        }));
    return UniqueFd(fd);
}

}  // namespace ipckit::detail
