// SPDX-License-Identifier: MIT
#include "ipckit/core/assert.hpp"

#include <cstdio>
#include <cstdlib>

namespace ipckit::detail {

void assert_fail(const char* expr, const char* msg, const char* file, int line) noexcept {
    // fprintf to stderr is unbuffered; nothing else runs before abort().
    (void)std::fprintf(stderr, "ipckit: contract violated at %s:%d: %s (%s)\n", file, line, msg, expr);
    std::abort();
}

}  // namespace ipckit::detail
