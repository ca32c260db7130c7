// SPDX-License-Identifier: MIT
// Pseudoterminals: a child on the slave as its controlling terminal, driven interactively through
// the master; window size; EIO after the slave side closes is end of file (F30, B31).
#include <sys/wait.h>

#include <gtest/gtest.h>

#include "ipckit/stream/pty.hpp"

namespace ipckit {
namespace {

using namespace std::chrono_literals;

TEST(Pty, DrivesCatInteractivelyThenSeesEndOfFileAndExitStatus) {
    auto pty = Pty::open().value();
    auto cat = pty.spawn({"cat"}).value();
    ASSERT_TRUE(pty.write_all("hello pty\n"));
    // The terminal echoes what we type, then cat writes it back: two lines, with CRLF (onlcr).
    auto text = pty.read_until_text("hello pty\r\nhello pty\r\n", Deadline::after(10s));
    ASSERT_TRUE(text) << text.error().message();
    ASSERT_TRUE(pty.write_all("\x04"));  // ^D at the start of a line: cat reads end of file
    auto rest = pty.read_to_end(Deadline::after(10s));  // EIO once cat exits: end of file
    ASSERT_TRUE(rest) << rest.error().message();
    auto st = cat.wait_for(10s);
    ASSERT_TRUE(st);
    ASSERT_TRUE(st->has_value());
    EXPECT_TRUE((*st)->success()) << (*st)->describe();
}

TEST(Pty, DrivesAShellWhichSeesATerminalAndItsExitCodeIsCollected) {
    auto pty = Pty::open().value();
    auto sh = pty.spawn({"/bin/sh"}, {.env_set = {"PS1=$ "}}).value();
    ASSERT_TRUE(pty.write_all("test -t 0 && echo TTY-$((6*7))\n"));
    auto seen = pty.read_until_text("TTY-42", Deadline::after(10s));
    ASSERT_TRUE(seen) << seen.error().message();
    // /dev/tty opens only with a controlling terminal: setsid + TIOCSCTTY worked.
    ASSERT_TRUE(pty.write_all("echo ctty >/dev/tty && echo CTTY-$((1+1))\n"));
    ASSERT_TRUE(pty.read_until_text("CTTY-2", Deadline::after(10s)));
    ASSERT_TRUE(pty.write_all("exit 3\n"));
    ASSERT_TRUE(pty.read_to_end(Deadline::after(10s)));
    auto st = sh.wait();
    ASSERT_TRUE(st);
    EXPECT_TRUE(st->exited);
    EXPECT_EQ(st->code, 3);
}

TEST(Pty, WindowSizeIsSetAndSeenByTheChild) {
    auto pty = Pty::open({.rows = 33, .cols = 101}).value();
    EXPECT_EQ(*pty.window_size(), (WindowSize{33, 101}));
    ASSERT_TRUE(pty.set_window_size({.rows = 40, .cols = 132}));
    EXPECT_EQ(*pty.window_size(), (WindowSize{40, 132}));
    auto stty = pty.spawn({"stty", "size"}).value();
    auto out = pty.read_to_end(Deadline::after(10s));
    ASSERT_TRUE(out) << out.error().message();
    EXPECT_EQ(*out, "40 132\r\n");
    EXPECT_TRUE(stty.wait()->success());
}

TEST(Pty, ChildKilledBySignalGivesEndOfFileAndTheSignal) {
    auto pty = Pty::open().value();
    auto child = pty.spawn({"sh", "-c", "echo ready; exec sleep 30"}).value();
    ASSERT_TRUE(pty.read_until_text("ready", Deadline::after(10s)));
    ASSERT_TRUE(child.kill(SIGKILL));
    auto rest = pty.read_to_end(Deadline::after(10s));
    ASSERT_TRUE(rest) << rest.error().message();
    auto st = child.wait().value();
    EXPECT_EQ(st.signal, SIGKILL);
    int ws = 0;
    EXPECT_EQ(::waitpid(child.pid(), &ws, WNOHANG), -1);  // reaped: no zombie
}

TEST(Pty, ReadAfterTheSlaveClosedIsEndOfFileNotAnError) {
    auto pty = Pty::open().value();
    auto child = pty.spawn({"true"}).value();
    ASSERT_TRUE(child.wait()->success());
    std::byte buf[64];
    auto n = pty.read_until(buf, Deadline::after(10s));
    ASSERT_TRUE(n) << n.error().message();  // the kernel says EIO (F30); we say end of file
    ASSERT_TRUE(n->has_value());
    EXPECT_EQ(**n, 0U);
}

}  // namespace
}  // namespace ipckit
