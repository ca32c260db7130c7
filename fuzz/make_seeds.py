#!/usr/bin/env python3
# Writes the seed corpus of the uri, units, frame and fifo_reply targets (fuzz/corpus/<name>/).
# The channel seeds are channel files the library writes (fuzz/make_channel_seeds.cpp); both
# are run by `make fuzz-seeds`. Seeds are small valid (and a few almost-valid) inputs.
import os
import struct
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")

URIS = {
    "fifo": "fifo:/tmp/app.fifo?create&mode=0600&raw",
    "mq": "mq:/jobs?maxmsg=64&msgsize=8192&prio=3&create",
    "sysvmq-key": "sysvmq:0x11ec?type=-3&create&mode=0640",
    "sysvmq-ftok": "sysvmq:ftok:/etc/hostname:7",
    "sysvmq-id": "sysvmq:id:42",
    "unix-abstract": "unix:@svc",
    "unix-dgram": "unix-dgram:/run/app.sock?mode=0660",
    "unix-seqpacket": "unix-seqpacket:@seq",
    "tcp6": "tcp:[::1]:8080?raw",
    "udp": "udp:localhost:9000",
    "chan": "chan:prices?dir=/dev/shm&capacity=64k&msgsize=1024&policy=overwrite&create",
    "shm": "shm:/seg?size=16M&create",
    "sysvshm": "sysvshm:private?size=4096",
    "sem": "sem:/lock?value=1&create",
    "sysvsem": "sysvsem:0x1234#2?nsems=4&value=1&create",
    "nats": "nats://[::1]:4222/orders.*.new",
    "escaped": "fifo:/tmp/a%3Fb%25c",
}

UNITS = {
    "seconds": "1.5s", "millis": "250ms", "micros": "10us", "nanos": "100ns", "minutes": "2m",
    "hours": "1h", "zero": "0", "exponent": "1e30", "mode": "0640", "integer": "-3",
    "sizes": "64,4K,1MiB", "size-units": "16M", "kinds": "mq,sysv,chan", "key": "0x11ec",
    "posix-name": "/jobs",
}


def frames(*payloads):
    return b"".join(struct.pack("!I", len(p)) + p for p in payloads)


FRAMES = {
    # byte 0: low nibble = log2(max frame size) + 1, high nibble = chunk size - 1
    "two-frames": bytes([0x3B]) + frames(b"hello", b""),
    "many": bytes([0x0F]) + frames(*[bytes([i]) * i for i in range(20)]),
    "over-max": bytes([0x02]) + frames(b"abc"),
    "cut-header": bytes([0x5A]) + frames(b"x") + b"\x00\x00",
    "cut-payload": bytes([0x1A]) + struct.pack("!I", 10) + b"abc",
}


def fifo_frame(magic, pid, seq, body):
    return struct.pack("<4siII", magic, pid, seq, len(body)) + body


def fifo_input(requests, replies):
    return struct.pack("<H", len(requests)) + requests + replies


FIFO = {
    "request-and-reply": fifo_input(fifo_frame(b"IK2Q", 1234, 7, b"hello"),
                                    fifo_frame(b"IK2R", 0, 0, b"world")),
    "stale-then-ours": fifo_input(b"", fifo_frame(b"IK2R", 0, 0xFFFFFFFF, b"late") +
                                  fifo_frame(b"IK2R", 0, 0, b"ours")),
    "garbage-then-request": fifo_input(b"junk" + fifo_frame(b"IK2Q", 99, 1, b"x"),
                                       b"IKFR" + b"\x00" * 12),
    "version1-request": fifo_input(struct.pack("<4siI", b"IKFQ", 5, 3) + b"abc", b""),
    "huge-lengths": fifo_input(struct.pack("<4siII", b"IK2Q", 5, 1, 0xFFFFFFFF),
                               struct.pack("<4siII", b"IK2R", 5, 0, 0x100001)),
}


def write(target, seeds):
    d = os.path.join(ROOT, target)
    os.makedirs(d, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
    print(f"{target}: {len(seeds)} seeds")


def main():
    write("uri", URIS)
    write("units", UNITS)
    write("frame", FRAMES)
    write("fifo_reply", FIFO)
    return 0


if __name__ == "__main__":
    sys.exit(main())
