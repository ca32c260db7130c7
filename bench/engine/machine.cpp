// SPDX-License-Identifier: MIT
#include "engine/machine.hpp"

#include <sys/utsname.h>
#include <unistd.h>

#include <fstream>
#include <gnu/libc-version.h>
#include <sched.h>

namespace ipckit::bench {

Machine describe_machine() {
    Machine m;
    std::ifstream cpuinfo("/proc/cpuinfo");
    for (std::string line; std::getline(cpuinfo, line);) {
        if (line.rfind("model name", 0) == 0) {
            const auto colon = line.find(':');
            if (colon != std::string::npos) {
                m.cpu_model = line.substr(line.find_first_not_of(' ', colon + 1));
            }
            break;
        }
    }
    if (m.cpu_model.empty()) {
        m.cpu_model = "unknown CPU";
    }
    m.cores = static_cast<int>(::sysconf(_SC_NPROCESSORS_ONLN));
    cpu_set_t set;
    CPU_ZERO(&set);
    if (::sched_getaffinity(0, sizeof set, &set) == 0) {
        m.usable_cpus = CPU_COUNT(&set);
    }
    utsname u{};
    if (::uname(&u) == 0) {
        m.kernel = u.release;
        m.hostname = u.nodename;
    }
    m.glibc = ::gnu_get_libc_version();
    return m;
}

}  // namespace ipckit::bench
