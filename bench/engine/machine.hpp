// SPDX-License-Identifier: MIT
// The facts about this machine that a benchmark result is meaningless without.
#pragma once

#include <string>

namespace ipckit::bench {

struct Machine {
    std::string cpu_model;
    int cores = 0;        ///< online CPUs
    int usable_cpus = 0;  ///< CPUs this process may run on
    std::string kernel;   ///< uname -r
    std::string glibc;
    std::string hostname;
};

Machine describe_machine();

}  // namespace ipckit::bench
