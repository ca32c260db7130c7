// SPDX-License-Identifier: MIT
// IPCKIT_ASSERT: contract checks that stay on in release builds.
#pragma once

#include "ipckit/export.hpp"

namespace ipckit::detail {
[[noreturn]] IPCKIT_API void assert_fail(const char* expr,
                                         const char* msg,
                                         const char* file,
                                         int line) noexcept;
}  // namespace ipckit::detail

/// Aborts with a message on a contract violation (a caller bug: a moved-from handle, a message
/// larger than the capacity the caller itself configured). Never used for anything a peer process
/// or the kernel can cause: those are Results.
// NOLINTNEXTLINE(cppcoreguidelines-macro-usage): needs the expression text, __FILE__, __LINE__
#define IPCKIT_ASSERT(expr, msg)                                             \
    do {                                                                     \
        if (!(expr)) [[unlikely]]                                            \
            ::ipckit::detail::assert_fail(#expr, (msg), __FILE__, __LINE__); \
    } while (false)
