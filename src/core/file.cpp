// SPDX-License-Identifier: MIT
#include "ipckit/core/file.hpp"

#include "sys/syscall.hpp"

#include <fcntl.h>

namespace ipckit {

Result<UniqueFd> open_file(const std::string& path, int flags, Permissions permissions) {
    IPCKIT_TRY_ASSIGN(const int fd, sys::call("open", path, [&] {
                          return ::open(path.c_str(), flags | O_CLOEXEC, permissions.bits());
                      }));
    return UniqueFd(fd);
}

}  // namespace ipckit
