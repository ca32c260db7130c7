#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Zero-copy image frames from C++ to numpy (examples/python/frame_producer.cpp is the C++ side).

    frame_consumer.py NAME FRAMES [WIDTH HEIGHT]

Creates the channel NAME sized for WIDTH x HEIGHT (default 640 x 480) grey frames, prints
"ready", then views each frame as a 2-D numpy array over the channel's shared memory (no copy:
the array's memory is the sample's), checks the pattern, prints its mean, and releases it.
Removes the channel at the end. Run the producer once it printed "ready":

    example_frame_producer NAME FRAMES [WIDTH HEIGHT]
"""

import sys

import numpy

import ipckit

HEADER = numpy.dtype([("width", "<u4"), ("height", "<u4"), ("seq", "<u8")])


def lane_bytes_for(message):
    lane = 4096
    while lane < 2 * (message + 16):
        lane *= 2
    return lane


def views_the_sample(array, sample):
    """True if array's memory is the sample's own buffer (numpy made no copy)."""
    base = array
    while isinstance(base, numpy.ndarray):
        base = base.base
    return isinstance(base, memoryview) and base.obj is sample


def main(argv):
    if len(argv) not in (3, 5):
        print(__doc__, file=sys.stderr)
        return 2
    name, frames = argv[1], int(argv[2])
    width, height = (int(argv[3]), int(argv[4])) if len(argv) == 5 else (640, 480)
    size = HEADER.itemsize + width * height
    ipckit.Channel.create(name, max_message_size=size, lane_bytes=lane_bytes_for(size),
                          max_loans=2)
    try:
        with ipckit.Subscriber.open(name) as sub:
            print("ready", flush=True)
            expected = (numpy.arange(width)[None, :] + 2 * numpy.arange(height)[:, None])
            for n in range(frames):
                sample = sub.receive(timeout=10)
                if sample is None:
                    print(f"timed out after {n} frames", file=sys.stderr)
                    return 1
                header = numpy.frombuffer(sample, dtype=HEADER, count=1)[0]
                frame = numpy.frombuffer(sample, dtype=numpy.uint8, offset=HEADER.itemsize)
                frame = frame.reshape(int(header["height"]), int(header["width"]))
                ok = (views_the_sample(frame, sample) and not frame.flags.writeable
                      and numpy.array_equal(frame, (expected + int(header["seq"])) % 256))
                print(f"frame {int(header['seq'])}: {frame.shape[1]}x{frame.shape[0]} "
                      f"mean {frame.mean():.2f} zero-copy {'yes' if ok else 'NO'}", flush=True)
                del header, frame  # the views go first, then the sample
                sample.release()
                if not ok:
                    return 1
            return 0
    finally:
        ipckit.Channel.remove(name)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
