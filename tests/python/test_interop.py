# SPDX-License-Identifier: MIT
"""Python and C++ processes on one channel (issue 18, item 4): 100 000 numbered messages each
way in block mode, none lost or reordered; a Python subscriber SIGKILLed while it holds a sample
does not stop a blocking C++ publisher."""

import os
import signal
import struct
import time
import unittest

import ipckit
from support import PEER, ChannelTestCase

COUNT = 100_000


@unittest.skipUnless(PEER, "IPCKIT_TEST_PEER (python_interop_peer) is not set")
class Interop(ChannelTestCase):
    def test_python_publisher_to_cpp_subscriber_loses_and_reorders_nothing(self):
        name = self.channel(max_message_size=64, lane_bytes=16 * 1024)
        peer = self.spawn([PEER, "recv", name, str(COUNT)])
        self.expect_line(peer, "ready")
        with ipckit.Publisher.open(name) as pub:
            for seq in range(COUNT):
                if seq % 2:  # both ways of publishing: a copy, and a loan written in place
                    self.assertTrue(pub.send(struct.pack("<QQ", seq, ~seq & 0xFFFF), timeout=30))
                else:
                    loan = pub.loan(16, timeout=30)
                    self.assertIsNotNone(loan)
                    with memoryview(loan) as v:
                        struct.pack_into("<QQ", v, 0, seq, 0)
                    pub.publish(loan)
            self.assertEqual(pub.published, COUNT)
        out = self.finish(peer)
        self.assertTrue(out.startswith(f"ok {COUNT} "), out)

    def test_cpp_publisher_to_python_subscriber_loses_and_reorders_nothing(self):
        name = self.channel(max_message_size=64, lane_bytes=16 * 1024)
        with ipckit.Subscriber.open(name) as sub:
            peer = self.spawn([PEER, "send", name, str(COUNT), "24"])
            for expected in range(COUNT):
                s = sub.receive(timeout=30)
                self.assertIsNotNone(s, f"timed out waiting for message {expected}")
                seq, = struct.unpack_from("<Q", s)
                if seq != expected or s.lost_before or len(s) != 24:
                    self.fail(f"message {seq} ({len(s)} B, lost before {s.lost_before}), "
                              f"expected {expected}")
                s.release()
            self.assertEqual(sub.lost, 0)
            self.assertEqual(sub.corrupt, 0)
            self.assertEqual(sub.received, COUNT)
            self.assertIsNone(sub.receive(0))
        out = self.finish(peer)
        self.assertTrue(out.startswith(f"done {COUNT} "), out)

    def test_python_subscriber_killed_holding_a_sample_does_not_stop_a_blocking_publisher(self):
        name = self.channel(max_message_size=256, lane_bytes=4096)
        holder = self.spawn_python(
            "import sys, time, ipckit\n"
            "sub = ipckit.Subscriber.open(sys.argv[1])\n"
            "print('ready', flush=True)\n"
            "s = sub.receive(timeout=20)\n"
            "view = memoryview(s)\n"
            "print('holding' if s is not None else 'nothing', flush=True)\n"
            "time.sleep(60)\n", name)
        self.expect_line(holder, "ready")
        messages = 2000  # 2000 x 80 B is far more than the 4 KiB lane: the publisher must wait
        publisher = self.spawn([PEER, "send", name, str(messages), "64"])
        self.expect_line(holder, "holding")
        time.sleep(0.5)
        self.assertIsNone(publisher.poll(), "the publisher did not wait for the live subscriber")
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(timeout=10)
        self.assertEqual(holder.returncode, -signal.SIGKILL)
        out = self.finish(publisher, timeout=30)
        self.assertTrue(out.startswith(f"done {messages} "), out)


if __name__ == "__main__":
    unittest.main()
