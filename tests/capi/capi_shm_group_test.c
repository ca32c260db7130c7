/* SPDX-License-Identifier: MIT */
/* Tests of the C API of POSIX shared memory (ipckit_shm_*) and of work-queue groups
 * (ipckit_group_consumer_*), written in C11, across processes. Usage: capi_shm_group_tests [TEST]. */
#define _GNU_SOURCE

#include "capi_harness.h"

#include <stdatomic.h>
#include <sys/mman.h>

#define WAIT_MS 10000
#define GROUP_MESSAGES 2000

static char shm_names[CAPI_MAX_NAMES][CAPI_NAME_SIZE];
static int shm_name_count;

/* Unlinks every shm object the test named; never in a child. */
static void shm_cleanup(void) {
    int i;
    if (capi_in_child) {
        return;
    }
    for (i = 0; i < shm_name_count; ++i) {
        ipckit_status s = ipckit_shm_unlink(shm_names[i], NULL);
        if (s != IPCKIT_OK && s != IPCKIT_ENOENT) {
            fprintf(stderr, "cleanup: unlinking %s: %s\n", shm_names[i], ipckit_status_name(s));
        }
    }
    shm_name_count = 0;
}

/* A unique shm name, /ipckit-test-<pid>-<n>-<tag>, unlinked at exit. */
static const char* shm_unique_name(const char* tag) {
    static int counter;
    static int registered;
    CHECK(shm_name_count < CAPI_MAX_NAMES);
    snprintf(shm_names[shm_name_count], CAPI_NAME_SIZE, "/ipckit-test-%ld-s%d-%s", (long)getpid(),
             counter++, tag);
    if (!registered) {
        registered = 1;
        atexit(shm_cleanup);
    }
    (void)ipckit_shm_unlink(shm_names[shm_name_count], NULL);
    return shm_names[shm_name_count++];
}

static int64_t seconds_from_now(int s) {
    return ipckit_deadline_after((int64_t)s * 1000000000);
}

/* ---- POSIX shm */

struct shm_peer_args {
    const char* name;
};

/* Reads the parent's pattern through a read-only mapping, then answers through a writable one. */
static int shm_peer(void* p) {
    const struct shm_peer_args* a = p;
    ipckit_shm ro;
    ipckit_shm rw;
    const void* data = NULL;
    void* out = NULL;
    size_t size = 0;
    size_t i;
    CHECK_STATUS(IPCKIT_OK, ipckit_shm_open(a->name, 0, &ro, NULL));
    CHECK_STATUS(IPCKIT_OK, ipckit_shm_data(ro, &data, &size, NULL));
    CHECK(size == 8192);
    for (i = 0; i < 4096; ++i) {
        CHECK(((const unsigned char*)data)[i] == (unsigned char)(i * 7));
    }
    CHECK_STATUS(IPCKIT_EACCES, ipckit_shm_data_mut(ro, &out, &size, NULL));
    CHECK_STATUS(IPCKIT_OK, ipckit_shm_close(ro, NULL));
    CHECK_STATUS(IPCKIT_OK, ipckit_shm_open(a->name, 1, &rw, NULL));
    CHECK_STATUS(IPCKIT_OK, ipckit_shm_data_mut(rw, &out, &size, NULL));
    memcpy((char*)out + 4096, "answer", 7);
    CHECK_STATUS(IPCKIT_OK, ipckit_shm_close(rw, NULL));
    return 0;
}

static void test_shm_across_processes(void) {
    const char* name = shm_unique_name("shm");
    struct shm_peer_args args;
    ipckit_shm shm;
    void* data = NULL;
    size_t size = 0;
    size_t i;
    pid_t child;
    CHECK_STATUS(IPCKIT_OK, ipckit_shm_create(name, 8192, 0, &shm, NULL));
    CHECK_STATUS(IPCKIT_OK, ipckit_shm_data_mut(shm, &data, &size, NULL));
    CHECK(size == 8192);
    for (i = 0; i < 4096; ++i) {
        ((unsigned char*)data)[i] = (unsigned char)(i * 7);
    }
    args.name = name;
    child = capi_fork(shm_peer, &args, 20);
    CHECK(capi_wait(child, WAIT_MS) == 0);
    CHECK(strcmp((const char*)data + 4096, "answer") == 0);
    CHECK_STATUS(IPCKIT_OK, ipckit_shm_close(shm, NULL));
}

static void test_shm_errors(void) {
    const char* name = shm_unique_name("err");
    ipckit_shm shm;
    ipckit_shm other;
    ipckit_shm zero = {0};
    ipckit_error err;
    const void* data = NULL;
    CHECK_STATUS(IPCKIT_EINVAL, ipckit_shm_create(name, 0, 0, &shm, NULL));
    CHECK_STATUS(IPCKIT_ENOENT, ipckit_shm_open(name, 1, &shm, NULL));
    CHECK_STATUS(IPCKIT_EINVAL, ipckit_shm_create("no-slash/x", 4096, 0, &shm, NULL));
    CHECK_STATUS(IPCKIT_EINVAL, ipckit_shm_create(NULL, 4096, 0, &shm, NULL));
    CHECK_STATUS(IPCKIT_EINVAL, ipckit_shm_create(name, 4096, 0, NULL, NULL));
    CHECK_STATUS(IPCKIT_OK, ipckit_shm_create(name, 4096, 0, &shm, NULL));
    CHECK_STATUS(IPCKIT_EEXIST, ipckit_shm_create(name, 4096, 0, &other, &err));
    CHECK(err.code == IPCKIT_EEXIST && err.errno_value == EEXIST);
    CHECK(strstr(err.message, name) != NULL);
    CHECK_STATUS(IPCKIT_EINVAL, ipckit_shm_data(shm, NULL, NULL, NULL));
    CHECK_STATUS(IPCKIT_OK, ipckit_shm_close(shm, NULL));
    CHECK_STATUS(IPCKIT_EBADHANDLE, ipckit_shm_close(shm, NULL));
    CHECK_STATUS(IPCKIT_EBADHANDLE, ipckit_shm_data(shm, &data, NULL, NULL));
    CHECK_STATUS(IPCKIT_EBADHANDLE, ipckit_shm_data(zero, &data, NULL, NULL));
    /* The name outlives the handle (C names persist until unlinked). */
    CHECK_STATUS(IPCKIT_OK, ipckit_shm_open(name, 0, &shm, NULL));
    CHECK_STATUS(IPCKIT_OK, ipckit_shm_close(shm, NULL));
    CHECK_STATUS(IPCKIT_OK, ipckit_shm_unlink(name, NULL));
    CHECK_STATUS(IPCKIT_ENOENT, ipckit_shm_unlink(name, NULL));
}

/* ---- work-queue groups */

struct group_shared {
    atomic_uint taken;                  /* messages received over both consumers */
    atomic_uchar seen[GROUP_MESSAGES];  /* times each message was received */
};

struct consumer_args {
    const char* name;
    struct group_shared* shared;
    int ready_fd;
};

/* Joins group "workers", says so, and takes messages until all were taken by someone. */
static int consume(void* p) {
    const struct consumer_args* a = p;
    ipckit_group_consumer c;
    unsigned char buf[64];
    CHECK_STATUS(IPCKIT_OK, ipckit_group_consumer_open(a->name, "workers", NULL, &c, NULL));
    capi_send_byte(a->ready_fd);
    while (atomic_load(&a->shared->taken) < GROUP_MESSAGES) {
        size_t size = 0;
        int redelivered = -1;
        unsigned seq = 0;
        ipckit_status s = ipckit_group_consumer_receive(
            c, buf, sizeof buf, ipckit_deadline_after(20000000), &size, &redelivered, NULL);
        if (s == IPCKIT_ETIMEDOUT) {
            continue;
        }
        CHECK_STATUS(IPCKIT_OK, s);
        CHECK(size == sizeof seq && redelivered == 0);
        memcpy(&seq, buf, sizeof seq);
        CHECK(seq < GROUP_MESSAGES);
        atomic_fetch_add(&a->shared->seen[seq], 1);
        atomic_fetch_add(&a->shared->taken, 1);
    }
    CHECK_STATUS(IPCKIT_OK, ipckit_group_consumer_close(c, NULL));
    return 0;
}

static void test_group_across_processes(void) {
    const char* name = capi_unique_name("group");
    struct group_shared* shared;
    struct consumer_args args;
    ipckit_publisher pub;
    int ready[2];
    pid_t children[2];
    unsigned seq;
    int i;
    shared = mmap(NULL, sizeof *shared, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(shared != MAP_FAILED);
    CHECK(pipe(ready) == 0);
    CHECK_STATUS(IPCKIT_OK, ipckit_publisher_create(name, NULL, &pub, NULL));
    args.name = name;
    args.shared = shared;
    args.ready_fd = ready[1];
    for (i = 0; i < 2; ++i) {
        children[i] = capi_fork(consume, &args, 30);
    }
    for (i = 0; i < 2; ++i) {
        CHECK(capi_wait_byte(ready[0], WAIT_MS));
    }
    for (seq = 0; seq < GROUP_MESSAGES; ++seq) {
        CHECK_STATUS(IPCKIT_OK, ipckit_publisher_send(pub, &seq, sizeof seq, seconds_from_now(10),
                                                      NULL));
    }
    for (i = 0; i < 2; ++i) {
        CHECK(capi_wait(children[i], 20000) == 0);
    }
    CHECK(atomic_load(&shared->taken) == GROUP_MESSAGES);
    for (seq = 0; seq < GROUP_MESSAGES; ++seq) {
        CHECK(atomic_load(&shared->seen[seq]) == 1); /* each message to exactly one consumer */
    }
    CHECK_STATUS(IPCKIT_OK, ipckit_publisher_close(pub, NULL));
    close(ready[0]);
    close(ready[1]);
    munmap(shared, sizeof *shared);
}

static void test_group_small_buffer_and_errors(void) {
    const char* name = capi_unique_name("gsmall");
    ipckit_publisher pub;
    ipckit_group_consumer c;
    ipckit_group_consumer forged;
    ipckit_shm shm;
    char buf[32];
    size_t size = 0;
    int redelivered = -1;
    CHECK_STATUS(IPCKIT_ENOENT, ipckit_group_consumer_open(name, "w", NULL, &c, NULL));
    CHECK_STATUS(IPCKIT_OK, ipckit_publisher_create(name, NULL, &pub, NULL));
    CHECK_STATUS(IPCKIT_EINVAL, ipckit_group_consumer_open(name, "bad name", NULL, &c, NULL));
    CHECK_STATUS(IPCKIT_EINVAL, ipckit_group_consumer_open(name, NULL, NULL, &c, NULL));
    CHECK_STATUS(IPCKIT_OK, ipckit_group_consumer_open(name, "w", NULL, &c, NULL));
    CHECK_STATUS(IPCKIT_EAGAIN, ipckit_group_consumer_receive(c, buf, sizeof buf, 0, &size, NULL,
                                                              NULL));
    CHECK_STATUS(IPCKIT_OK, ipckit_publisher_send(pub, "hello world", 11, seconds_from_now(5), NULL));
    /* Too small: kept, not acknowledged, returned first next time. */
    CHECK_STATUS(IPCKIT_EMSGSIZE, ipckit_group_consumer_receive(c, buf, 4, 0, &size, NULL, NULL));
    CHECK(size == 11);
    CHECK_STATUS(IPCKIT_EINVAL, ipckit_group_consumer_receive(c, NULL, 4, 0, &size, NULL, NULL));
    CHECK_STATUS(IPCKIT_OK, ipckit_group_consumer_receive(c, buf, sizeof buf, 0, &size,
                                                          &redelivered, NULL));
    CHECK(size == 11 && memcmp(buf, "hello world", 11) == 0 && redelivered == 0);
    CHECK_STATUS(IPCKIT_ETIMEDOUT,
                 ipckit_group_consumer_receive(c, buf, sizeof buf, ipckit_deadline_after(1000000),
                                               &size, NULL, NULL));
    /* A handle of another kind, cast: refused by its kind. */
    CHECK_STATUS(IPCKIT_OK, ipckit_shm_create(shm_unique_name("kind"), 4096, 0, &shm, NULL));
    forged.handle = shm.handle;
    CHECK_STATUS(IPCKIT_EBADHANDLE, ipckit_group_consumer_receive(forged, buf, sizeof buf, 0,
                                                                  &size, NULL, NULL));
    CHECK_STATUS(IPCKIT_OK, ipckit_shm_close(shm, NULL));
    CHECK_STATUS(IPCKIT_OK, ipckit_group_consumer_close(c, NULL));
    CHECK_STATUS(IPCKIT_EBADHANDLE, ipckit_group_consumer_close(c, NULL));
    CHECK_STATUS(IPCKIT_EBADHANDLE,
                 ipckit_group_consumer_receive(c, buf, sizeof buf, 0, &size, NULL, NULL));
    CHECK_STATUS(IPCKIT_OK, ipckit_publisher_close(pub, NULL));
}

struct test_case {
    const char* name;
    void (*fn)(void);
};

static const struct test_case tests[] = {
    {"shm_across_processes", test_shm_across_processes},
    {"shm_errors", test_shm_errors},
    {"group_across_processes", test_group_across_processes},
    {"group_small_buffer_and_errors", test_group_small_buffer_and_errors},
};

int main(int argc, char** argv) {
    size_t i;
    int ran = 0;
    (void)capi_unique_sem_name; /* the harness's other kinds of names: unused here */
    (void)capi_unique_mq_name;
    for (i = 0; i < sizeof tests / sizeof tests[0]; ++i) {
        if (argc < 2 || strcmp(argv[1], tests[i].name) == 0) {
            printf("[ RUN ] %s\n", tests[i].name);
            tests[i].fn();
            shm_cleanup();
            capi_cleanup();
            printf("[ OK  ] %s\n", tests[i].name);
            ++ran;
        }
    }
    if (argc >= 2 && ran == 0) {
        fprintf(stderr, "no test named %s\n", argv[1]);
        return 2;
    }
    return 0;
}
