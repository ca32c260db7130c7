// SPDX-License-Identifier: MIT
// The vocabulary the file-lock types share: shared/exclusive, byte ranges, and who holds a lock.
#pragma once

#include <sys/types.h>

#include "ipckit/export.hpp"

namespace ipckit {

/// Shared (read) or exclusive (write) lock.
enum class LockKind { Shared, Exclusive };

/// A byte range of a file. length 0 means "from offset to the end of the file, however far it
/// grows" (fcntl(2)); the default is the whole file.
struct IPCKIT_API ByteRange {
    off_t offset = 0;
    off_t length = 0;
    friend bool operator==(const ByteRange&, const ByteRange&) = default;
};

/// A conflicting lock reported by F_GETLK / F_OFD_GETLK.
struct IPCKIT_API LockHolder {
    pid_t pid = 0;  ///< the holder's pid for process-associated locks; -1 for OFD locks
    LockKind kind = LockKind::Exclusive;
    ByteRange range;
};

}  // namespace ipckit
