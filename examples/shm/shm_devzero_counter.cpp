// SPDX-License-Identifier: MIT
// Program 15.33: IPC between parent and child through a shared mapping of /dev/zero, the two
// taking turns with the TELL_WAIT pipes. Usage: example_shm_devzero_counter [NLOOPS (even)]
#include "counter_body.hpp"

int main(int argc, char** argv) {
    // open("/dev/zero") + mmap(MAP_SHARED) + close: Region::dev_zero does exactly that.
    auto area = ipckit::Region::dev_zero(sizeof(long));
    if (!area) {
        std::fprintf(stderr, "%s\n", area.error().message().c_str());
        return 1;
    }
    return counter_body::run(*area, counter_body::nloops_from(argc, argv), "/dev/zero mapping");
}
