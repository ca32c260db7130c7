# SPDX-License-Identifier: MIT
"""Shared helpers of the Python tests: unique channel names removed after each test, and child
processes that are always killed and reaped (every wait has a timeout)."""

import errno
import itertools
import os
import subprocess
import sys
import unittest

import ipckit

PEER = os.environ.get("IPCKIT_TEST_PEER", "")
EXAMPLES_BIN = os.environ.get("IPCKIT_EXAMPLES_BIN", "")
SOURCE_DIR = os.environ.get("IPCKIT_SOURCE_DIR",
                            os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
_counter = itertools.count()


def unique_name(tag):
    """ipckit-test-<pid>-<n>-<tag>: the prefix the suite's leak check looks for."""
    return f"ipckit-test-{os.getpid()}-{next(_counter)}-{tag}"


def remove_channel(name):
    try:
        ipckit.Channel.remove(name)
    except ipckit.Error as e:
        if e.errno != errno.ENOENT:
            raise


class ChannelTestCase(unittest.TestCase):
    """Gives each test fresh channel names and removes the channels even when the test fails."""

    def channel(self, tag="py", **config):
        name = unique_name(tag)
        self.addCleanup(remove_channel, name)
        config.setdefault("max_message_size", 1024)
        config.setdefault("lane_bytes", 64 * 1024)
        ipckit.Channel.create(name, **config)
        return name

    def spawn(self, argv, **kwargs):
        """Starts a child with stdout piped; it is killed and reaped at cleanup."""
        child = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True, **kwargs)

        def reap():
            if child.poll() is None:
                child.kill()
            child.communicate(timeout=10)

        self.addCleanup(reap)
        return child

    def spawn_python(self, code, *args):
        return self.spawn([sys.executable, "-c", code, *args])

    def expect_line(self, child, expected, timeout=20):
        """Reads one line of the child's stdout (with a deadline) and checks it."""
        import selectors
        with selectors.DefaultSelector() as sel:
            sel.register(child.stdout, selectors.EVENT_READ)
            if not sel.select(timeout):
                self.fail(f"no '{expected}' from {child.args} within {timeout} s")
        line = child.stdout.readline().strip()
        if line != expected:
            _, err = child.communicate(timeout=10)
            self.fail(f"{child.args}: expected '{expected}', got '{line}'; stderr: {err}")

    def finish(self, child, timeout=30):
        """Waits for the child to exit 0; returns its remaining stdout."""
        try:
            out, err = child.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            child.kill()
            out, err = child.communicate(timeout=10)
            self.fail(f"{child.args} still running after {timeout} s; stderr: {err}")
        self.assertEqual(child.returncode, 0, f"{child.args}: stderr: {err}")
        return out
