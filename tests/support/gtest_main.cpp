// SPDX-License-Identifier: MIT
// main() of every ipckit test binary: gtest plus the per-test IPC object cleanup.
#include <signal.h>

#include <gtest/gtest.h>

#include "ipc_registry.hpp"

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    // Tests exercise EPIPE paths; the library never raises SIGPIPE, but the harness's own pipes
    // to dead children must not kill the runner either.
    ::signal(SIGPIPE, SIG_IGN);
    ipckit::test::install_cleanup_listener();
    return RUN_ALL_TESTS();
}
