# SPDX-License-Identifier: MIT
"""Bad input from Python (issue 18): each a clear exception, never a crash or a read of
released shared memory."""

import ctypes
import errno
import gc
import unittest

import ipckit
from support import ChannelTestCase

try:
    import numpy
except ImportError:
    numpy = None


class ReleasedSamples(ChannelTestCase):
    def setUp(self):
        name = self.channel(max_loans=1)
        self.sub = ipckit.Subscriber.open(name)
        self.pub = ipckit.Publisher.open(name)
        self.addCleanup(self.pub.close)
        self.addCleanup(self.sub.close)

    def test_releasing_twice_is_a_valueerror_and_gives_back_only_once(self):
        self.pub.send(b"a")
        s = self.sub.receive(5)
        s.release()
        with self.assertRaisesRegex(ValueError, "already released"):
            s.release()
        # max_loans=1: the quota is whole again, and still exactly one sample may be held.
        self.pub.send(b"b")
        self.pub.send(b"c")
        held = self.sub.receive(5)
        self.assertEqual(bytes(held), b"b")
        with self.assertRaises(ipckit.Error) as cm:
            self.sub.receive(0)
        self.assertEqual(cm.exception.errno, errno.ENOBUFS)
        held.release()

    def test_with_block_after_an_explicit_release_does_not_raise(self):
        self.pub.send(b"a")
        with self.sub.receive(5) as s:
            s.release()
        self.assertTrue(s.released)

    def test_a_released_sample_cannot_be_viewed_or_read(self):
        self.pub.send(b"secret")
        s = self.sub.receive(5)
        s.release()
        with self.assertRaisesRegex(ValueError, "released"):
            memoryview(s)
        with self.assertRaises(ValueError):
            bytes(s)
        with self.assertRaises(ValueError):
            s.tobytes()
        with self.assertRaises(ValueError):
            len(s)
        with self.assertRaises(ValueError):
            s.publisher

    def test_release_refuses_while_a_view_exists_and_the_view_stays_valid(self):
        self.pub.send(b"first")
        s = self.sub.receive(5)
        view = memoryview(s)
        with self.assertRaises(BufferError):
            s.release()
        self.assertFalse(s.released)
        # The record was not given back, so the publisher cannot have reused it.
        self.pub.send(b"second")
        self.assertEqual(view.tobytes(), b"first")
        view.release()
        with self.assertRaises(ValueError):
            view[0]  # a released memoryview is Python's own error, never a read
        s.release()
        self.assertEqual(bytes(self.sub.receive(5)), b"second")

    @unittest.skipIf(numpy is None, "numpy is not installed")
    def test_a_numpy_array_pins_the_sample_until_it_is_gone(self):
        self.pub.send(b"\x01\x02\x03\x04")
        s = self.sub.receive(5)
        a = numpy.frombuffer(s, dtype=numpy.uint8)
        with self.assertRaises(BufferError):
            s.release()
        with self.assertRaises(ValueError):
            a.setflags(write=True)  # read-only shared memory stays read-only
        self.assertEqual(a.tolist(), [1, 2, 3, 4])
        del a
        s.release()

    def test_a_writable_buffer_of_a_sample_is_refused(self):
        self.pub.send(b"abcd")
        s = self.sub.receive(5)
        with self.assertRaises((BufferError, TypeError)):
            (ctypes.c_char * 4).from_buffer(s)
        s.release()

    def test_a_held_sample_keeps_its_subscriber_alive(self):
        self.pub.send(b"kept")
        s = self.sub.receive(5)
        self.sub = None  # the last name of the subscriber (the cleanup closes a new one)
        self.addCleanup(s.release)
        gc.collect()
        self.assertEqual(bytes(s), b"kept")


class Loans(ChannelTestCase):
    def setUp(self):
        self.name = self.channel(max_message_size=1024, lane_bytes=64 * 1024)
        self.pub = ipckit.Publisher.open(self.name)
        self.addCleanup(self.pub.close)

    def test_a_loan_larger_than_max_message_size_is_emsgsize(self):
        with self.assertRaises(ipckit.Error) as cm:
            self.pub.loan(1025)
        self.assertEqual(cm.exception.errno, errno.EMSGSIZE)
        self.assertIn("max_message_size 1024", cm.exception.strerror)
        with self.assertRaises(ipckit.Error) as cm:
            self.pub.send(b"x" * 1025)
        self.assertEqual(cm.exception.errno, errno.EMSGSIZE)
        with self.assertRaises(TypeError):
            self.pub.loan(-1)
        with self.pub.loan(1024) as loan:  # the largest is fine
            self.assertEqual(len(loan), 1024)

    def test_publishing_more_than_the_loan_is_a_valueerror(self):
        loan = self.pub.loan(10)
        with self.assertRaises(ValueError):
            self.pub.publish(loan, size=11)
        self.pub.publish(loan, size=10)

    def test_publishing_twice_or_after_discard_is_a_valueerror(self):
        loan = self.pub.loan(10)
        self.pub.publish(loan)
        with self.assertRaisesRegex(ValueError, "already published"):
            self.pub.publish(loan)
        with self.assertRaises(ValueError):
            memoryview(loan)
        loan = self.pub.loan(10)
        loan.discard()
        with self.assertRaises(ValueError):
            self.pub.publish(loan)
        with self.assertRaises(ValueError):
            loan.discard()

    def test_publish_refuses_while_a_view_of_the_loan_exists(self):
        loan = self.pub.loan(4)
        view = memoryview(loan)
        with self.assertRaises(BufferError):
            self.pub.publish(loan)
        with self.assertRaises(BufferError):
            loan.discard()
        view.release()
        self.pub.publish(loan)

    def test_a_second_outstanding_loan_is_an_error(self):
        loan = self.pub.loan(4)
        with self.assertRaises(ipckit.Error) as cm:
            self.pub.loan(4)
        self.assertEqual(cm.exception.errno, errno.EINPROGRESS)
        loan.discard()
        self.pub.loan(4).discard()

    def test_a_loan_of_another_publisher_is_refused(self):
        with ipckit.Publisher.open(self.name) as other:
            loan = other.loan(4)
            with self.assertRaisesRegex(ValueError, "another publisher"):
                self.pub.publish(loan)
            other.publish(loan)

    def test_publishing_something_else_than_a_loan_is_a_typeerror(self):
        with self.assertRaises(TypeError):
            self.pub.publish(b"bytes")
        with self.assertRaises(TypeError):
            self.pub.publish(None)


class NonBytes(ChannelTestCase):
    def test_send_takes_bytes_like_objects_only(self):
        name = self.channel()
        with ipckit.Subscriber.open(name) as sub, ipckit.Publisher.open(name) as pub:
            for bad in (123, "text", None, [1, 2, 3], 1.5, object()):
                with self.subTest(bad=bad):
                    with self.assertRaisesRegex(TypeError, "bytes-like"):
                        pub.send(bad)
            self.assertEqual(pub.published, 0)
            self.assertIsNone(sub.receive(0))
            pub.send(memoryview(b"abcdef")[1:3])
            self.assertEqual(bytes(sub.receive(5)), b"bc")

    @unittest.skipIf(numpy is None, "numpy is not installed")
    def test_a_non_contiguous_array_is_refused(self):
        name = self.channel()
        with ipckit.Publisher.open(name) as pub:
            with self.assertRaisesRegex((BufferError, ValueError), "contiguous"):
                pub.send(numpy.arange(10, dtype=numpy.uint8)[::2])
            self.assertTrue(pub.send(numpy.arange(10, dtype=numpy.uint8)))


class UseAfterClose(ChannelTestCase):
    def test_a_closed_subscriber_raises_valueerror_and_releases_its_samples(self):
        name = self.channel()
        pub = ipckit.Publisher.open(name)
        self.addCleanup(pub.close)
        sub = ipckit.Subscriber.open(name)
        pub.send(b"held")
        s = sub.receive(5)
        sub.close()
        sub.close()  # like a file: closing twice is fine
        self.assertTrue(sub.closed)
        self.assertTrue(s.released)
        with self.assertRaises(ValueError):
            bytes(s)
        for call in (lambda: sub.receive(0), lambda: sub.receive_bytes(0), sub.fileno,
                     lambda: sub.received, lambda: sub.lost):
            with self.assertRaisesRegex(ValueError, "closed"):
                call()

    def test_closing_a_subscriber_under_a_view_is_a_buffererror(self):
        name = self.channel()
        with ipckit.Subscriber.open(name) as sub, ipckit.Publisher.open(name) as pub:
            pub.send(b"viewed")
            s = sub.receive(5)
            view = memoryview(s)
            with self.assertRaises(BufferError):
                sub.close()
            self.assertFalse(sub.closed)
            self.assertEqual(view.tobytes(), b"viewed")  # still mapped and still the message
            view.release()

    def test_a_closed_publisher_raises_valueerror_and_drops_its_loan(self):
        name = self.channel()
        pub = ipckit.Publisher.open(name)
        loan = pub.loan(8)
        pub.close()
        self.assertTrue(loan.done)
        with self.assertRaises(ValueError):
            memoryview(loan)
        for call in (lambda: pub.loan(8), lambda: pub.send(b"x"), lambda: pub.published):
            with self.assertRaisesRegex(ValueError, "closed"):
                call()
        with self.assertRaises(ValueError):
            pub.publish(loan)

    def test_closing_a_publisher_under_a_view_of_its_loan_is_a_buffererror(self):
        name = self.channel()
        with ipckit.Publisher.open(name) as pub:
            loan = pub.loan(8)
            view = memoryview(loan)
            with self.assertRaises(BufferError):
                pub.close()
            view[:2] = b"ok"  # still mapped
            view.release()
            loan.discard()


if __name__ == "__main__":
    unittest.main()
