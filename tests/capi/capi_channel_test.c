/* SPDX-License-Identifier: MIT */
/* The C API of the channel (include/ipckit/ipckit.h), compiled as C11: publish and receive
 * across processes, deadlines, the pollable descriptor, counters, and every misuse a C caller
 * can make (bad, closed and forged handles, double release, oversized loans, NULL pointers),
 * which must give a clear status and never crash. Usage: capi_channel_tests [TEST]. */
#define _GNU_SOURCE

#include "capi_harness.h"

#include <pthread.h>
#include <sys/stat.h>
#include <sys/time.h>

#include <stdatomic.h>
#include <stdint.h>

#define MSGS 2000

static ipckit_channel_config small_config(uint64_t max_message_size) {
    ipckit_channel_config c;
    CHECK_STATUS(IPCKIT_OK, ipckit_channel_config_init(&c));
    c.max_message_size = max_message_size;
    c.lane_bytes = 64 * 1024;
    return c;
}

/* ---- a subscriber process and a publisher process on one channel */

struct peer_args {
    const char* name;
    int ready_fd; /* the subscriber writes a byte once it has joined */
};

static int subscriber_peer(void* p) {
    const struct peer_args* a = p;
    ipckit_subscriber sub;
    ipckit_counters counters;
    ipckit_error err;
    uint32_t i;
    CHECK_STATUS(IPCKIT_OK, ipckit_subscriber_open(a->name, NULL, &sub, &err));
    capi_send_byte(a->ready_fd);
    for (i = 0; i < MSGS; ++i) {
        ipckit_sample s;
        uint32_t got;
        CHECK_STATUS(IPCKIT_OK,
                     ipckit_subscriber_receive(sub, ipckit_deadline_after(5000000000LL), &s, &err));
        CHECK(s.size == 5 + (i % 61));
        CHECK(s.lost_before == 0);
        memcpy(&got, s.data, sizeof got);
        CHECK(got == i);
        CHECK(((const unsigned char*)s.data)[s.size - 1] == (unsigned char)(i % 251));
        CHECK_STATUS(IPCKIT_OK, ipckit_subscriber_release(sub, &s, &err));
        CHECK(s.data == NULL && s.token == 0);
    }
    for (i = 0; i < 100; ++i) { /* the copying receive, same channel */
        unsigned char buf[64];
        ipckit_received info;
        uint32_t got;
        CHECK_STATUS(IPCKIT_OK,
                     ipckit_subscriber_receive_copy(
                         sub, buf, sizeof buf, ipckit_deadline_after(5000000000LL), &info, &err));
        CHECK(info.size == 8);
        memcpy(&got, buf, sizeof got);
        CHECK(got == MSGS + i);
    }
    CHECK_STATUS(IPCKIT_OK, ipckit_subscriber_counters(sub, &counters, &err));
    CHECK(counters.received == MSGS + 100);
    CHECK(counters.lost == 0);
    CHECK(counters.corrupt == 0);
    CHECK_STATUS(IPCKIT_OK, ipckit_subscriber_close(sub, &err));
    return 0;
}

static int publisher_peer(void* p) {
    const struct peer_args* a = p;
    ipckit_publisher pub;
    ipckit_error err;
    uint64_t published = 0;
    uint32_t i;
    CHECK_STATUS(IPCKIT_OK, ipckit_publisher_open(a->name, NULL, &pub, &err));
    for (i = 0; i < MSGS; ++i) {
        ipckit_loan loan;
        size_t n = 5 + (i % 61);
        CHECK_STATUS(
            IPCKIT_OK,
            ipckit_publisher_loan(pub, 80, ipckit_deadline_after(5000000000LL), &loan, &err));
        CHECK(loan.capacity == 80 && loan.data != NULL);
        memset(loan.data, 0, n);
        memcpy(loan.data, &i, sizeof i);
        ((unsigned char*)loan.data)[n - 1] = (unsigned char)(i % 251);
        CHECK_STATUS(IPCKIT_OK, ipckit_publisher_publish(pub, &loan, n, &err));
        CHECK(loan.data == NULL && loan.token == 0);
    }
    for (i = MSGS; i < MSGS + 100; ++i) {
        uint32_t msg[2];
        msg[0] = i;
        msg[1] = 0;
        CHECK_STATUS(
            IPCKIT_OK,
            ipckit_publisher_send(pub, msg, sizeof msg, ipckit_deadline_after(5000000000LL), &err));
    }
    CHECK_STATUS(IPCKIT_OK, ipckit_publisher_published(pub, &published, &err));
    CHECK(published == MSGS + 100);
    CHECK_STATUS(IPCKIT_OK, ipckit_publisher_close(pub, &err));
    return 0;
}

/* Block policy with a 64 KiB lane: the publisher must wait for the subscriber's releases. */
static void test_pubsub_across_processes(void) {
    const char* name = capi_unique_name("capi-pubsub");
    ipckit_channel_config c = small_config(1024);
    struct peer_args a;
    int ready[2];
    pid_t sub_pid;
    pid_t pub_pid;
    CHECK_STATUS(IPCKIT_OK, ipckit_channel_create(name, &c, NULL));
    CHECK(pipe(ready) == 0);
    a.name = name;
    a.ready_fd = ready[1];
    sub_pid = capi_fork(subscriber_peer, &a, 30);
    CHECK(capi_wait_byte(ready[0], 10000));
    pub_pid = capi_fork(publisher_peer, &a, 30);
    CHECK(capi_wait(pub_pid, 30000) == 0);
    CHECK(capi_wait(sub_pid, 30000) == 0);
    close(ready[0]);
    close(ready[1]);
}

/* ---- deadlines */

static void test_wait_with_deadline(void) {
    const char* name = capi_unique_name("capi-deadline");
    ipckit_channel_config c = small_config(1024);
    ipckit_subscriber sub;
    ipckit_sample s;
    ipckit_error err;
    unsigned char buf[16];
    int64_t start;
    int64_t elapsed;
    CHECK_STATUS(IPCKIT_OK, ipckit_channel_create(name, &c, &err));
    CHECK_STATUS(IPCKIT_OK, ipckit_subscriber_open(name, NULL, &sub, &err));
    CHECK_STATUS(IPCKIT_EAGAIN, ipckit_subscriber_receive(sub, 0, &s, &err));
    CHECK_STATUS(IPCKIT_EAGAIN,
                 ipckit_subscriber_receive_copy(sub, buf, sizeof buf, 0, NULL, &err));
    start = ipckit_now();
    CHECK_STATUS(IPCKIT_ETIMEDOUT,
                 ipckit_subscriber_receive(sub, ipckit_deadline_after(50000000), &s, &err));
    elapsed = ipckit_now() - start;
    CHECK(elapsed >= 50000000);
    CHECK(elapsed < 5000000000LL);
    CHECK_STATUS(IPCKIT_ETIMEDOUT,
                 ipckit_subscriber_receive_copy(
                     sub, buf, sizeof buf, ipckit_deadline_after(1000000), NULL, &err));
    /* A deadline already in the past is a timeout, not a wait. */
    CHECK_STATUS(IPCKIT_ETIMEDOUT, ipckit_subscriber_receive(sub, 1, &s, &err));
    CHECK_STATUS(IPCKIT_OK, ipckit_subscriber_close(sub, &err));
}

static void test_deadline_arithmetic(void) {
    int64_t now = ipckit_now();
    struct timespec ts;
    CHECK(clock_gettime(CLOCK_MONOTONIC, &ts) == 0);
    CHECK(now > 0);
    CHECK(ipckit_deadline_after(IPCKIT_NEVER) == IPCKIT_NEVER);
    CHECK(ipckit_deadline_after(INT64_MAX - 1) == IPCKIT_NEVER);
    CHECK(ipckit_deadline_after(-5) >= now);
    CHECK(ipckit_deadline_after(1000000000) >= now + 1000000000);
    CHECK(strcmp(ipckit_status_name(IPCKIT_OK), "IPCKIT_OK") == 0);
    CHECK(strcmp(ipckit_status_name(IPCKIT_EBADHANDLE), "IPCKIT_EBADHANDLE") == 0);
    CHECK(strcmp(ipckit_status_name(IPCKIT_ESYS), "IPCKIT_ESYS") == 0);
    CHECK(strcmp(ipckit_status_name(-1000), "IPCKIT_E?") == 0);
    CHECK(strcmp(ipckit_status_name(5), "IPCKIT_E?") == 0);
    CHECK(strcmp(ipckit_status_name(INT32_MIN), "IPCKIT_E?") == 0);
}

/* ---- the pollable descriptor, woken by a publisher in another process */

static int late_publisher(void* p) {
    const struct peer_args* a = p;
    ipckit_publisher pub;
    uint32_t v = 42;
    CHECK_STATUS(IPCKIT_OK, ipckit_publisher_open(a->name, NULL, &pub, NULL));
    CHECK(capi_wait_byte(a->ready_fd, 10000)); /* the parent is polling */
    usleep(20000);
    CHECK_STATUS(IPCKIT_OK, ipckit_publisher_send(pub, &v, sizeof v, IPCKIT_NEVER, NULL));
    CHECK_STATUS(IPCKIT_OK, ipckit_publisher_close(pub, NULL));
    return 0;
}

static void test_pollable_fd(void) {
    const char* name = capi_unique_name("capi-fd");
    ipckit_channel_config c = small_config(1024);
    ipckit_subscriber sub;
    ipckit_sample s;
    ipckit_error err;
    struct peer_args a;
    int go[2];
    int fd = -1;
    int fd2 = -1;
    uint64_t counter = 0;
    uint32_t v = 0;
    pid_t pid;
    CHECK_STATUS(IPCKIT_OK, ipckit_channel_create(name, &c, &err));
    CHECK_STATUS(IPCKIT_OK, ipckit_subscriber_open(name, NULL, &sub, &err));
    CHECK_STATUS(IPCKIT_OK, ipckit_subscriber_fd(sub, &fd, &err));
    CHECK(fd >= 0);
    CHECK_STATUS(IPCKIT_OK, ipckit_subscriber_fd(sub, &fd2, &err));
    CHECK(fd2 == fd);
    CHECK(!capi_wait_readable(fd, 0) || read(fd, &counter, sizeof counter) == sizeof counter);
    CHECK(pipe(go) == 0);
    a.name = name;
    a.ready_fd = go[0];
    pid = capi_fork(late_publisher, &a, 30);
    capi_send_byte(go[1]);
    CHECK(capi_wait_readable(fd, 10000));
    CHECK(read(fd, &counter, sizeof counter) == sizeof counter);
    CHECK(counter >= 1);
    CHECK_STATUS(IPCKIT_OK, ipckit_subscriber_receive(sub, 0, &s, &err));
    CHECK(s.size == sizeof v);
    memcpy(&v, s.data, sizeof v);
    CHECK(v == 42);
    CHECK_STATUS(IPCKIT_OK, ipckit_subscriber_release(sub, &s, &err));
    CHECK_STATUS(IPCKIT_EAGAIN, ipckit_subscriber_receive(sub, 0, &s, &err));
    CHECK(capi_wait(pid, 30000) == 0);
    CHECK_STATUS(IPCKIT_OK, ipckit_subscriber_close(sub, &err));
    close(go[0]);
    close(go[1]);
}

/* ---- lost counter: overwrite mode, a subscriber that does not keep up */

static void test_overwrite_counts_lost(void) {
    const char* name = capi_unique_name("capi-lost");
    ipckit_channel_config c = small_config(256);
    ipckit_publisher pub;
    ipckit_subscriber sub;
    ipckit_counters counters;
    ipckit_received info;
    ipckit_error err;
    unsigned char buf[256];
    uint64_t published = 0;
    uint64_t lost_seen = 0;
    uint32_t i;
    uint32_t last = 0;
    int first = 1;
    ipckit_status st;
    c.policy = IPCKIT_POLICY_OVERWRITE;
    c.lane_bytes = 4096;
    CHECK_STATUS(IPCKIT_OK, ipckit_publisher_create(name, &c, &pub, &err));
    CHECK_STATUS(IPCKIT_OK, ipckit_subscriber_open(name, NULL, &sub, &err));
    for (i = 0; i < 1000; ++i) {
        memset(buf, 0, sizeof buf);
        memcpy(buf, &i, sizeof i);
        CHECK_STATUS(IPCKIT_OK, ipckit_publisher_send(pub, buf, 200, 0, &err));
    }
    while ((st = ipckit_subscriber_receive_copy(sub, buf, sizeof buf, 0, &info, &err)) ==
           IPCKIT_OK) {
        uint32_t v;
        memcpy(&v, buf, sizeof v);
        CHECK(first || v > last);
        first = 0;
        last = v;
        lost_seen += info.lost_before;
    }
    CHECK_STATUS(IPCKIT_EAGAIN, st);
    CHECK(last == 999);
    CHECK_STATUS(IPCKIT_OK, ipckit_subscriber_counters(sub, &counters, &err));
    CHECK_STATUS(IPCKIT_OK, ipckit_publisher_published(pub, &published, &err));
    CHECK(published == 1000);
    CHECK(counters.lost > 0);
    CHECK(counters.lost == lost_seen);
    CHECK(counters.received + counters.lost == published);
    CHECK(counters.corrupt == 0);
    CHECK_STATUS(IPCKIT_OK, ipckit_subscriber_close(sub, &err));
    CHECK_STATUS(IPCKIT_OK, ipckit_publisher_close(pub, &err));
}

/* ---- misuse: handles */

static void check_bad_publisher(ipckit_publisher pub) {
    ipckit_error err;
    ipckit_loan loan;
    size_t size = 0;
    uint64_t n = 0;
    memset(&loan, 0, sizeof loan);
    memset(&err, 0, sizeof err);
    CHECK_STATUS(IPCKIT_EBADHANDLE, ipckit_publisher_loan(pub, 8, 0, &loan, &err));
    CHECK(err.code == IPCKIT_EBADHANDLE);
    CHECK(err.errno_value == 0);
    CHECK(strstr(err.message, "ipckit_publisher_loan") != NULL);
    CHECK_STATUS(IPCKIT_EBADHANDLE, ipckit_publisher_publish(pub, &loan, 0, &err));
    CHECK_STATUS(IPCKIT_EBADHANDLE, ipckit_publisher_discard(pub, &loan, &err));
    CHECK_STATUS(IPCKIT_EBADHANDLE, ipckit_publisher_send(pub, "x", 1, 0, &err));
    CHECK_STATUS(IPCKIT_EBADHANDLE, ipckit_publisher_max_message_size(pub, &size, &err));
    CHECK_STATUS(IPCKIT_EBADHANDLE, ipckit_publisher_published(pub, &n, NULL));
    CHECK_STATUS(IPCKIT_EBADHANDLE, ipckit_publisher_close(pub, &err));
}

static void check_bad_subscriber(ipckit_subscriber sub) {
    ipckit_error err;
    ipckit_sample s;
    ipckit_counters counters;
    unsigned char buf[8];
    size_t size = 0;
    int fd = -1;
    memset(&s, 0, sizeof s);
    CHECK_STATUS(IPCKIT_EBADHANDLE, ipckit_subscriber_receive(sub, 0, &s, &err));
    CHECK(err.code == IPCKIT_EBADHANDLE);
    CHECK_STATUS(IPCKIT_EBADHANDLE, ipckit_subscriber_receive(sub, IPCKIT_NEVER, &s, &err));
    CHECK_STATUS(IPCKIT_EBADHANDLE, ipckit_subscriber_release(sub, &s, &err));
    CHECK_STATUS(IPCKIT_EBADHANDLE,
                 ipckit_subscriber_receive_copy(sub, buf, sizeof buf, IPCKIT_NEVER, NULL, &err));
    CHECK_STATUS(IPCKIT_EBADHANDLE, ipckit_subscriber_fd(sub, &fd, &err));
    CHECK(fd == -1);
    CHECK_STATUS(IPCKIT_EBADHANDLE, ipckit_subscriber_counters(sub, &counters, &err));
    CHECK_STATUS(IPCKIT_EBADHANDLE, ipckit_subscriber_max_message_size(sub, &size, NULL));
    CHECK_STATUS(IPCKIT_EBADHANDLE, ipckit_subscriber_close(sub, &err));
}

static void test_bad_handles(void) {
    const char* name = capi_unique_name("capi-handles");
    ipckit_channel_config c = small_config(1024);
    ipckit_publisher pub;
    ipckit_publisher pub2;
    ipckit_publisher as_pub;
    ipckit_subscriber sub;
    ipckit_subscriber as_sub;
    ipckit_publisher forged;
    ipckit_subscriber zero;
    ipckit_error err;
    uint64_t bits;
    size_t size = 0;
    CHECK_STATUS(IPCKIT_OK, ipckit_publisher_create(name, &c, &pub, &err));
    CHECK_STATUS(IPCKIT_OK, ipckit_subscriber_open(name, NULL, &sub, &err));

    /* never opened: zero, forged values (live-looking generations, huge indexes) */
    zero.handle = 0;
    check_bad_subscriber(zero);
    for (bits = 1; bits != 0; bits <<= 1) {
        forged.handle = bits | (1ULL << 32);
        if (forged.handle != pub.handle) {
            check_bad_publisher(forged);
        }
    }
    forged.handle = UINT64_MAX;
    check_bad_publisher(forged);
    forged.handle = pub.handle + (2ULL << 32); /* right slot, later generation */
    check_bad_publisher(forged);

    /* a handle of the other kind */
    as_pub.handle = sub.handle;
    check_bad_publisher(as_pub);
    as_sub.handle = pub.handle;
    check_bad_subscriber(as_sub);

    /* the wrong-kind calls did not close anything */
    CHECK_STATUS(IPCKIT_OK, ipckit_publisher_max_message_size(pub, &size, &err));
    CHECK(size == 1024);
    CHECK_STATUS(IPCKIT_OK, ipckit_subscriber_max_message_size(sub, &size, &err));
    CHECK(size == 1024);

    /* closed handles, and a slot reused by a new handle: the old value stays dead */
    CHECK_STATUS(IPCKIT_OK, ipckit_publisher_close(pub, &err));
    check_bad_publisher(pub);
    CHECK_STATUS(IPCKIT_OK, ipckit_publisher_open(name, NULL, &pub2, &err));
    CHECK(pub2.handle != pub.handle);
    check_bad_publisher(pub);
    CHECK_STATUS(IPCKIT_OK, ipckit_publisher_send(pub2, "ok", 2, 0, &err));
    CHECK_STATUS(IPCKIT_OK, ipckit_subscriber_close(sub, &err));
    check_bad_subscriber(sub);
    CHECK_STATUS(IPCKIT_OK, ipckit_publisher_close(pub2, &err));
    CHECK_STATUS(IPCKIT_EBADHANDLE, ipckit_publisher_close(pub2, NULL));
}

/* Many handles opened and closed: every live one works, every closed one is dead. */
static void test_handle_reuse(void) {
    const char* name = capi_unique_name("capi-reuse");
    ipckit_channel_config c = small_config(1024);
    ipckit_subscriber subs[12];
    ipckit_subscriber old[12];
    ipckit_counters counters;
    int round;
    int i;
    c.max_subscribers = 12;
    CHECK_STATUS(IPCKIT_OK, ipckit_channel_create(name, &c, NULL));
    for (round = 0; round < 20; ++round) {
        for (i = 0; i < 12; ++i) {
            CHECK_STATUS(IPCKIT_OK, ipckit_subscriber_open(name, NULL, &subs[i], NULL));
            if (round > 0) {
                CHECK(subs[i].handle != old[i].handle);
                CHECK_STATUS(IPCKIT_EBADHANDLE,
                             ipckit_subscriber_counters(old[i], &counters, NULL));
            }
        }
        for (i = 0; i < 12; ++i) {
            CHECK_STATUS(IPCKIT_OK, ipckit_subscriber_counters(subs[i], &counters, NULL));
            CHECK_STATUS(IPCKIT_OK, ipckit_subscriber_close(subs[i], NULL));
            old[i] = subs[i];
        }
    }
}

/* ---- misuse: samples */

static void test_double_release(void) {
    const char* name = capi_unique_name("capi-release");
    ipckit_channel_config c = small_config(1024);
    ipckit_publisher pub;
    ipckit_subscriber sub;
    ipckit_sample s;
    ipckit_sample copy;
    ipckit_sample again;
    ipckit_sample forged;
    ipckit_error err;
    CHECK_STATUS(IPCKIT_OK, ipckit_publisher_create(name, &c, &pub, &err));
    CHECK_STATUS(IPCKIT_OK, ipckit_subscriber_open(name, NULL, &sub, &err));
    CHECK_STATUS(IPCKIT_OK, ipckit_publisher_send(pub, "one", 3, 0, &err));
    CHECK_STATUS(IPCKIT_OK, ipckit_publisher_send(pub, "two", 3, 0, &err));
    CHECK_STATUS(IPCKIT_OK, ipckit_subscriber_receive(sub, 0, &s, &err));
    CHECK(s.size == 3 && memcmp(s.data, "one", 3) == 0);
    copy = s;
    CHECK_STATUS(IPCKIT_OK, ipckit_subscriber_release(sub, &s, &err));
    /* the same struct again (cleared), and a copy taken before the release */
    CHECK_STATUS(IPCKIT_EBADHANDLE, ipckit_subscriber_release(sub, &s, &err));
    CHECK(err.code == IPCKIT_EBADHANDLE);
    CHECK_STATUS(IPCKIT_EBADHANDLE, ipckit_subscriber_release(sub, &copy, &err));
    /* the next sample takes the same slot: the old token still does not match */
    CHECK_STATUS(IPCKIT_OK, ipckit_subscriber_receive(sub, 0, &again, &err));
    CHECK(again.size == 3 && memcmp(again.data, "two", 3) == 0);
    CHECK_STATUS(IPCKIT_EBADHANDLE, ipckit_subscriber_release(sub, &copy, &err));
    forged = again;
    forged.token ^= 2ULL << 32;
    CHECK_STATUS(IPCKIT_EBADHANDLE, ipckit_subscriber_release(sub, &forged, &err));
    forged = again;
    forged.token += 7; /* an index past the slots */
    CHECK_STATUS(IPCKIT_EBADHANDLE, ipckit_subscriber_release(sub, &forged, &err));
    forged = again;
    forged.data = (const char*)again.data + 16; /* right token, another pointer */
    CHECK_STATUS(IPCKIT_EBADHANDLE, ipckit_subscriber_release(sub, &forged, &err));
    CHECK_STATUS(IPCKIT_OK, ipckit_subscriber_release(sub, &again, &err));
    CHECK_STATUS(IPCKIT_EBADHANDLE, ipckit_subscriber_release(sub, &again, NULL));
    CHECK_STATUS(IPCKIT_OK, ipckit_subscriber_close(sub, &err));
    CHECK_STATUS(IPCKIT_OK, ipckit_publisher_close(pub, &err));
}

/* max_loans samples held: the next receive is EBUSY until one is released; closing a subscriber
 * that holds samples releases them. */
static void test_max_loans(void) {
    const char* name = capi_unique_name("capi-loans");
    ipckit_channel_config c = small_config(1024);
    ipckit_publisher pub;
    ipckit_subscriber sub;
    ipckit_sample held[3];
    ipckit_error err;
    int i;
    c.max_loans = 2;
    CHECK_STATUS(IPCKIT_OK, ipckit_publisher_create(name, &c, &pub, &err));
    CHECK_STATUS(IPCKIT_OK, ipckit_subscriber_open(name, NULL, &sub, &err));
    for (i = 0; i < 4; ++i) {
        CHECK_STATUS(IPCKIT_OK, ipckit_publisher_send(pub, &i, sizeof i, 0, &err));
    }
    CHECK_STATUS(IPCKIT_OK, ipckit_subscriber_receive(sub, 0, &held[0], &err));
    CHECK_STATUS(IPCKIT_OK, ipckit_subscriber_receive(sub, 0, &held[1], &err));
    CHECK(held[0].token != held[1].token);
    CHECK_STATUS(IPCKIT_EBUSY, ipckit_subscriber_receive(sub, 0, &held[2], &err));
    CHECK(err.errno_value == ENOBUFS);
    CHECK(strstr(err.message, "max_loans") != NULL);
    CHECK_STATUS(IPCKIT_OK, ipckit_subscriber_release(sub, &held[0], &err));
    CHECK_STATUS(IPCKIT_OK, ipckit_subscriber_receive(sub, 0, &held[2], &err));
    CHECK(*(const int*)held[2].data == 2);
    CHECK_STATUS(IPCKIT_OK, ipckit_subscriber_close(sub, &err)); /* holds 2 samples */
    CHECK_STATUS(IPCKIT_EBADHANDLE, ipckit_subscriber_release(sub, &held[1], &err));
    CHECK_STATUS(IPCKIT_OK, ipckit_publisher_close(pub, &err));
}

/* ---- misuse: loans */

static void test_loan_misuse(void) {
    const char* name = capi_unique_name("capi-loan");
    ipckit_channel_config c = small_config(1024);
    ipckit_publisher pub;
    ipckit_publisher other;
    ipckit_subscriber sub;
    ipckit_loan loan;
    ipckit_loan second;
    ipckit_loan stale;
    ipckit_sample s;
    ipckit_error err;
    char big[2048];
    CHECK_STATUS(IPCKIT_OK, ipckit_publisher_create(name, &c, &pub, &err));
    CHECK_STATUS(IPCKIT_OK, ipckit_publisher_open(name, NULL, &other, &err));
    CHECK_STATUS(IPCKIT_OK, ipckit_subscriber_open(name, NULL, &sub, &err));

    /* over max_message_size */
    CHECK_STATUS(IPCKIT_EMSGSIZE, ipckit_publisher_loan(pub, 1025, 0, &loan, &err));
    CHECK(err.errno_value == EMSGSIZE);
    CHECK(strstr(err.message, "max_message_size") != NULL);
    CHECK_STATUS(IPCKIT_EMSGSIZE, ipckit_publisher_loan(pub, SIZE_MAX, IPCKIT_NEVER, &loan, &err));
    memset(big, 'b', sizeof big);
    CHECK_STATUS(IPCKIT_EMSGSIZE, ipckit_publisher_send(pub, big, sizeof big, 0, &err));

    /* one loan at a time; publish more than loaned; another publisher's loan */
    CHECK_STATUS(IPCKIT_OK, ipckit_publisher_loan(pub, 1024, 0, &loan, &err));
    CHECK_STATUS(IPCKIT_EBUSY, ipckit_publisher_loan(pub, 8, 0, &second, &err));
    CHECK_STATUS(IPCKIT_EBUSY, ipckit_publisher_send(pub, "x", 1, 0, &err));
    CHECK_STATUS(IPCKIT_EINVAL, ipckit_publisher_publish(pub, &loan, 1025, &err));
    CHECK(err.errno_value == EINVAL);
    CHECK_STATUS(IPCKIT_EBADHANDLE, ipckit_publisher_publish(other, &loan, 4, &err));
    stale = loan;
    CHECK_STATUS(IPCKIT_OK, ipckit_publisher_discard(pub, &loan, &err));
    CHECK(loan.data == NULL);
    CHECK_STATUS(IPCKIT_EBADHANDLE, ipckit_publisher_publish(pub, &stale, 4, &err));
    CHECK_STATUS(IPCKIT_EBADHANDLE, ipckit_publisher_discard(pub, &stale, &err));
    CHECK_STATUS(IPCKIT_EAGAIN, ipckit_subscriber_receive(sub, 0, &s, &err)); /* nothing sent */

    /* a new loan: the old token does not publish it */
    CHECK_STATUS(IPCKIT_OK, ipckit_publisher_loan(pub, 16, 0, &loan, &err));
    CHECK_STATUS(IPCKIT_EBADHANDLE, ipckit_publisher_publish(pub, &stale, 4, &err));
    memcpy(loan.data, "data", 4);
    stale = loan;
    CHECK_STATUS(IPCKIT_OK, ipckit_publisher_publish(pub, &loan, 4, &err));
    CHECK_STATUS(IPCKIT_EBADHANDLE, ipckit_publisher_publish(pub, &stale, 4, &err));
    CHECK_STATUS(IPCKIT_OK, ipckit_subscriber_receive(sub, 0, &s, &err));
    CHECK(s.size == 4 && memcmp(s.data, "data", 4) == 0);
    CHECK_STATUS(IPCKIT_OK, ipckit_subscriber_release(sub, &s, &err));

    /* a zero-byte message, and closing a publisher with a loan outstanding */
    CHECK_STATUS(IPCKIT_OK, ipckit_publisher_send(pub, NULL, 0, 0, &err));
    CHECK_STATUS(IPCKIT_OK, ipckit_subscriber_receive(sub, 0, &s, &err));
    CHECK(s.size == 0);
    CHECK_STATUS(IPCKIT_OK, ipckit_subscriber_release(sub, &s, &err));
    CHECK_STATUS(IPCKIT_OK, ipckit_publisher_loan(pub, 16, 0, &loan, &err));
    CHECK_STATUS(IPCKIT_OK, ipckit_publisher_close(pub, &err));
    CHECK_STATUS(IPCKIT_EBADHANDLE, ipckit_publisher_publish(pub, &loan, 4, &err));
    CHECK_STATUS(IPCKIT_EAGAIN, ipckit_subscriber_receive(sub, 0, &s, &err));
    CHECK_STATUS(IPCKIT_OK, ipckit_publisher_close(other, &err));
    CHECK_STATUS(IPCKIT_OK, ipckit_subscriber_close(sub, &err));
}

/* A copying receive into a buffer too small: EMSGSIZE, and the message is still there. */
static void test_receive_copy_too_small(void) {
    const char* name = capi_unique_name("capi-small");
    ipckit_channel_config c = small_config(1024);
    ipckit_publisher pub;
    ipckit_subscriber sub;
    ipckit_received info;
    ipckit_error err;
    char buf[1024];
    size_t max = 0;
    CHECK_STATUS(IPCKIT_OK, ipckit_publisher_create(name, &c, &pub, &err));
    CHECK_STATUS(IPCKIT_OK, ipckit_subscriber_open(name, NULL, &sub, &err));
    CHECK_STATUS(IPCKIT_OK, ipckit_publisher_send(pub, "0123456789", 10, 0, &err));
    CHECK_STATUS(IPCKIT_EMSGSIZE, ipckit_subscriber_receive_copy(sub, buf, 4, 0, &info, &err));
    CHECK(err.errno_value == EMSGSIZE);
    CHECK_STATUS(IPCKIT_EMSGSIZE, ipckit_subscriber_receive_copy(sub, NULL, 0, 0, &info, &err));
    CHECK_STATUS(IPCKIT_OK, ipckit_subscriber_max_message_size(sub, &max, &err));
    CHECK(max == sizeof buf);
    CHECK_STATUS(IPCKIT_OK, ipckit_subscriber_receive_copy(sub, buf, max, 0, &info, &err));
    CHECK(info.size == 10 && memcmp(buf, "0123456789", 10) == 0);
    CHECK_STATUS(IPCKIT_OK, ipckit_subscriber_close(sub, &err));
    CHECK_STATUS(IPCKIT_OK, ipckit_publisher_close(pub, &err));
}

/* ---- misuse: NULL pointers, and errors from the system */

static void test_null_pointers(void) {
    const char* name = capi_unique_name("capi-null");
    ipckit_channel_config c = small_config(1024);
    ipckit_publisher pub;
    ipckit_subscriber sub;
    ipckit_error err;
    CHECK_STATUS(IPCKIT_EINVAL, ipckit_channel_config_init(NULL));
    CHECK_STATUS(IPCKIT_EINVAL, ipckit_channel_create(NULL, &c, &err));
    CHECK(err.code == IPCKIT_EINVAL && err.errno_value == EINVAL);
    CHECK(strstr(err.message, "name") != NULL);
    CHECK_STATUS(IPCKIT_EINVAL, ipckit_channel_remove(NULL, NULL, &err));
    CHECK_STATUS(IPCKIT_EINVAL, ipckit_publisher_open(NULL, NULL, &pub, &err));
    CHECK_STATUS(IPCKIT_EINVAL, ipckit_publisher_create(NULL, &c, &pub, NULL));
    CHECK_STATUS(IPCKIT_EINVAL, ipckit_subscriber_open(NULL, NULL, &sub, NULL));
    CHECK_STATUS(IPCKIT_OK, ipckit_publisher_create(name, NULL, &pub, NULL)); /* defaults */
    {
        /* a zeroed config's permissions 0 mean the default 0600, not an unreadable file */
        ipckit_channel_config zeroed;
        struct stat st;
        char path[256];
        const char* zname = capi_unique_name("capi-zero-mode");
        zeroed = c;
        zeroed.permissions = 0;
        CHECK_STATUS(IPCKIT_OK, ipckit_channel_create(zname, &zeroed, &err));
        snprintf(path, sizeof path, "/dev/shm/%s.chan", zname);
        CHECK(stat(path, &st) == 0);
        CHECK((st.st_mode & 07777) == 0600);
    }
    CHECK_STATUS(IPCKIT_EINVAL, ipckit_publisher_open(name, NULL, NULL, &err));
    CHECK(strstr(err.message, "out") != NULL);
    CHECK_STATUS(IPCKIT_EINVAL, ipckit_subscriber_open(name, NULL, NULL, &err));
    CHECK_STATUS(IPCKIT_OK, ipckit_subscriber_open(name, NULL, &sub, NULL));
    CHECK_STATUS(IPCKIT_EINVAL, ipckit_publisher_loan(pub, 8, 0, NULL, &err));
    CHECK_STATUS(IPCKIT_EINVAL, ipckit_publisher_publish(pub, NULL, 0, &err));
    CHECK_STATUS(IPCKIT_EINVAL, ipckit_publisher_discard(pub, NULL, NULL));
    CHECK_STATUS(IPCKIT_EINVAL, ipckit_publisher_send(pub, NULL, 8, 0, &err));
    CHECK_STATUS(IPCKIT_EINVAL, ipckit_publisher_max_message_size(pub, NULL, &err));
    CHECK_STATUS(IPCKIT_EINVAL, ipckit_publisher_published(pub, NULL, &err));
    CHECK_STATUS(IPCKIT_EINVAL, ipckit_subscriber_receive(sub, 0, NULL, &err));
    CHECK_STATUS(IPCKIT_EINVAL, ipckit_subscriber_release(sub, NULL, &err));
    CHECK_STATUS(IPCKIT_EINVAL, ipckit_subscriber_receive_copy(sub, NULL, 8, 0, NULL, &err));
    CHECK_STATUS(IPCKIT_EINVAL, ipckit_subscriber_fd(sub, NULL, &err));
    CHECK_STATUS(IPCKIT_EINVAL, ipckit_subscriber_counters(sub, NULL, &err));
    CHECK_STATUS(IPCKIT_EINVAL, ipckit_subscriber_max_message_size(sub, NULL, NULL));
    /* the handles still work after all that */
    CHECK_STATUS(IPCKIT_OK, ipckit_publisher_send(pub, "z", 1, 0, NULL));
    CHECK_STATUS(IPCKIT_OK, ipckit_subscriber_close(sub, NULL));
    CHECK_STATUS(IPCKIT_OK, ipckit_publisher_close(pub, NULL));
}

static void test_system_errors(void) {
    const char* name = capi_unique_name("capi-errors");
    const char* missing = capi_unique_name("capi-missing");
    ipckit_channel_config c = small_config(1024);
    ipckit_publisher pub;
    ipckit_subscriber sub;
    ipckit_error err;
    CHECK_STATUS(IPCKIT_OK, ipckit_channel_create(name, &c, &err));
    CHECK_STATUS(IPCKIT_EEXIST, ipckit_channel_create(name, &c, &err));
    CHECK(err.errno_value == EEXIST);
    CHECK(strstr(err.message, name) != NULL);
    CHECK_STATUS(IPCKIT_EEXIST, ipckit_publisher_create(name, &c, &pub, &err));
    CHECK_STATUS(IPCKIT_ENOENT, ipckit_publisher_open(missing, NULL, &pub, &err));
    CHECK(err.errno_value == ENOENT);
    CHECK(strstr(err.message, missing) != NULL);
    CHECK_STATUS(IPCKIT_ENOENT, ipckit_subscriber_open(missing, NULL, &sub, &err));
    CHECK_STATUS(IPCKIT_ENOENT, ipckit_channel_remove(missing, NULL, &err));
    CHECK_STATUS(IPCKIT_EINVAL, ipckit_channel_create("a/b", &c, &err));
    CHECK_STATUS(IPCKIT_EINVAL, ipckit_subscriber_open(".hidden", NULL, &sub, &err));
    c.lane_bytes = 1000; /* not a power of two */
    CHECK_STATUS(IPCKIT_EINVAL, ipckit_channel_create(missing, &c, &err));
    c.lane_bytes = 64 * 1024;
    c.policy = 7;
    CHECK_STATUS(IPCKIT_EINVAL, ipckit_channel_create(missing, &c, &err));
    CHECK_STATUS(IPCKIT_ENOENT, ipckit_channel_remove(missing, NULL, NULL));
    CHECK_STATUS(IPCKIT_OK, ipckit_channel_remove(name, NULL, &err));
    CHECK_STATUS(IPCKIT_ENOENT, ipckit_subscriber_open(name, NULL, &sub, &err));
}

/* ---- POSIX named semaphores */

static int sem_waiter(void* p) {
    const struct peer_args* a = p;
    ipckit_semaphore sem;
    CHECK_STATUS(IPCKIT_OK, ipckit_semaphore_open(a->name, &sem, NULL));
    capi_send_byte(a->ready_fd);
    CHECK_STATUS(IPCKIT_OK, ipckit_semaphore_wait(sem, ipckit_deadline_after(10000000000LL), NULL));
    CHECK_STATUS(IPCKIT_OK, ipckit_semaphore_wait(sem, ipckit_deadline_after(10000000000LL), NULL));
    CHECK_STATUS(IPCKIT_OK, ipckit_semaphore_close(sem, NULL));
    return 0;
}

static void test_semaphore_across_processes(void) {
    const char* name = capi_unique_sem_name("capi-sem");
    ipckit_semaphore sem;
    ipckit_error err;
    struct peer_args a;
    int ready[2];
    int value = -1;
    pid_t pid;
    CHECK_STATUS(IPCKIT_OK, ipckit_semaphore_create(name, 0, 0, &sem, &err));
    CHECK(pipe(ready) == 0);
    a.name = name;
    a.ready_fd = ready[1];
    pid = capi_fork(sem_waiter, &a, 30);
    CHECK(capi_wait_byte(ready[0], 10000));
    usleep(20000); /* let it block */
    CHECK_STATUS(IPCKIT_OK, ipckit_semaphore_post(sem, &err));
    CHECK_STATUS(IPCKIT_OK, ipckit_semaphore_post(sem, &err));
    CHECK(capi_wait(pid, 30000) == 0);
    CHECK_STATUS(IPCKIT_OK, ipckit_semaphore_value(sem, &value, &err));
    CHECK(value == 0);
    CHECK_STATUS(IPCKIT_OK, ipckit_semaphore_close(sem, &err));
    close(ready[0]);
    close(ready[1]);
}

static void test_semaphore_errors(void) {
    const char* name = capi_unique_sem_name("capi-sem-err");
    const char* missing = capi_unique_sem_name("capi-sem-missing");
    ipckit_semaphore sem;
    ipckit_semaphore other;
    ipckit_semaphore zero;
    ipckit_publisher as_pub;
    ipckit_error err;
    size_t size = 0;
    int value = -1;
    int64_t start;
    CHECK_STATUS(IPCKIT_OK, ipckit_semaphore_create(name, 1, 0600, &sem, &err));
    CHECK_STATUS(IPCKIT_EEXIST, ipckit_semaphore_create(name, 1, 0, &other, &err));
    CHECK(err.errno_value == EEXIST);
    CHECK_STATUS(IPCKIT_ENOENT, ipckit_semaphore_open(missing, &other, &err));
    CHECK_STATUS(IPCKIT_EINVAL, ipckit_semaphore_open("no-slash", &other, &err));
    CHECK_STATUS(IPCKIT_EINVAL, ipckit_semaphore_open(NULL, &other, &err));
    CHECK_STATUS(IPCKIT_EINVAL, ipckit_semaphore_create(name, 0, 0, NULL, &err));
    CHECK_STATUS(IPCKIT_EINVAL, ipckit_semaphore_create(missing, 0x80000000U, 0, &other, &err));
    CHECK_STATUS(IPCKIT_EINVAL, ipckit_semaphore_value(sem, NULL, &err));
    CHECK_STATUS(IPCKIT_OK, ipckit_semaphore_wait(sem, 0, &err));
    CHECK_STATUS(IPCKIT_EAGAIN, ipckit_semaphore_wait(sem, 0, &err));
    start = ipckit_now();
    CHECK_STATUS(IPCKIT_ETIMEDOUT,
                 ipckit_semaphore_wait(sem, ipckit_deadline_after(30000000), &err));
    CHECK(ipckit_now() - start >= 30000000);
    CHECK_STATUS(IPCKIT_OK, ipckit_semaphore_open(name, &other, &err));
    CHECK_STATUS(IPCKIT_OK, ipckit_semaphore_post(other, &err));
    CHECK_STATUS(IPCKIT_OK, ipckit_semaphore_value(sem, &value, &err));
    CHECK(value == 1);
    /* a semaphore handle is not a publisher, and closed or zero handles are refused */
    as_pub.handle = sem.handle;
    CHECK_STATUS(IPCKIT_EBADHANDLE, ipckit_publisher_max_message_size(as_pub, &size, &err));
    zero.handle = 0;
    CHECK_STATUS(IPCKIT_EBADHANDLE, ipckit_semaphore_post(zero, &err));
    CHECK_STATUS(IPCKIT_OK, ipckit_semaphore_close(other, &err));
    CHECK_STATUS(IPCKIT_EBADHANDLE, ipckit_semaphore_post(other, &err));
    CHECK_STATUS(IPCKIT_EBADHANDLE, ipckit_semaphore_wait(other, 0, &err));
    CHECK_STATUS(IPCKIT_EBADHANDLE, ipckit_semaphore_value(other, &value, &err));
    CHECK_STATUS(IPCKIT_EBADHANDLE, ipckit_semaphore_close(other, &err));
    CHECK_STATUS(IPCKIT_OK, ipckit_semaphore_unlink(name, &err));
    CHECK_STATUS(IPCKIT_ENOENT, ipckit_semaphore_unlink(name, &err));
    CHECK_STATUS(IPCKIT_OK, ipckit_semaphore_post(sem, &err)); /* still works after unlink */
    CHECK_STATUS(IPCKIT_OK, ipckit_semaphore_close(sem, &err));
}

/* ---- POSIX message queues */

static int mq_receiver(void* p) {
    const struct peer_args* a = p;
    ipckit_mq q;
    char buf[128];
    size_t size = 0;
    size_t max = 0;
    unsigned prio = 0;
    CHECK_STATUS(IPCKIT_OK, ipckit_mq_open(a->name, &q, NULL));
    CHECK_STATUS(IPCKIT_OK, ipckit_mq_max_message_size(q, &max, NULL));
    CHECK(max == sizeof buf);
    capi_send_byte(a->ready_fd);
    /* the parent sent "low" (1) then "high" (9): the higher priority first */
    CHECK_STATUS(IPCKIT_OK,
                 ipckit_mq_receive(
                     q, buf, sizeof buf, ipckit_deadline_after(10000000000LL), &size, &prio, NULL));
    CHECK(size == 4 && memcmp(buf, "high", 4) == 0 && prio == 9);
    CHECK_STATUS(IPCKIT_OK,
                 ipckit_mq_receive(
                     q, buf, sizeof buf, ipckit_deadline_after(10000000000LL), &size, &prio, NULL));
    CHECK(size == 3 && memcmp(buf, "low", 3) == 0 && prio == 1);
    CHECK_STATUS(IPCKIT_OK, ipckit_mq_send(q, "done", 4, 0, IPCKIT_NEVER, NULL));
    CHECK_STATUS(IPCKIT_OK, ipckit_mq_close(q, NULL));
    return 0;
}

static void test_mq_across_processes(void) {
    const char* name = capi_unique_mq_name("capi-mq");
    ipckit_mq q;
    ipckit_error err;
    struct peer_args a;
    int ready[2];
    char buf[128];
    size_t size = 0;
    pid_t pid;
    CHECK_STATUS(IPCKIT_OK, ipckit_mq_create(name, 4, 128, 0, &q, &err));
    CHECK(pipe(ready) == 0);
    a.name = name;
    a.ready_fd = ready[1];
    /* both queued before the receiver starts, so the priority decides the order */
    CHECK_STATUS(IPCKIT_OK, ipckit_mq_send(q, "low", 3, 1, 0, &err));
    CHECK_STATUS(IPCKIT_OK, ipckit_mq_send(q, "high", 4, 9, 0, &err));
    pid = capi_fork(mq_receiver, &a, 30);
    CHECK(capi_wait_byte(ready[0], 10000));
    CHECK(capi_wait(pid, 30000) == 0);
    CHECK_STATUS(IPCKIT_OK, ipckit_mq_receive(q, buf, sizeof buf, 0, &size, NULL, &err));
    CHECK(size == 4 && memcmp(buf, "done", 4) == 0);
    CHECK_STATUS(IPCKIT_OK, ipckit_mq_close(q, &err));
    close(ready[0]);
    close(ready[1]);
}

static void test_mq_errors(void) {
    const char* name = capi_unique_mq_name("capi-mq-err");
    const char* missing = capi_unique_mq_name("capi-mq-missing");
    ipckit_mq q;
    ipckit_mq other;
    ipckit_semaphore as_sem;
    ipckit_error err;
    char buf[64];
    char big[65];
    size_t max = 0;
    int64_t start;
    int i;
    CHECK_STATUS(IPCKIT_OK, ipckit_mq_create(name, 2, 64, 0600, &q, &err));
    CHECK_STATUS(IPCKIT_EEXIST, ipckit_mq_create(name, 2, 64, 0, &other, &err));
    CHECK(err.errno_value == EEXIST);
    CHECK_STATUS(IPCKIT_ENOENT, ipckit_mq_open(missing, &other, &err));
    CHECK_STATUS(IPCKIT_EINVAL, ipckit_mq_open("bad/name", &other, &err));
    CHECK_STATUS(IPCKIT_EINVAL, ipckit_mq_open(NULL, &other, &err));
    CHECK_STATUS(IPCKIT_EINVAL, ipckit_mq_create(missing, -1, 64, 0, &other, &err));
    CHECK_STATUS(IPCKIT_EINVAL, ipckit_mq_create(missing, 1000000, 64, 0, &other, &err));
    CHECK(strstr(err.message, "msg_max") != NULL);
    CHECK_STATUS(IPCKIT_EINVAL, ipckit_mq_send(q, NULL, 4, 0, 0, &err));
    CHECK_STATUS(IPCKIT_EINVAL, ipckit_mq_receive(q, NULL, 64, 0, NULL, NULL, &err));
    CHECK_STATUS(IPCKIT_EINVAL, ipckit_mq_max_message_size(q, NULL, &err));
    CHECK_STATUS(IPCKIT_OK, ipckit_mq_max_message_size(q, &max, &err));
    CHECK(max == 64);
    memset(big, 'x', sizeof big);
    CHECK_STATUS(IPCKIT_EMSGSIZE, ipckit_mq_send(q, big, sizeof big, 0, 0, &err));
    CHECK_STATUS(IPCKIT_EINVAL, ipckit_mq_send(q, "p", 1, 40000, 0, &err));
    CHECK_STATUS(IPCKIT_EAGAIN, ipckit_mq_receive(q, buf, sizeof buf, 0, NULL, NULL, &err));
    start = ipckit_now();
    CHECK_STATUS(
        IPCKIT_ETIMEDOUT,
        ipckit_mq_receive(q, buf, sizeof buf, ipckit_deadline_after(30000000), NULL, NULL, &err));
    CHECK(ipckit_now() - start >= 30000000);
    for (i = 0; i < 2; ++i) {
        CHECK_STATUS(IPCKIT_OK, ipckit_mq_send(q, "f", 1, 0, 0, &err));
    }
    CHECK_STATUS(IPCKIT_EAGAIN, ipckit_mq_send(q, "f", 1, 0, 0, &err)); /* full */
    CHECK_STATUS(IPCKIT_ETIMEDOUT,
                 ipckit_mq_send(q, "f", 1, 0, ipckit_deadline_after(20000000), &err));
    CHECK_STATUS(IPCKIT_EMSGSIZE, ipckit_mq_receive(q, buf, 10, 0, NULL, NULL, &err));
    CHECK(strstr(err.message, "msgsize") != NULL);
    /* a queue handle is not a semaphore; closed handles are refused */
    as_sem.handle = q.handle;
    CHECK_STATUS(IPCKIT_EBADHANDLE, ipckit_semaphore_post(as_sem, &err));
    CHECK_STATUS(IPCKIT_OK, ipckit_mq_open(name, &other, &err));
    CHECK_STATUS(IPCKIT_OK, ipckit_mq_close(other, &err));
    CHECK_STATUS(IPCKIT_EBADHANDLE, ipckit_mq_send(other, "f", 1, 0, 0, &err));
    CHECK_STATUS(IPCKIT_EBADHANDLE, ipckit_mq_receive(other, buf, sizeof buf, 0, NULL, NULL, &err));
    CHECK_STATUS(IPCKIT_EBADHANDLE, ipckit_mq_max_message_size(other, &max, &err));
    CHECK_STATUS(IPCKIT_EBADHANDLE, ipckit_mq_close(other, &err));
    CHECK_STATUS(IPCKIT_OK, ipckit_mq_unlink(name, &err));
    CHECK_STATUS(IPCKIT_ENOENT, ipckit_mq_unlink(name, &err));
    CHECK_STATUS(IPCKIT_OK, ipckit_mq_receive(q, buf, sizeof buf, 0, NULL, NULL, &err));
    CHECK_STATUS(IPCKIT_OK, ipckit_mq_close(q, &err));
}

/* ---- the handle table under threads: opens and closes race with lookups of stale handles */

#define TABLE_THREADS 4
#define TABLE_ROUNDS 300

struct table_args {
    const char* name;
    _Atomic uint64_t last_closed; /* a handle some thread closed; probed by the others */
    _Atomic int failures;
};

static void* table_worker(void* p) {
    struct table_args* a = p;
    int round;
    for (round = 0; round < TABLE_ROUNDS; ++round) {
        ipckit_semaphore sem;
        ipckit_semaphore stale;
        int value = -1;
        if (ipckit_semaphore_open(a->name, &sem, NULL) != IPCKIT_OK ||
            ipckit_semaphore_value(sem, &value, NULL) != IPCKIT_OK || value != 0) {
            atomic_fetch_add(&a->failures, 1);
            continue;
        }
        /* another thread's closed handle: dead, whatever that slot holds now */
        stale.handle = atomic_load(&a->last_closed);
        if (stale.handle != 0 && ipckit_semaphore_value(stale, &value, NULL) != IPCKIT_EBADHANDLE) {
            atomic_fetch_add(&a->failures, 1);
        }
        if (ipckit_semaphore_close(sem, NULL) != IPCKIT_OK ||
            ipckit_semaphore_close(sem, NULL) != IPCKIT_EBADHANDLE) {
            atomic_fetch_add(&a->failures, 1);
        }
        atomic_store(&a->last_closed, sem.handle);
    }
    return NULL;
}

static void test_handle_table_threads(void) {
    const char* name = capi_unique_sem_name("capi-threads");
    ipckit_semaphore keep;
    pthread_t threads[TABLE_THREADS];
    struct table_args a;
    int i;
    CHECK_STATUS(IPCKIT_OK, ipckit_semaphore_create(name, 0, 0, &keep, NULL));
    a.name = name;
    atomic_init(&a.last_closed, 0);
    atomic_init(&a.failures, 0);
    for (i = 0; i < TABLE_THREADS; ++i) {
        CHECK(pthread_create(&threads[i], NULL, table_worker, &a) == 0);
    }
    for (i = 0; i < TABLE_THREADS; ++i) {
        CHECK(pthread_join(threads[i], NULL) == 0);
    }
    CHECK(atomic_load(&a.failures) == 0);
    CHECK_STATUS(IPCKIT_OK, ipckit_semaphore_post(keep, NULL)); /* untouched by the churn */
    CHECK_STATUS(IPCKIT_OK, ipckit_semaphore_close(keep, NULL));
}

struct test_case {
    const char* name;
    void (*fn)(void);
};

static const struct test_case tests[] = {
    {"pubsub_across_processes", test_pubsub_across_processes},
    {"wait_with_deadline", test_wait_with_deadline},
    {"deadline_arithmetic", test_deadline_arithmetic},
    {"pollable_fd", test_pollable_fd},
    {"overwrite_counts_lost", test_overwrite_counts_lost},
    {"bad_handles", test_bad_handles},
    {"handle_reuse", test_handle_reuse},
    {"double_release", test_double_release},
    {"max_loans", test_max_loans},
    {"loan_misuse", test_loan_misuse},
    {"receive_copy_too_small", test_receive_copy_too_small},
    {"null_pointers", test_null_pointers},
    {"system_errors", test_system_errors},
    {"semaphore_across_processes", test_semaphore_across_processes},
    {"semaphore_errors", test_semaphore_errors},
    {"mq_across_processes", test_mq_across_processes},
    {"mq_errors", test_mq_errors},
    {"handle_table_threads", test_handle_table_threads},
};

int main(int argc, char** argv) {
    size_t i;
    int ran = 0;
    for (i = 0; i < sizeof tests / sizeof tests[0]; ++i) {
        if (argc < 2 || strcmp(argv[1], tests[i].name) == 0) {
            printf("[ RUN ] %s\n", tests[i].name);
            tests[i].fn();
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
