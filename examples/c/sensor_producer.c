/* SPDX-License-Identifier: MIT
 * A C producer on the C API (ipckit.h): publishes numbered sensor readings into a channel that a
 * consumer in any language made (examples/python/sensor_consumer.py summarises them).
 *
 *   example_c_sensor_producer NAME COUNT
 *
 * Each message is a little-endian struct reading { uint64_t seq; double value; }, written
 * straight into the channel's shared memory (loan -> fill -> publish). In block mode the
 * producer waits for the slowest subscriber, up to 10 s per message. */
#include "ipckit/ipckit.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct reading {
    uint64_t seq;
    double value;
};

static int fail(const char* what, const ipckit_error* err) {
    fprintf(stderr,
            "example_c_sensor_producer: %s: %s (%s)\n",
            what,
            err->message,
            ipckit_status_name(err->code));
    return 1;
}

int main(int argc, char** argv) {
    if (argc != 3) {
        fputs("usage: example_c_sensor_producer NAME COUNT\n", stderr);
        return 2;
    }
    char* end = NULL;
    const unsigned long long count = strtoull(argv[2], &end, 10);
    if (*argv[2] == '\0' || *end != '\0') {
        fprintf(stderr, "example_c_sensor_producer: COUNT '%s' is not a number\n", argv[2]);
        return 2;
    }
    ipckit_error err;
    ipckit_publisher pub;
    if (ipckit_publisher_open(argv[1], NULL, &pub, &err) != IPCKIT_OK) {
        return fail("open", &err);
    }
    int rc = 0;
    for (uint64_t seq = 0; seq < count; ++seq) {
        ipckit_loan loan;
        const ipckit_status st = ipckit_publisher_loan(
            pub, sizeof(struct reading), ipckit_deadline_after(10000000000LL), &loan, &err);
        if (st != IPCKIT_OK) {
            rc = st == IPCKIT_ETIMEDOUT ? (fputs("no space within 10 s\n", stderr), 1)
                                        : fail("loan", &err);
            break;
        }
        /* A slow wave: 20 + 5 sin(seq / 10). */
        const struct reading r = {seq, 20.0 + 5.0 * sin((double)seq / 10.0)};
        memcpy(loan.data, &r, sizeof r);
        if (ipckit_publisher_publish(pub, &loan, sizeof r, &err) != IPCKIT_OK) {
            rc = fail("publish", &err);
            break;
        }
    }
    ipckit_publisher_close(pub, NULL);
    if (rc == 0) {
        printf("published %llu readings\n", count);
    }
    return rc;
}
