// SPDX-License-Identifier: MIT
// Fault points (IPCKIT_FAULT_POINT, compiled into ipckit_testhooks only) armed from a test.
#pragma once

#include "channel/fault_point.hpp"

#include <cstdlib>

namespace ipckit::test {

/// Arms the fault points named by `spec` (IPCKIT_FAULT_POINT syntax) in this process and in the
/// children it forks from now on.
inline void arm_fault(const char* spec) {
    ::setenv("IPCKIT_FAULT_POINT", spec, 1);
    detail::reload_fault_points();
}

}  // namespace ipckit::test
