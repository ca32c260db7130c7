/* SPDX-License-Identifier: MIT */
/* A small test harness in C for the C API tests: checks, unique channel names removed at exit
 * (also after a failed check), forked peers with a hard timeout, a ready pipe. */
#ifndef IPCKIT_TESTS_CAPI_HARNESS_H
#define IPCKIT_TESTS_CAPI_HARNESS_H

#include "ipckit/ipckit.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CAPI_MAX_NAMES 32
#define CAPI_NAME_SIZE 96

static char capi_names[CAPI_MAX_NAMES][CAPI_NAME_SIZE];
static int capi_name_is_sem[CAPI_MAX_NAMES]; /* 0: a channel, 1: a semaphore, 2: a queue */
static int capi_name_count;
static int capi_in_child;
static int capi_atexit_done;

/* Removes every channel the test named; runs at exit of the test process (never in a child). */
static void capi_cleanup(void) {
    int i;
    if (capi_in_child) {
        return;
    }
    for (i = 0; i < capi_name_count; ++i) {
        ipckit_status s = capi_name_is_sem[i] == 2 ? ipckit_mq_unlink(capi_names[i], NULL)
                          : capi_name_is_sem[i] == 1
                              ? ipckit_semaphore_unlink(capi_names[i], NULL)
                              : ipckit_channel_remove(capi_names[i], NULL, NULL);
        if (s != IPCKIT_OK && s != IPCKIT_ENOENT) {
            fprintf(stderr, "cleanup: removing %s: %s\n", capi_names[i], ipckit_status_name(s));
        }
    }
    capi_name_count = 0;
}

/* A failed check: the parent exits through capi_cleanup, a child with _exit (the parent owns
 * the names). */
static void capi_fail(const char* file, int line, const char* expr) {
    fprintf(
        stderr, "%s:%d: %sCHECK failed: %s\n", file, line, capi_in_child ? "[child] " : "", expr);
    if (capi_in_child) {
        _exit(1);
    }
    exit(1);
}

#define CHECK(expr)                               \
    do {                                          \
        if (!(expr)) {                            \
            capi_fail(__FILE__, __LINE__, #expr); \
        }                                         \
    } while (0)

/* CHECK that a call returns `want`, printing both statuses and the error message otherwise. */
#define CHECK_STATUS(want, call)                        \
    do {                                                \
        ipckit_status capi_got_ = (call);               \
        if (capi_got_ != (want)) {                      \
            fprintf(stderr,                             \
                    "%s:%d: %s returned %s, want %s\n", \
                    __FILE__,                           \
                    __LINE__,                           \
                    #call,                              \
                    ipckit_status_name(capi_got_),      \
                    ipckit_status_name(want));          \
            capi_fail(__FILE__, __LINE__, #call);       \
        }                                               \
    } while (0)

/* Records a queue name for the suite's leak check (tests/support/ipc_registry.cpp does the
 * same for the C++ tests), for hosts where /dev/mqueue is not mounted. */
static void capi_track_mq(const char* name) {
    const char* dir = getenv("IPCKIT_TEST_TRACK_DIR");
    char path[512];
    FILE* f;
    if (dir == NULL) {
        return;
    }
    snprintf(path, sizeof path, "%s/mq-names", dir);
    f = fopen(path, "a");
    if (f != NULL) {
        fprintf(f, "%s\n", name);
        fclose(f);
    }
}

static const char* capi_register_name(const char* prefix, const char* tag, int is_sem) {
    static int counter;
    char* name;
    CHECK(capi_name_count < CAPI_MAX_NAMES);
    name = capi_names[capi_name_count];
    snprintf(
        name, CAPI_NAME_SIZE, "%sipckit-test-%ld-%d-%s", prefix, (long)getpid(), counter++, tag);
    capi_name_is_sem[capi_name_count] = is_sem;
    ++capi_name_count;
    if (!capi_atexit_done) {
        capi_atexit_done = 1;
        atexit(capi_cleanup);
    }
    /* a leftover of a recycled pid */
    if (is_sem == 2) {
        capi_track_mq(name);
        (void)ipckit_mq_unlink(name, NULL);
    } else if (is_sem) {
        (void)ipckit_semaphore_unlink(name, NULL);
    } else {
        (void)ipckit_channel_remove(name, NULL, NULL);
    }
    return name;
}

/* A unique channel name, ipckit-test-<pid>-<n>-<tag>, removed at exit. */
static const char* capi_unique_name(const char* tag) {
    return capi_register_name("", tag, 0);
}

/* A unique POSIX queue name, /ipckit-test-<pid>-<n>-<tag>, unlinked at exit. */
static const char* capi_unique_mq_name(const char* tag) {
    return capi_register_name("/", tag, 2);
}

/* A unique semaphore name, /ipckit-test-<pid>-<n>-<tag>, unlinked at exit. */
static const char* capi_unique_sem_name(const char* tag) {
    return capi_register_name("/", tag, 1);
}

/* Runs fn(arg) in a child that dies with the parent and after `timeout_s` at most. */
static pid_t capi_fork(int (*fn)(void*), void* arg, unsigned timeout_s) {
    pid_t pid;
    fflush(NULL);
    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        capi_in_child = 1;
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        alarm(timeout_s);
        _exit(fn(arg));
    }
    return pid;
}

/* The child's exit code, or -1 after killing it when it did not end within timeout_ms, or
 * 128+signal when a signal ended it. */
static int capi_wait(pid_t pid, int timeout_ms) {
    int status = 0;
    int waited = 0;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) {
            break;
        }
        CHECK(r == 0);
        if (waited >= timeout_ms) {
            kill(pid, SIGKILL);
            CHECK(waitpid(pid, &status, 0) == pid);
            fprintf(stderr, "child %ld timed out after %d ms\n", (long)pid, timeout_ms);
            return -1;
        }
        usleep(1000);
        ++waited;
    }
    if (WIFEXITED(status)) {
        return WEXITSTATUS(status);
    }
    return 128 + WTERMSIG(status);
}

/* One byte through a pipe, waited for with a timeout: 1 if it came. */
static int capi_wait_readable(int fd, int timeout_ms) {
    struct pollfd p;
    int r;
    p.fd = fd;
    p.events = POLLIN;
    p.revents = 0;
    do {
        r = poll(&p, 1, timeout_ms);
    } while (r < 0 && errno == EINTR);
    return r == 1;
}

static int capi_wait_byte(int fd, int timeout_ms) {
    char c = 0;
    return capi_wait_readable(fd, timeout_ms) && read(fd, &c, 1) == 1;
}

static void capi_send_byte(int fd) {
    char c = 'x';
    CHECK(write(fd, &c, 1) == 1);
}

#endif /* IPCKIT_TESTS_CAPI_HARNESS_H */
