// SPDX-License-Identifier: MIT
// Program 15.33 with an anonymous mapping (MAP_ANONYMOUS|MAP_SHARED instead of /dev/zero): no
// open, no close, the rest unchanged. Usage: example_shm_anon_counter [NLOOPS (even)]
#include "counter_body.hpp"

int main(int argc, char** argv) {
    auto area = ipckit::Region::anonymous(sizeof(long), ipckit::Sharing::Shared);
    if (!area) {
        std::fprintf(stderr, "%s\n", area.error().message().c_str());
        return 1;
    }
    return counter_body::run(*area, counter_body::nloops_from(argc, argv), "anonymous mapping");
}
