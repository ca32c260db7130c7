// SPDX-License-Identifier: MIT
#include "ipckit/core/open_mode.hpp"

#include <fcntl.h>

// open_mode.hpp spells the flags as numbers to stay free of <fcntl.h>; keep them honest.
static_assert(ipckit::open_flags(ipckit::OpenMode::CreateExclusive) == (O_CREAT | O_EXCL));
static_assert(ipckit::open_flags(ipckit::OpenMode::OpenOrCreate) == O_CREAT);
