// SPDX-License-Identifier: MIT
// open_file: open(2) a path into a UniqueFd, for callers outside the library (the ipckit command)
// that need a plain descriptor with the library's error and CLOEXEC conventions.
#pragma once

#include "ipckit/core/open_mode.hpp"
#include "ipckit/core/result.hpp"
#include "ipckit/core/unique_fd.hpp"
#include "ipckit/export.hpp"

#include <string>

namespace ipckit {

/// Opens `path` with `flags` (O_CLOEXEC is always added; EINTR is retried) and, when the flags
/// create the file, `permissions` (through the umask). Errors name the call and the path, e.g.
/// "open /etc/shadow: Permission denied" (errc::permission_denied).
IPCKIT_API Result<UniqueFd> open_file(const std::string& path,
                                      int flags,
                                      Permissions permissions = {});

}  // namespace ipckit
