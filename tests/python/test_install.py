# SPDX-License-Identifier: MIT
"""`cmake --install` puts a working package into the interpreter's platlib (issue 18, item 3)."""

import glob
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import unittest

CMAKE = os.environ.get("IPCKIT_CMAKE", "")
BINARY_DIR = os.environ.get("IPCKIT_BINARY_DIR", "")
PREFIX = os.environ.get("IPCKIT_INSTALL_PREFIX", "")
PY_DIR = os.environ.get("IPCKIT_PYTHON_INSTALL_DIR", "")

ROUND_TRIP = """
import os, sys, ipckit
assert ipckit.__file__.startswith(sys.argv[1]), ipckit.__file__
name = "ipckit-test-%d-install" % os.getpid()
ipckit.Channel.create(name, max_message_size=64, lane_bytes=8192)
try:
    with ipckit.Subscriber.open(name) as sub, ipckit.Publisher.open(name) as pub:
        pub.send(b"installed")
        print(bytes(sub.receive(5)).decode())
finally:
    ipckit.Channel.remove(name)
"""


@unittest.skipUnless(CMAKE and BINARY_DIR and PY_DIR, "run by ctest (IPCKIT_CMAKE & co. unset)")
class Install(unittest.TestCase):
    def test_the_default_destination_is_on_the_interpreters_path(self):
        if os.path.isabs(PY_DIR):
            self.skipTest("IPCKIT_PYTHON_INSTALL_DIR was set to an absolute path")
        if PREFIX == "/usr/local" and sysconfig.get_default_scheme() == "posix_local":
            self.assertEqual(os.path.join(PREFIX, PY_DIR), sysconfig.get_path("platlib"))
        self.assertIn(os.path.join(PREFIX, PY_DIR), sys.path + [sysconfig.get_path("platlib")])

    def test_installed_package_imports_and_works_without_the_build_tree(self):
        prefix = tempfile.mkdtemp(prefix="ipckit-install-")
        self.addCleanup(shutil.rmtree, prefix)
        subprocess.run([CMAKE, "--install", BINARY_DIR, "--prefix", prefix], check=True,
                       stdout=subprocess.DEVNULL, timeout=120)
        site = os.path.join(prefix, PY_DIR)
        package = os.path.join(site, "ipckit")
        for name in ("__init__.py", "__init__.pyi", "py.typed"):
            self.assertTrue(os.path.isfile(os.path.join(package, name)), name)
        self.assertEqual(len(glob.glob(os.path.join(package, "_ipckit*.so"))), 1)
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "LD_LIBRARY_PATH")}
        env["PYTHONPATH"] = site
        out = subprocess.run([sys.executable, "-c", ROUND_TRIP, site], env=env, check=True,
                             capture_output=True, text=True, timeout=30).stdout
        self.assertEqual(out.strip(), "installed")


if __name__ == "__main__":
    unittest.main()
