/* SPDX-License-Identifier: MIT */
/* Tests of the C API of request/reply (ipckit_server_*, ipckit_client_*), written in C11:
 * a server and a client in separate processes, errors, bad handles and stale requests.
 * Usage: capi_service_tests [TEST]. */
#define _GNU_SOURCE

#include "capi_harness.h"

#define SRV_CALLS 200
#define SRV_WAIT_MS 10000

static char srv_names[CAPI_MAX_NAMES][CAPI_NAME_SIZE];
static int srv_name_count;

/* Removes every service the test named (record and channels); never in a child. */
static void srv_cleanup(void) {
    int i;
    if (capi_in_child) {
        return;
    }
    for (i = 0; i < srv_name_count; ++i) {
        ipckit_status s = ipckit_service_remove(srv_names[i], NULL);
        if (s != IPCKIT_OK) {
            fprintf(
                stderr, "cleanup: removing service %s: %s\n", srv_names[i], ipckit_status_name(s));
        }
    }
    srv_name_count = 0;
}

/* A unique service name, ipckit-test-<pid>-<n>-<tag>, removed at exit. */
static const char* srv_unique_name(const char* tag) {
    static int registered;
    const char* name = capi_unique_name(tag);
    CHECK(srv_name_count < CAPI_MAX_NAMES);
    snprintf(srv_names[srv_name_count], CAPI_NAME_SIZE, "%s", name);
    if (!registered) {
        registered = 1;
        atexit(srv_cleanup);
    }
    (void)ipckit_service_remove(name, NULL); /* a leftover of a recycled pid */
    return srv_names[srv_name_count++];
}

static int64_t seconds_from_now(int s) {
    return ipckit_deadline_after((int64_t)s * 1000000000);
}

static int payload_is(const ipckit_request* r, const char* text) {
    size_t n = strlen(text);
    return r->size == n && memcmp(r->data, text, n) == 0;
}

/* ---- a server process answering calls */

struct serve_args {
    const char* name;
    int ready_fd;
};

/* Answers "re:<payload>" until "bye"; "error" gets an error response, "stream" two parts,
 * "big" 100 bytes. Exit code 0 when every call was answered as expected. */
static int serve_calls(void* p) {
    const struct serve_args* a = (const struct serve_args*)p;
    ipckit_server srv;
    ipckit_request req;
    char out[128];
    char big[100];
    int answered = 0;
    uint64_t last_id = 0;
    CHECK_STATUS(IPCKIT_OK, ipckit_server_create(a->name, NULL, &srv, NULL));
    capi_send_byte(a->ready_fd);
    memset(big, 'b', sizeof big);
    for (;;) {
        CHECK_STATUS(IPCKIT_OK, ipckit_server_receive(srv, seconds_from_now(10), &req, NULL));
        CHECK(req.id > last_id); /* one client: its counter */
        CHECK(req.deadline != IPCKIT_NEVER && req.deadline > ipckit_now());
        last_id = req.id;
        if (payload_is(&req, "bye")) {
            CHECK_STATUS(IPCKIT_OK, ipckit_server_respond(srv, &req, "bye", 3, 1, NULL));
            break;
        }
        if (payload_is(&req, "error")) {
            CHECK_STATUS(IPCKIT_OK, ipckit_server_respond_error(srv, &req, "bad input", NULL));
        } else if (payload_is(&req, "stream")) {
            CHECK_STATUS(IPCKIT_OK, ipckit_server_respond(srv, &req, "part1", 5, 0, NULL));
            CHECK(req.token != 0); /* still open */
            CHECK_STATUS(IPCKIT_OK, ipckit_server_respond(srv, &req, "part2", 5, 1, NULL));
        } else if (payload_is(&req, "big")) {
            CHECK_STATUS(IPCKIT_OK, ipckit_server_respond(srv, &req, big, sizeof big, 1, NULL));
        } else {
            int n;
            CHECK(req.size < sizeof out - 3);
            memcpy(out, "re:", 3);
            memcpy(out + 3, req.data, req.size);
            n = (int)req.size + 3;
            CHECK_STATUS(IPCKIT_OK, ipckit_server_respond(srv, &req, out, (size_t)n, 1, NULL));
        }
        CHECK(req.token == 0 && req.data == NULL); /* finished: cleared */
        ++answered;
    }
    CHECK(answered == SRV_CALLS + 4);
    CHECK_STATUS(IPCKIT_OK, ipckit_server_close(srv, NULL));
    return 0;
}

static void test_calls_across_processes(void) {
    const char* name = srv_unique_name("calls");
    int ready[2];
    struct serve_args a;
    pid_t child;
    ipckit_client cli;
    ipckit_error err;
    char buf[128];
    char want[64];
    size_t len = 0;
    int i;
    CHECK(pipe(ready) == 0);
    a.name = name;
    a.ready_fd = ready[1];
    child = capi_fork(serve_calls, &a, 30);
    CHECK(capi_wait_byte(ready[0], SRV_WAIT_MS));
    CHECK_STATUS(IPCKIT_OK, ipckit_client_connect(name, &cli, &err));
    for (i = 0; i < SRV_CALLS; ++i) {
        char req[32];
        int n = snprintf(req, sizeof req, "call %d", i);
        snprintf(want, sizeof want, "re:call %d", i);
        CHECK_STATUS(IPCKIT_OK,
                     ipckit_client_call(
                         cli, req, (size_t)n, seconds_from_now(5), buf, sizeof buf, &len, &err));
        CHECK(len == strlen(want) && memcmp(buf, want, len) == 0);
    }
    /* an error response: EREMOTE, its text in buf and in the message */
    memset(&err, 0, sizeof err);
    CHECK_STATUS(
        IPCKIT_EREMOTE,
        ipckit_client_call(cli, "error", 5, seconds_from_now(5), buf, sizeof buf, &len, &err));
    CHECK(err.code == IPCKIT_EREMOTE);
    CHECK(len == 9 && memcmp(buf, "bad input", 9) == 0);
    CHECK(strstr(err.message, "bad input") != NULL);
    /* a stream: the first part; the rest is dropped and the next call is unaffected */
    CHECK_STATUS(
        IPCKIT_OK,
        ipckit_client_call(cli, "stream", 6, seconds_from_now(5), buf, sizeof buf, &len, &err));
    CHECK(len == 5 && memcmp(buf, "part1", 5) == 0);
    /* a response larger than the buffer: EMSGSIZE, *len its size */
    memset(&err, 0, sizeof err);
    CHECK_STATUS(IPCKIT_EMSGSIZE,
                 ipckit_client_call(cli, "big", 3, seconds_from_now(5), buf, 10, &len, &err));
    CHECK(len == 100 && err.code == IPCKIT_EMSGSIZE && strstr(err.message, "100") != NULL);
    CHECK_STATUS(
        IPCKIT_OK,
        ipckit_client_call(cli, "ping", 4, seconds_from_now(5), buf, sizeof buf, &len, &err));
    CHECK(len == 7 && memcmp(buf, "re:ping", 7) == 0);
    CHECK_STATUS(
        IPCKIT_OK,
        ipckit_client_call(cli, "bye", 3, seconds_from_now(5), buf, sizeof buf, NULL, &err));
    CHECK(capi_wait(child, SRV_WAIT_MS) == 0);
    CHECK_STATUS(IPCKIT_OK, ipckit_client_close(cli, NULL));
    close(ready[0]);
    close(ready[1]);
}

/* ---- no server */

static void test_no_server(void) {
    const char* name = srv_unique_name("refused");
    ipckit_client cli = {0};
    ipckit_server srv;
    ipckit_server second;
    ipckit_error err;
    memset(&err, 0, sizeof err);
    /* never served */
    CHECK_STATUS(IPCKIT_ECONNREFUSED, ipckit_client_connect(name, &cli, &err));
    CHECK(err.code == IPCKIT_ECONNREFUSED && err.errno_value == ECONNREFUSED);
    CHECK(strcmp(ipckit_status_name(IPCKIT_ECONNREFUSED), "IPCKIT_ECONNREFUSED") == 0);
    CHECK(strcmp(ipckit_status_name(IPCKIT_ECONNRESET), "IPCKIT_ECONNRESET") == 0);
    CHECK(strcmp(ipckit_status_name(IPCKIT_EREMOTE), "IPCKIT_EREMOTE") == 0);
    /* one live server: a second one is refused, naming the first */
    CHECK_STATUS(IPCKIT_OK, ipckit_server_create(name, NULL, &srv, &err));
    memset(&err, 0, sizeof err);
    CHECK_STATUS(IPCKIT_EBUSY, ipckit_server_create(name, NULL, &second, &err));
    CHECK(err.errno_value == EADDRINUSE && strstr(err.message, "pid") != NULL);
    /* served, then closed: the record stays, nobody holds it */
    CHECK_STATUS(IPCKIT_OK, ipckit_client_connect(name, &cli, &err));
    CHECK_STATUS(IPCKIT_OK, ipckit_client_close(cli, NULL));
    CHECK_STATUS(IPCKIT_OK, ipckit_server_close(srv, NULL));
    CHECK_STATUS(IPCKIT_ECONNREFUSED, ipckit_client_connect(name, &cli, &err));
    /* removed: still refused; removing again is fine */
    CHECK_STATUS(IPCKIT_OK, ipckit_service_remove(name, &err));
    CHECK_STATUS(IPCKIT_ECONNREFUSED, ipckit_client_connect(name, &cli, &err));
    CHECK_STATUS(IPCKIT_OK, ipckit_service_remove(name, &err));
}

/* ---- the server dies during a call */

static int serve_then_die(void* p) {
    const struct serve_args* a = (const struct serve_args*)p;
    ipckit_server srv;
    ipckit_request req;
    CHECK_STATUS(IPCKIT_OK, ipckit_server_create(a->name, NULL, &srv, NULL));
    capi_send_byte(a->ready_fd);
    CHECK_STATUS(IPCKIT_OK, ipckit_server_receive(srv, seconds_from_now(10), &req, NULL));
    raise(SIGKILL); /* mid-call: the request is held, unanswered */
    return 1;
}

static int serve_one(void* p) {
    const struct serve_args* a = (const struct serve_args*)p;
    ipckit_server srv;
    ipckit_request req;
    CHECK_STATUS(IPCKIT_OK, ipckit_server_create(a->name, NULL, &srv, NULL));
    capi_send_byte(a->ready_fd);
    CHECK_STATUS(IPCKIT_OK, ipckit_server_receive(srv, seconds_from_now(10), &req, NULL));
    CHECK_STATUS(IPCKIT_OK, ipckit_server_respond(srv, &req, "again", 5, 1, NULL));
    CHECK_STATUS(IPCKIT_OK, ipckit_server_close(srv, NULL));
    return 0;
}

static void test_server_killed_mid_call(void) {
    const char* name = srv_unique_name("killed");
    int ready[2];
    struct serve_args a;
    pid_t child;
    ipckit_client cli;
    ipckit_error err;
    char buf[16];
    size_t len = 0;
    int64_t start;
    int64_t deadline;
    CHECK(pipe(ready) == 0);
    a.name = name;
    a.ready_fd = ready[1];
    child = capi_fork(serve_then_die, &a, 30);
    CHECK(capi_wait_byte(ready[0], SRV_WAIT_MS));
    CHECK_STATUS(IPCKIT_OK, ipckit_client_connect(name, &cli, &err));
    start = ipckit_now();
    deadline = seconds_from_now(20);
    memset(&err, 0, sizeof err);
    CHECK_STATUS(IPCKIT_ECONNRESET,
                 ipckit_client_call(cli, "hi", 2, deadline, buf, sizeof buf, &len, &err));
    CHECK(ipckit_now() - start < (int64_t)5 * 1000000000); /* well before the deadline */
    CHECK(err.code == IPCKIT_ECONNRESET && err.errno_value == ECONNRESET);
    CHECK(strstr(err.message, "died") != NULL);
    CHECK(capi_wait(child, SRV_WAIT_MS) == 128 + SIGKILL);
    /* a restarted server: the same client's next call reaches it */
    child = capi_fork(serve_one, &a, 30);
    CHECK(capi_wait_byte(ready[0], SRV_WAIT_MS));
    CHECK_STATUS(
        IPCKIT_OK,
        ipckit_client_call(cli, "hi", 2, seconds_from_now(5), buf, sizeof buf, &len, &err));
    CHECK(len == 5 && memcmp(buf, "again", 5) == 0);
    CHECK(capi_wait(child, SRV_WAIT_MS) == 0);
    CHECK_STATUS(IPCKIT_OK, ipckit_client_close(cli, NULL));
    close(ready[0]);
    close(ready[1]);
}

/* ---- bad handles and arguments */

static void test_bad_handles(void) {
    const char* name = srv_unique_name("badh");
    ipckit_server srv;
    ipckit_client cli;
    ipckit_server zero_srv = {0};
    ipckit_client zero_cli = {0};
    ipckit_server forged_srv;
    ipckit_server cli_as_srv;
    ipckit_client srv_as_cli;
    ipckit_server closed_srv;
    ipckit_client closed_cli;
    ipckit_request req;
    ipckit_service_config cfg;
    ipckit_error err;
    char buf[8];
    size_t len;
    int k;
    CHECK_STATUS(IPCKIT_OK, ipckit_server_create(name, NULL, &srv, NULL));
    CHECK_STATUS(IPCKIT_OK, ipckit_client_connect(name, &cli, NULL));
    forged_srv.handle = srv.handle ^ ((uint64_t)2 << 32); /* another (odd) generation */
    cli_as_srv.handle = cli.handle;
    srv_as_cli.handle = srv.handle;
    {
        const ipckit_server bad_srv[4] = {zero_srv, forged_srv, cli_as_srv, {~(uint64_t)0}};
        for (k = 0; k < 4; ++k) {
            memset(&req, 0, sizeof req);
            memset(&err, 0, sizeof err);
            CHECK_STATUS(IPCKIT_EBADHANDLE, ipckit_server_receive(bad_srv[k], 0, &req, &err));
            CHECK(err.code == IPCKIT_EBADHANDLE && err.errno_value == 0);
            CHECK_STATUS(IPCKIT_EBADHANDLE,
                         ipckit_server_respond(bad_srv[k], &req, "x", 1, 1, NULL));
            CHECK_STATUS(IPCKIT_EBADHANDLE,
                         ipckit_server_respond_error(bad_srv[k], &req, "x", NULL));
            CHECK_STATUS(IPCKIT_EBADHANDLE, ipckit_server_close(bad_srv[k], NULL));
        }
    }
    {
        const ipckit_client bad_cli[3] = {zero_cli, srv_as_cli, {cli.handle + 1}};
        for (k = 0; k < 3; ++k) {
            CHECK_STATUS(
                IPCKIT_EBADHANDLE,
                ipckit_client_call(bad_cli[k], "x", 1, IPCKIT_NEVER, buf, sizeof buf, &len, NULL));
            CHECK_STATUS(IPCKIT_EBADHANDLE, ipckit_client_close(bad_cli[k], NULL));
        }
    }
    /* NULL and out-of-range arguments: EINVAL, nothing dereferenced */
    CHECK_STATUS(IPCKIT_EINVAL, ipckit_service_config_init(NULL));
    CHECK_STATUS(IPCKIT_EINVAL, ipckit_server_create(NULL, NULL, &closed_srv, NULL));
    CHECK_STATUS(IPCKIT_EINVAL, ipckit_server_create(name, NULL, NULL, NULL));
    CHECK_STATUS(IPCKIT_EINVAL, ipckit_server_receive(srv, 0, NULL, NULL));
    CHECK_STATUS(IPCKIT_EINVAL, ipckit_server_respond(srv, NULL, "x", 1, 1, NULL));
    CHECK_STATUS(IPCKIT_EINVAL, ipckit_server_respond(srv, &req, NULL, 1, 1, NULL));
    CHECK_STATUS(IPCKIT_EINVAL, ipckit_server_respond_error(srv, &req, NULL, NULL));
    CHECK_STATUS(IPCKIT_EINVAL, ipckit_client_connect(NULL, &closed_cli, NULL));
    CHECK_STATUS(IPCKIT_EINVAL, ipckit_client_connect(name, NULL, NULL));
    CHECK_STATUS(IPCKIT_EINVAL,
                 ipckit_client_call(cli, NULL, 1, IPCKIT_NEVER, buf, sizeof buf, &len, NULL));
    CHECK_STATUS(IPCKIT_EINVAL, ipckit_client_call(cli, "x", 1, IPCKIT_NEVER, NULL, 8, &len, NULL));
    CHECK_STATUS(IPCKIT_EINVAL, ipckit_service_remove(NULL, NULL));
    CHECK_STATUS(IPCKIT_EINVAL, ipckit_server_create("bad/name", NULL, &closed_srv, NULL));
    CHECK_STATUS(IPCKIT_OK, ipckit_service_config_init(&cfg));
    CHECK(cfg.max_request_size == 4096 && cfg.max_clients == 8 && cfg.response_wait_ms == 1000);
    cfg.max_clients = 0;
    CHECK_STATUS(IPCKIT_EINVAL, ipckit_server_create(name, &cfg, &closed_srv, NULL));
    /* a past deadline: ETIMEDOUT before anything is sent */
    CHECK_STATUS(IPCKIT_ETIMEDOUT, ipckit_client_call(cli, "x", 1, 0, buf, sizeof buf, &len, NULL));
    CHECK_STATUS(IPCKIT_ETIMEDOUT, ipckit_client_call(cli, "x", 1, 1, buf, sizeof buf, &len, NULL));
    /* nothing sent: receive finds nothing */
    CHECK_STATUS(IPCKIT_EAGAIN, ipckit_server_receive(srv, 0, &req, NULL));
    CHECK_STATUS(IPCKIT_ETIMEDOUT,
                 ipckit_server_receive(srv, ipckit_deadline_after(20000000), &req, NULL));
    /* closed handles: EBADHANDLE every time */
    closed_srv = srv;
    closed_cli = cli;
    CHECK_STATUS(IPCKIT_OK, ipckit_client_close(cli, NULL));
    CHECK_STATUS(IPCKIT_OK, ipckit_server_close(srv, NULL));
    for (k = 0; k < 2; ++k) {
        CHECK_STATUS(IPCKIT_EBADHANDLE, ipckit_server_close(closed_srv, NULL));
        CHECK_STATUS(IPCKIT_EBADHANDLE, ipckit_server_receive(closed_srv, 0, &req, NULL));
        CHECK_STATUS(IPCKIT_EBADHANDLE, ipckit_client_close(closed_cli, NULL));
        CHECK_STATUS(
            IPCKIT_EBADHANDLE,
            ipckit_client_call(closed_cli, "x", 1, IPCKIT_NEVER, buf, sizeof buf, &len, NULL));
    }
}

/* ---- stale, forged and other-server requests */

struct call_args {
    const char* name;
};

/* Three calls: a stream's first part "a", an error "gone", then "ok". */
static int client_three_calls(void* p) {
    const struct call_args* a = (const struct call_args*)p;
    ipckit_client cli;
    char buf[32];
    size_t len = 0;
    CHECK_STATUS(IPCKIT_OK, ipckit_client_connect(a->name, &cli, NULL));
    CHECK_STATUS(
        IPCKIT_OK,
        ipckit_client_call(cli, "1", 1, seconds_from_now(10), buf, sizeof buf, &len, NULL));
    CHECK(len == 1 && buf[0] == 'a');
    CHECK_STATUS(
        IPCKIT_EREMOTE,
        ipckit_client_call(cli, "2", 1, seconds_from_now(10), buf, sizeof buf, &len, NULL));
    CHECK(len == 4 && memcmp(buf, "gone", 4) == 0);
    CHECK_STATUS(
        IPCKIT_OK,
        ipckit_client_call(cli, "3", 1, seconds_from_now(10), buf, sizeof buf, &len, NULL));
    CHECK(len == 2 && memcmp(buf, "ok", 2) == 0);
    CHECK_STATUS(IPCKIT_OK, ipckit_client_close(cli, NULL));
    return 0;
}

static void test_stale_request(void) {
    const char* name = srv_unique_name("stale");
    const char* other_name = srv_unique_name("other");
    ipckit_service_config cfg;
    ipckit_server srv;
    ipckit_server other;
    ipckit_request r;
    ipckit_request copy;
    ipckit_request forged;
    ipckit_error err;
    struct call_args a;
    pid_t child;
    char big[200];
    CHECK_STATUS(IPCKIT_OK, ipckit_service_config_init(&cfg));
    cfg.max_response_size = 100;
    CHECK_STATUS(IPCKIT_OK, ipckit_server_create(name, &cfg, &srv, NULL));
    CHECK_STATUS(IPCKIT_OK, ipckit_server_create(other_name, NULL, &other, NULL));
    a.name = name;
    child = capi_fork(client_three_calls, &a, 30);

    /* 1: a part keeps the request open; the final clears it; every copy is then stale */
    CHECK_STATUS(IPCKIT_OK, ipckit_server_receive(srv, seconds_from_now(10), &r, NULL));
    CHECK(payload_is(&r, "1") && r.token != 0);
    copy = r;
    CHECK_STATUS(IPCKIT_OK, ipckit_server_respond(srv, &r, "a", 1, 0, NULL));
    CHECK(r.token == copy.token && r.data == copy.data);
    CHECK_STATUS(IPCKIT_EBADHANDLE, ipckit_server_respond(other, &r, "a", 1, 1, NULL));
    CHECK_STATUS(IPCKIT_OK, ipckit_server_respond(srv, &r, "b", 1, 1, NULL));
    CHECK(r.token == 0 && r.data == NULL && r.size == 0);
    memset(&err, 0, sizeof err);
    CHECK_STATUS(IPCKIT_EBADHANDLE, ipckit_server_respond(srv, &copy, "c", 1, 1, &err));
    CHECK(err.code == IPCKIT_EBADHANDLE && strstr(err.message, "not a held request") != NULL);
    CHECK_STATUS(IPCKIT_EBADHANDLE, ipckit_server_respond_error(srv, &copy, "c", NULL));
    CHECK_STATUS(IPCKIT_EBADHANDLE, ipckit_server_respond(srv, &r, "c", 1, 1, NULL));

    /* 2: forged tokens and pointers, the same slot after reuse, another server's handle */
    CHECK_STATUS(IPCKIT_OK, ipckit_server_receive(srv, seconds_from_now(10), &r, NULL));
    CHECK(payload_is(&r, "2"));
    CHECK(r.token != copy.token); /* the slot's generation moved on */
    CHECK_STATUS(IPCKIT_EBADHANDLE, ipckit_server_respond(srv, &copy, "c", 1, 1, NULL));
    forged = r;
    forged.token ^= (uint64_t)2 << 32;
    CHECK_STATUS(IPCKIT_EBADHANDLE, ipckit_server_respond(srv, &forged, "c", 1, 1, NULL));
    forged = r;
    forged.token += 1;
    CHECK_STATUS(IPCKIT_EBADHANDLE, ipckit_server_respond(srv, &forged, "c", 1, 1, NULL));
    forged = r;
    forged.data = big;
    CHECK_STATUS(IPCKIT_EBADHANDLE, ipckit_server_respond(srv, &forged, "c", 1, 1, NULL));
    CHECK_STATUS(IPCKIT_EBADHANDLE, ipckit_server_respond_error(other, &r, "c", NULL));
    CHECK(r.token != 0); /* refused calls leave it alone */
    copy = r;
    CHECK_STATUS(IPCKIT_OK, ipckit_server_respond_error(srv, &r, "gone", NULL));
    CHECK(r.token == 0 && r.data == NULL);
    CHECK_STATUS(IPCKIT_EBADHANDLE, ipckit_server_respond_error(srv, &copy, "gone", NULL));

    /* 3: too large a response is refused and the request stays open */
    CHECK_STATUS(IPCKIT_OK, ipckit_server_receive(srv, seconds_from_now(10), &r, NULL));
    CHECK(payload_is(&r, "3"));
    memset(big, 'x', sizeof big);
    memset(&err, 0, sizeof err);
    CHECK_STATUS(IPCKIT_EMSGSIZE, ipckit_server_respond(srv, &r, big, 101, 1, &err));
    CHECK(err.code == IPCKIT_EMSGSIZE && r.token != 0);
    CHECK_STATUS(IPCKIT_OK, ipckit_server_respond(srv, &r, "ok", 2, 1, NULL));
    CHECK(capi_wait(child, SRV_WAIT_MS) == 0);
    CHECK_STATUS(IPCKIT_OK, ipckit_server_close(other, NULL));
    CHECK_STATUS(IPCKIT_OK, ipckit_server_close(srv, NULL));
}

struct test_case {
    const char* name;
    void (*fn)(void);
};

static const struct test_case tests[] = {
    {"srv_calls_across_processes", test_calls_across_processes},
    {"srv_no_server", test_no_server},
    {"srv_server_killed_mid_call", test_server_killed_mid_call},
    {"srv_bad_handles", test_bad_handles},
    {"srv_stale_request", test_stale_request},
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
            srv_cleanup();
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
