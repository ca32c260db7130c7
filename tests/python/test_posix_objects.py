# SPDX-License-Identifier: MIT
"""ipckit.Semaphore and ipckit.MessageQueue from Python, across processes."""

import errno
import os
import threading
import time
import unittest

import ipckit
from support import ChannelTestCase, unique_name


class PosixTestCase(ChannelTestCase):
    def posix_name(self, tag, kind):
        name = "/" + unique_name(tag)

        def remove():
            try:
                kind.unlink(name)
            except ipckit.Error as e:
                if e.errno != errno.ENOENT:
                    raise

        self.addCleanup(remove)
        return name


class Semaphores(PosixTestCase):
    def test_post_and_wait_across_processes(self):
        name = self.posix_name("sem", ipckit.Semaphore)
        with ipckit.Semaphore.create(name, 0) as sem:
            child = self.spawn_python(
                "import sys, ipckit\n"
                "s = ipckit.Semaphore.open(sys.argv[1])\n"
                "print('ready', flush=True)\n"
                "print('got' if s.wait(timeout=20) else 'timeout', flush=True)\n", name)
            self.expect_line(child, "ready")
            sem.post()
            self.assertEqual(self.finish(child).strip(), "got")
            self.assertEqual(sem.value, 0)

    def test_wait_times_out_tries_and_counts(self):
        name = self.posix_name("sem", ipckit.Semaphore)
        with ipckit.Semaphore.create(name, 2) as sem:
            self.assertEqual(sem.value, 2)
            self.assertTrue(sem.wait(0))
            self.assertTrue(sem.wait())
            self.assertFalse(sem.wait(0))
            start = time.monotonic()
            self.assertFalse(sem.wait(timeout=0.05))
            self.assertGreaterEqual(time.monotonic() - start, 0.05)

    def test_a_wait_in_another_thread_survives_close(self):
        name = self.posix_name("sem", ipckit.Semaphore)
        sem = ipckit.Semaphore.create(name, 0)
        other = ipckit.Semaphore.open(name)
        self.addCleanup(other.close)
        got = []
        t = threading.Thread(target=lambda: got.append(sem.wait(timeout=10)))
        t.start()
        time.sleep(0.05)
        sem.close()  # the waiting call keeps its handle open
        with self.assertRaisesRegex(ValueError, "closed"):
            sem.post()
        other.post()
        t.join(10)
        self.assertEqual(got, [True])

    def test_errors(self):
        name = self.posix_name("sem", ipckit.Semaphore)
        ipckit.Semaphore.create(name).close()
        with self.assertRaises(ipckit.Error) as cm:
            ipckit.Semaphore.create(name)
        self.assertEqual(cm.exception.errno, errno.EEXIST)
        with self.assertRaises(ipckit.Error) as cm:
            ipckit.Semaphore.open("/" + unique_name("absent"))
        self.assertEqual(cm.exception.errno, errno.ENOENT)
        with self.assertRaises(ipckit.Error) as cm:
            ipckit.Semaphore.open("no-slash/x")
        self.assertEqual(cm.exception.errno, errno.EINVAL)


class MessageQueues(PosixTestCase):
    def test_priorities_and_a_round_trip_across_processes(self):
        name = self.posix_name("mq", ipckit.MessageQueue)
        with ipckit.MessageQueue.create(name, max_messages=4, max_message_size=64) as q:
            self.assertEqual(q.max_message_size, 64)
            child = self.spawn_python(
                "import sys, ipckit\n"
                "q = ipckit.MessageQueue.open(sys.argv[1])\n"
                "q.send(b'low', 1)\n"
                "q.send(bytearray(b'high'), 9)\n"
                "q.send(memoryview(b'mid'), 5)\n", name)
            self.finish(child)
            self.assertEqual(q.current_messages, 3)
            self.assertEqual(q.receive(5), (b"high", 9))
            self.assertEqual(q.receive(5), (b"mid", 5))
            self.assertEqual(q.receive(5), (b"low", 1))
            self.assertIsNone(q.receive(0))

    def test_full_queue_times_out_and_bad_input_is_refused(self):
        name = self.posix_name("mq", ipckit.MessageQueue)
        with ipckit.MessageQueue.create(name, max_messages=1, max_message_size=16) as q:
            self.assertTrue(q.send(b"1", timeout=0))
            self.assertFalse(q.send(b"2", timeout=0.05))
            with self.assertRaises(ipckit.Error) as cm:
                q.send(b"x" * 17)
            self.assertEqual(cm.exception.errno, errno.EMSGSIZE)
            with self.assertRaises(TypeError):
                q.send("text")
            with self.assertRaises(ipckit.Error) as cm:
                q.send(b"x", 40000)
            self.assertEqual(cm.exception.errno, errno.EINVAL)
        with self.assertRaisesRegex(ValueError, "closed"):
            q.receive(0)
        with self.assertRaises(ipckit.Error) as cm:
            ipckit.MessageQueue.create(name)
        self.assertEqual(cm.exception.errno, errno.EEXIST)


if __name__ == "__main__":
    unittest.main()
