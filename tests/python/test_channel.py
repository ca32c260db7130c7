# SPDX-License-Identifier: MIT
"""The ipckit Python package on one channel, in one process: round trips, zero-copy views,
timeouts, errors, select/asyncio, counters, threads."""

import asyncio
import errno
import selectors
import threading
import time
import unittest

import ipckit
from support import ChannelTestCase, unique_name

try:
    import numpy
except ImportError:  # the zero-copy numpy tests need python3-numpy
    numpy = None


class RoundTrip(ChannelTestCase):
    def test_send_then_receive_gives_the_bytes_and_the_lane(self):
        name = self.channel()
        with ipckit.Subscriber.open(name) as sub, ipckit.Publisher.open(name) as pub:
            self.assertTrue(pub.send(b"hello"))
            self.assertTrue(pub.send(bytearray(b"world!")))
            with sub.receive(timeout=5) as s:
                self.assertEqual(bytes(s), b"hello")
                self.assertEqual(len(s), 5)
                self.assertEqual(s.publisher, pub.lane)
                self.assertEqual(s.lost_before, 0)
                self.assertTrue(s.still_valid)
            self.assertTrue(s.released)
            self.assertEqual(sub.receive_bytes(timeout=5), b"world!")
            self.assertEqual(pub.published, 2)
            self.assertEqual(sub.received, 2)

    def test_loan_is_written_in_place_and_published_with_a_size(self):
        name = self.channel()
        with ipckit.Subscriber.open(name) as sub, ipckit.Publisher.open(name) as pub:
            loan = pub.loan(100)
            self.assertEqual(len(loan), 100)
            view = memoryview(loan)
            self.assertFalse(view.readonly)
            view[:3] = b"abc"
            view.release()
            pub.publish(loan, size=3)
            self.assertTrue(loan.done)
            self.assertEqual(sub.receive(5).tobytes(), b"abc")

    def test_memoryview_is_read_only_over_the_shared_bytes(self):
        name = self.channel()
        with ipckit.Subscriber.open(name) as sub, ipckit.Publisher.open(name) as pub:
            pub.send(b"xyz")
            s = sub.receive(5)
            with memoryview(s) as v:
                self.assertTrue(v.readonly)
                self.assertEqual(v.tobytes(), b"xyz")
                with self.assertRaises(TypeError):
                    v[0] = 1
            s.release()

    @unittest.skipIf(numpy is None, "numpy is not installed")
    def test_numpy_frombuffer_views_the_sample_without_a_copy(self):
        name = self.channel()
        with ipckit.Subscriber.open(name) as sub, ipckit.Publisher.open(name) as pub:
            loan = pub.loan(64)
            with memoryview(loan) as v:
                numpy.frombuffer(v, dtype=numpy.uint32)[:] = numpy.arange(16, dtype=numpy.uint32)
            pub.publish(loan)
            s = sub.receive(5)
            a = numpy.frombuffer(s, dtype=numpy.uint32)
            b = numpy.frombuffer(s, dtype=numpy.uint32)
            self.assertEqual(a.tolist(), list(range(16)))
            self.assertFalse(a.flags.writeable)
            # Two arrays over one sample share one address: the shared memory itself, not copies.
            self.assertEqual(a.ctypes.data, b.ctypes.data)
            with memoryview(s) as v:
                self.assertEqual(numpy.frombuffer(v, numpy.uint8).ctypes.data, a.ctypes.data)
            with self.assertRaises(BufferError):
                s.release()  # the arrays still look at it
            del a, b
            s.release()
            self.assertTrue(s.released)

    def test_receive_batch_takes_what_is_there_in_order(self):
        name = self.channel()
        with ipckit.Subscriber.open(name) as sub, ipckit.Publisher.open(name) as pub:
            self.assertEqual(sub.receive_batch(10, timeout=0.01), [])
            for i in range(25):
                pub.send(b"%d" % i)
            self.assertEqual(sub.receive_batch(10, 5), [b"%d" % i for i in range(10)])
            self.assertEqual(sub.receive_batch(100, 5), [b"%d" % i for i in range(10, 25)])
            self.assertEqual(sub.receive_batch(0, 5), [])
            self.assertEqual(sub.received, 25)

    def test_messages_of_max_message_size_pass(self):
        name = self.channel(max_message_size=4096, lane_bytes=64 * 1024)
        with ipckit.Subscriber.open(name) as sub, ipckit.Publisher.open(name) as pub:
            payload = bytes(range(256)) * 16
            self.assertTrue(pub.send(payload))
            self.assertEqual(sub.receive(5).tobytes(), payload)
            self.assertEqual(pub.max_message_size, 4096)
            self.assertEqual(sub.max_message_size, 4096)


class Timeouts(ChannelTestCase):
    def test_receive_returns_none_on_timeout_and_zero_only_tries(self):
        name = self.channel()
        with ipckit.Subscriber.open(name) as sub:
            self.assertIsNone(sub.receive(0))
            start = time.monotonic()
            self.assertIsNone(sub.receive(timeout=0.05))
            self.assertGreaterEqual(time.monotonic() - start, 0.05)
            self.assertIsNone(sub.receive_bytes(0))

    def test_blocked_publisher_times_out_and_names_no_error(self):
        name = self.channel(max_message_size=1024, lane_bytes=4096)
        with ipckit.Subscriber.open(name) as sub, ipckit.Publisher.open(name) as pub:
            sent = 0
            while pub.send(b"x" * 1000, timeout=0):
                sent += 1
            self.assertGreater(sent, 0)
            self.assertFalse(pub.send(b"x" * 1000, timeout=0.05))
            self.assertIsNone(pub.loan(1000, timeout=0.05))
            self.assertIsNotNone(sub.receive(0))  # frees space: now it fits
            self.assertTrue(pub.send(b"y", timeout=5))

    def test_bad_timeouts_are_refused(self):
        name = self.channel()
        with ipckit.Subscriber.open(name) as sub:
            with self.assertRaises(ValueError):
                sub.receive(float("nan"))
            with self.assertRaises(TypeError):
                sub.receive("1")


class Errors(ChannelTestCase):
    def test_error_is_an_oserror_with_errno_and_the_message(self):
        name = self.channel()
        with self.assertRaises(ipckit.Error) as cm:
            ipckit.Channel.create(name)
        self.assertIsInstance(cm.exception, OSError)
        self.assertEqual(cm.exception.errno, errno.EEXIST)
        self.assertIn(name, cm.exception.strerror)

    def test_opening_a_missing_channel_is_enoent(self):
        with self.assertRaises(ipckit.Error) as cm:
            ipckit.Subscriber.open(unique_name("missing"))
        self.assertEqual(cm.exception.errno, errno.ENOENT)
        with self.assertRaises(ipckit.Error) as cm:
            ipckit.Channel.remove(unique_name("missing"))
        self.assertEqual(cm.exception.errno, errno.ENOENT)

    def test_bad_names_and_configurations_are_einval_or_valueerror(self):
        with self.assertRaises(ipckit.Error) as cm:
            ipckit.Channel.create("../etc/passwd")
        self.assertEqual(cm.exception.errno, errno.EINVAL)
        with self.assertRaises(ValueError):
            ipckit.Channel.create(unique_name("policy"), policy="sometimes")
        with self.assertRaises(ipckit.Error) as cm:
            ipckit.Channel.create(unique_name("lane"), lane_bytes=1000)
        self.assertEqual(cm.exception.errno, errno.EINVAL)

    def test_holding_more_than_max_loans_samples_is_enobufs(self):
        name = self.channel(max_loans=2)
        with ipckit.Subscriber.open(name) as sub, ipckit.Publisher.open(name) as pub:
            for i in range(3):
                pub.send(bytes([i]))
            held = [sub.receive(5), sub.receive(5)]
            with self.assertRaises(ipckit.Error) as cm:
                sub.receive(0)
            self.assertEqual(cm.exception.errno, errno.ENOBUFS)
            held[0].release()
            self.assertEqual(bytes(sub.receive(5)), b"\x02")

    def test_create_and_open_or_create_factories(self):
        name = unique_name("factory")
        self.addCleanup(ipckit.Channel.remove, name)
        with ipckit.Publisher.create(name, max_message_size=512, lane_bytes=8192) as pub:
            with ipckit.Subscriber.open_or_create(name, max_message_size=512,
                                                  lane_bytes=8192) as sub:
                pub.send(b"1")
                self.assertEqual(bytes(sub.receive(5)), b"1")
            with self.assertRaises(ipckit.Error):  # exists with another configuration
                ipckit.Subscriber.open_or_create(name, max_message_size=1024, lane_bytes=8192)


class Polling(ChannelTestCase):
    def test_fileno_polls_readable_when_a_message_waits(self):
        name = self.channel()
        with ipckit.Subscriber.open(name) as sub, ipckit.Publisher.open(name) as pub:
            fd = sub.fileno()
            self.assertEqual(fd, sub.fileno())
            with selectors.DefaultSelector() as sel:
                sel.register(fd, selectors.EVENT_READ)
                self.assertEqual(sel.select(0), [])
                pub.send(b"ping")
                self.assertEqual(len(sel.select(5)), 1)
            self.assertEqual(bytes(sub.receive(0)), b"ping")

    def test_async_for_receives_in_order_without_blocking_the_loop(self):
        name = self.channel()
        got = []

        async def consume(sub):
            async for s in sub:
                with s:
                    got.append(bytes(s))
                if len(got) == 50:
                    return

        async def produce(pub):
            for i in range(50):
                pub.send(b"%d" % i)
                if i % 10 == 0:
                    await asyncio.sleep(0.01)  # the consumer waits in the loop meanwhile

        async def main(sub, pub):
            await asyncio.wait_for(asyncio.gather(consume(sub), produce(pub)), timeout=20)

        with ipckit.Subscriber.open(name) as sub, ipckit.Publisher.open(name) as pub:
            asyncio.run(main(sub, pub))
        self.assertEqual(got, [b"%d" % i for i in range(50)])


class Counters(ChannelTestCase):
    def test_overwrite_mode_counts_lost_messages(self):
        name = self.channel(policy="overwrite", max_message_size=1024, lane_bytes=4096)
        with ipckit.Subscriber.open(name) as sub, ipckit.Publisher.open(name) as pub:
            for i in range(40):
                self.assertTrue(pub.send(i.to_bytes(8, "little") + b"x" * 500, timeout=0))
            received = []
            while (s := sub.receive(0)) is not None:
                received.append(int.from_bytes(bytes(s)[:8], "little"))
                s.release()
            self.assertGreater(sub.lost, 0)
            self.assertEqual(sub.lost + len(received), 40)
            self.assertEqual(received, sorted(received))
            self.assertEqual(received[-1], 39)
            self.assertEqual(sub.corrupt, 0)


class Threads(ChannelTestCase):
    def test_blocking_receive_releases_the_gil_and_a_second_thread_is_refused(self):
        name = self.channel()
        with ipckit.Subscriber.open(name) as sub, ipckit.Publisher.open(name) as pub:
            result = []
            t = threading.Thread(target=lambda: result.append(sub.receive(timeout=10)))
            t.start()
            deadline = time.monotonic() + 5
            refused = None
            while time.monotonic() < deadline:  # the main thread runs: the GIL is free
                try:
                    sub.received
                except RuntimeError as e:
                    refused = e
                    break
                time.sleep(0.001)
            self.assertIsNotNone(refused, "a call from a second thread was not refused")
            pub.send(b"wake")
            t.join(10)
            self.assertFalse(t.is_alive())
            self.assertEqual(bytes(result[0]), b"wake")
            result[0].release()

    def test_sample_dropped_by_another_thread_during_a_receive_is_given_back(self):
        name = self.channel(max_loans=1)
        with ipckit.Subscriber.open(name) as sub, ipckit.Publisher.open(name) as pub:
            pub.send(b"first")
            held = [sub.receive(5)]
            with self.assertRaises(ipckit.Error):  # max_loans=1: the quota is used up
                sub.receive(0)
            got = []
            t = threading.Thread(target=lambda: got.append(sub.receive_bytes(timeout=10)))
            t.start()
            time.sleep(0.05)
            held.clear()  # dropped here while the other thread may be inside receive
            pub.send(b"second")
            t.join(10)
            self.assertFalse(t.is_alive())
            self.assertEqual(got, [b"second"])
            pub.send(b"third")
            self.assertEqual(bytes(sub.receive(5)), b"third")  # the quota is free again


if __name__ == "__main__":
    unittest.main()
