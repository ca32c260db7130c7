// SPDX-License-Identifier: MIT
// The body of Program 15.33: parent and child increment a shared long in turn, NLOOPS times,
// each checking that it sees the value the other left. Used with a /dev/zero mapping and with an
// anonymous one.
#pragma once

#include "ipckit/shm/region.hpp"
#include "tell_wait.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace counter_body {

inline long update(long* ptr) {
    return (*ptr)++;
}  // value before the increment

inline int run(ipckit::Region& area, long nloops, const char* kind) {
    long* counter = area.as<long>().value();
    tell_wait::TELL_WAIT();
    const pid_t pid = ::fork();
    if (pid < 0) {
        tell_wait::die("fork error");
    }
    if (pid > 0) {  // parent: even values
        for (long i = 0; i < nloops; i += 2) {
            const long got = update(counter);
            if (got != i) {
                std::fprintf(stderr, "parent: expected %ld, got %ld\n", i, got);
                return 1;
            }
            tell_wait::TELL_CHILD();
            tell_wait::WAIT_CHILD();
        }
        int status = 0;
        while (::waitpid(pid, &status, 0) < 0) {
        }
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            std::fprintf(stderr, "child failed\n");
            return 1;
        }
        std::printf("%s: parent and child counted to %ld in turn\n", kind, *counter);
        return 0;
    }
    for (long i = 1; i < nloops + 1; i += 2) {  // child: odd values
        tell_wait::WAIT_PARENT();
        const long got = update(counter);
        if (got != i) {
            std::fprintf(stderr, "child: expected %ld, got %ld\n", i, got);
            ::_exit(1);
        }
        tell_wait::TELL_PARENT();
    }
    std::fflush(stdout);
    ::_exit(0);
}

inline long nloops_from(int argc, char** argv) {
    const long n = argc > 1 ? std::strtol(argv[1], nullptr, 10) : 1000;
    return n > 0 && n % 2 == 0 ? n : 1000;
}

}  // namespace counter_body
