// SPDX-License-Identifier: MIT
// Seed 000 "Named Semaphores": create a named POSIX semaphore with value 2, take one, give it
// back, printing the value each time. Usage: example_named_semaphore_value_two [/name]
#include "ipckit/sync/named_semaphore.hpp"

#include <cstdio>
#include <exception>

int main(int argc, char** argv) try {
    using namespace ipckit;
    const auto name = PosixName::make(argc > 1 ? argv[1] : "/my_semaphore").value();
    // The seed opens with O_CREAT and mode S_IRUSR|S_IRGRP; OpenOrCreate is that policy.
    auto sema = NamedSemaphore::open_or_create(name, 2, Permissions(0440)).value();
    sema.wait().value();
    // sema.wait() again would not block (the value is 1); a third would.
    std::printf("Decrease semaphore by 1, now: %d\n", sema.value().value());
    sema.post().value();
    std::printf("Add semaphore by 1, now: %d\n", sema.value().value());
    NamedSemaphore::unlink(name).value();
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "example_named_semaphore_value_two: %s\n", e.what());
    return 1;
}
