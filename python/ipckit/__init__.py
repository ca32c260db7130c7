# SPDX-License-Identifier: MIT
"""ipckit: zero-copy publish/subscribe over shared memory, shared with C and C++ processes.

    import ipckit
    ipckit.Channel.create("frames", max_message_size=1 << 20, lane_bytes=4 << 20)
    with ipckit.Subscriber.open("frames") as sub:
        sample = sub.receive(timeout=1.0)        # None on timeout
        if sample is not None:
            with sample:
                data = memoryview(sample)         # read-only view of the shared memory
                ...
                data.release()                    # views must go before the sample

Timeouts are float seconds: None waits forever, 0 only tries. A timeout is not an error:
receive() and loan() return None and send() returns False. Failures raise ipckit.Error, an
OSError whose errno is the system error and whose strerror names the operation and the object.
"""

import asyncio as _asyncio
import os as _os

from ._ipckit import (Channel, Error, Loan, MessageQueue, Publisher, Sample, Semaphore,
                      Subscriber, __version__)

__all__ = ["Channel", "Error", "Loan", "MessageQueue", "Publisher", "Sample", "Semaphore",
           "Subscriber", "__version__"]


def _drain_notifications(fd):
    try:
        _os.read(fd, 8)
    except BlockingIOError:
        pass


async def _iterate(sub):
    """Yields every message as a Sample, waiting in the event loop (never blocking it)."""
    loop = _asyncio.get_running_loop()
    fd = sub.fileno()
    while True:
        sample = sub.receive(0)
        if sample is not None:
            yield sample
            continue
        ready = loop.create_future()

        def wake():
            if not ready.done():
                ready.set_result(None)

        loop.add_reader(fd, wake)
        try:
            # A message published between receive(0) and add_reader left the fd readable.
            await ready
        finally:
            loop.remove_reader(fd)
        _drain_notifications(fd)


def _aiter(self):
    return _iterate(self)


def _iter(self):
    while True:
        yield self.receive()


Subscriber.__aiter__ = _aiter
Subscriber.__iter__ = _iter
