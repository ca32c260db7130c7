#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A Python consumer that summarises what it receives from a channel, whatever language
publishes into it (examples/c/sensor_producer.c is the C side).

    sensor_consumer.py NAME COUNT

Creates the channel NAME (if absent), prints "ready", then receives COUNT readings
{uint64 seq; float64 value} and prints a summary: how many, how many lost, whether they came in
order, min/mean/max of the values. Each reading is read in place: numpy.frombuffer over the
sample (no copy) when numpy is installed, struct.unpack_from otherwise. Removes the channel at
the end if it created it. Run a producer once it printed "ready":

    example_c_sensor_producer NAME COUNT
"""

import struct
import sys

import ipckit

try:
    import numpy
    READING = numpy.dtype([("seq", "<u8"), ("value", "<f8")])
except ImportError:
    numpy = None

CONFIG = dict(max_message_size=64, lane_bytes=64 * 1024)


def read(sample):
    if numpy is not None:
        r = numpy.frombuffer(sample, dtype=READING, count=1)[0]  # a view of the shared memory
        return int(r["seq"]), float(r["value"])
    return struct.unpack_from("<Qd", sample)


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    name, count = argv[1], int(argv[2])
    created = True
    try:
        ipckit.Channel.create(name, **CONFIG)
    except ipckit.Error as e:
        if e.errno != 17:  # EEXIST: join the existing one
            raise
        created = False
    try:
        with ipckit.Subscriber.open(name) as sub:
            print("ready", flush=True)
            seqs, values = [], []
            while len(seqs) < count:
                sample = sub.receive(timeout=10)
                if sample is None:
                    print(f"timed out after {len(seqs)} readings", file=sys.stderr)
                    return 1
                with sample:
                    seq, value = read(sample)
                seqs.append(seq)
                values.append(value)
            in_order = seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
            print(f"received {len(seqs)} readings, lost {sub.lost}, "
                  f"{'in order' if in_order else 'OUT OF ORDER'}, seq {seqs[0]}..{seqs[-1]}, "
                  f"value min {min(values):.3f} mean {sum(values) / len(values):.3f} "
                  f"max {max(values):.3f}")
            return 0 if in_order and sub.lost == 0 else 1
    finally:
        if created:
            ipckit.Channel.remove(name)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
