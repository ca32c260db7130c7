# SPDX-License-Identifier: MIT
"""The examples of issue 18, run as a user would: a C producer with the Python consumer that
summarises it (a C and a Python process on one channel), and numpy frames from C++."""

import os
import sys
import unittest

from support import EXAMPLES_BIN, SOURCE_DIR, ChannelTestCase, unique_name

try:
    import numpy
except ImportError:
    numpy = None

PY_EXAMPLES = os.path.join(SOURCE_DIR, "examples", "python")


def example(name):
    return os.path.join(EXAMPLES_BIN, name)


@unittest.skipUnless(EXAMPLES_BIN, "IPCKIT_EXAMPLES_BIN is not set")
class Examples(ChannelTestCase):
    def run_pair(self, consumer_argv, producer_argv):
        consumer = self.spawn([sys.executable, *consumer_argv])
        self.expect_line(consumer, "ready")
        producer = self.spawn(producer_argv)
        produced = self.finish(producer)
        consumed = self.finish(consumer)
        return produced, consumed

    def test_c_producer_to_python_consumer_summary(self):
        name = unique_name("sensor")
        produced, consumed = self.run_pair(
            [os.path.join(PY_EXAMPLES, "sensor_consumer.py"), name, "5000"],
            [example("example_c_sensor_producer"), name, "5000"])
        self.assertEqual(produced.strip(), "published 5000 readings")
        # The values are 20 + 5 sin(seq / 10): min ~15, mean ~20, max ~25.
        self.assertRegex(consumed, r"received 5000 readings, lost 0, in order, seq 0\.\.4999, "
                                   r"value min 1[45]\.\d{3} mean (19|20)\.\d{3} max 2[45]\.\d{3}")

    @unittest.skipIf(numpy is None, "numpy is not installed")
    def test_numpy_frames_from_cpp_are_viewed_without_a_copy(self):
        name = unique_name("frames")
        produced, consumed = self.run_pair(
            [os.path.join(PY_EXAMPLES, "frame_consumer.py"), name, "20"],
            [example("example_frame_producer"), name, "20"])
        self.assertEqual(produced.strip(), "published 20 frames of 640x480")
        lines = consumed.splitlines()
        self.assertEqual(len(lines), 20)
        for seq, line in enumerate(lines):
            self.assertRegex(line, rf"^frame {seq}: 640x480 mean [\d.]+ zero-copy yes$")

    def test_consumers_refuse_bad_arguments(self):
        for script in ("sensor_consumer.py", "frame_consumer.py"):
            with self.subTest(script=script):
                child = self.spawn([sys.executable, os.path.join(PY_EXAMPLES, script)])
                child.communicate(timeout=20)
                self.assertEqual(child.returncode, 2)
        for binary in ("example_c_sensor_producer", "example_frame_producer"):
            with self.subTest(binary=binary):
                child = self.spawn([example(binary), "x", "not-a-number"])
                child.communicate(timeout=20)
                self.assertEqual(child.returncode, 2)


if __name__ == "__main__":
    unittest.main()
