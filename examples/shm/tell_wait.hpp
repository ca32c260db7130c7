// SPDX-License-Identifier: MIT
// The seeds' two-pipe TELL_WAIT helpers (Program 15.7): parent and child take turns by writing
// one byte ('p' or 'c') into a pipe the other side blocks reading. Shared by the shm examples.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>

namespace tell_wait {

inline int pfd1[2];  // parent -> child ('p')
inline int pfd2[2];  // child -> parent ('c')

[[noreturn]] inline void die(const char* what) {
    std::perror(what);
    std::exit(1);
}

inline void put(int fd, char c) {
    ssize_t n = 0;
    do {
        n = ::write(fd, &c, 1);
    } while (n == -1 && errno == EINTR);
    if (n != 1) {
        die("TELL write");
    }
}

inline void expect(int fd, char want, const char* who) {
    char c = 0;
    ssize_t n = 0;
    do {
        n = ::read(fd, &c, 1);
    } while (n == -1 && errno == EINTR);
    if (n != 1) {
        die("WAIT read");
    }
    if (c != want) {
        std::fprintf(stderr, "%s: incorrect data\n", who);
        std::exit(1);
    }
}

// Called before fork(). O_CLOEXEC: these pipes are for the two of us only.
inline void TELL_WAIT() {  // NOLINT(readability-identifier-naming): the seeds' names
    if (::pipe2(pfd1, O_CLOEXEC) < 0 || ::pipe2(pfd2, O_CLOEXEC) < 0) {
        die("pipe error");
    }
}
inline void TELL_PARENT() {
    put(pfd2[1], 'c');
}  // NOLINT(readability-identifier-naming)
inline void WAIT_PARENT() {
    expect(pfd1[0], 'p', "WAIT_PARENT");
}  // NOLINT(readability-identifier-naming)
inline void TELL_CHILD() {
    put(pfd1[1], 'p');
}  // NOLINT(readability-identifier-naming)
inline void WAIT_CHILD() {
    expect(pfd2[0], 'c', "WAIT_CHILD");
}  // NOLINT(readability-identifier-naming)

}  // namespace tell_wait
