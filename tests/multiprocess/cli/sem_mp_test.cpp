// SPDX-License-Identifier: MIT
// ipckit sem post|wait|trywait|get for sem:/NAME and sysvsem:KEY#i.
#include "background.hpp"
#include "cli_support.hpp"
#include "ipc_registry.hpp"

#include <cstdio>

#include <gtest/gtest.h>

namespace ipckit {
namespace {

using test::IpcKind;

TEST(CliSem, PosixPostWaitGetTimeout) {
    const std::string uri = "sem:" + test::unique_sem_name("cli");
    EXPECT_EQ(test::ipckit({"sem", "get", uri}).exit_code, 1);  // missing
    ASSERT_EQ(test::ipckit({"sem", "post", "--create", uri}).exit_code, 0);
    auto g = test::ipckit({"sem", "get", uri});
    EXPECT_EQ(g.exit_code, 0);
    EXPECT_EQ(g.out, "1\n");
    EXPECT_NE(g.err.find("not robust"), std::string::npos) << g.err;  // B06 hint
    EXPECT_EQ(test::ipckit({"sem", "wait", uri}).exit_code, 0);
    EXPECT_EQ(test::ipckit({"sem", "trywait", uri}).exit_code, 3);
    auto w = test::ipckit({"sem", "wait", "--timeout", "100ms", uri});
    EXPECT_EQ(w.exit_code, 3);
    EXPECT_NE(w.err.find("timed out"), std::string::npos);
    // A blocked wait is released by a post from another process.
    test::Background waiter({"sem", "wait", "--timeout", "10s", uri});
    ASSERT_TRUE(waiter.wait_blocked());
    EXPECT_EQ(test::ipckit({"sem", "post", uri}).exit_code, 0);
    EXPECT_EQ(waiter.wait().exit_code, 0);
    EXPECT_EQ(test::ipckit({"sem", "get", uri}).out, "0\n");
}

TEST(CliSem, KilledHolderLeavesValueTakenAndHintOnlyWithoutHolders) {  // B06
    const std::string uri = "sem:" + test::unique_sem_name("b06");
    ASSERT_EQ(test::ipckit({"sem", "post", "--create", uri}).exit_code, 0);
    ASSERT_EQ(test::ipckit({"sem", "wait", uri}).exit_code, 0);  // a "holder" took it ...
    test::Background waiter({"sem", "wait", "--timeout", "10s", uri});
    ASSERT_TRUE(waiter.wait_blocked());
    auto g = test::ipckit({"sem", "get", uri});
    EXPECT_EQ(g.out, "0\n");
    EXPECT_EQ(g.err.find("hint"), std::string::npos) << g.err;  // someone has it open
    ::kill(waiter.pid(), SIGKILL);
    (void)waiter.wait();
    g = test::ipckit({"sem", "get", uri});
    EXPECT_EQ(g.out, "0\n");  // ... and died: nothing gives it back (not robust, F11)
    EXPECT_NE(g.err.find("hint"), std::string::npos) << g.err;
}

TEST(CliSem, PosixCreateWithValueAndBadArgs) {
    const std::string uri = "sem:" + test::unique_sem_name("cliv");
    ASSERT_EQ(test::ipckit({"sem", "get", "--create", "--value", "3", uri}).out, "3\n");
    EXPECT_EQ(test::ipckit({"sem", "frob", uri}).exit_code, 2);
    EXPECT_EQ(test::ipckit({"sem", "get", "mq:/x"}).exit_code, 2);
    EXPECT_EQ(test::ipckit({"sem", "wait", "--timeout", "-1", uri}).exit_code, 2);
}

TEST(CliSem, PostThatCreatesLeavesTheGivenValue) {  // issue 20: --value 1 gave 2
    const std::string uri = "sem:" + test::unique_sem_name("postv");
    ASSERT_EQ(test::ipckit({"sem", "post", "--create", "--value", "1", uri}).exit_code, 0);
    EXPECT_EQ(test::ipckit({"sem", "get", uri}).out, "1\n");
    // The semaphore exists now: post adds 1 and --value (for creation only) changes nothing.
    ASSERT_EQ(test::ipckit({"sem", "post", "--create", "--value", "1", uri}).exit_code, 0);
    EXPECT_EQ(test::ipckit({"sem", "get", uri}).out, "2\n");

    char sysv[64];
    std::snprintf(sysv,
                  sizeof sysv,
                  "sysvsem:0x%08x",
                  static_cast<unsigned>(test::unique_sysv_key(IpcKind::SysvSem)));
    ASSERT_EQ(test::ipckit({"sem", "post", "--create", "--value", "1", sysv}).exit_code, 0);
    EXPECT_EQ(test::ipckit({"sem", "get", sysv}).out, "1\n");
    ASSERT_EQ(test::ipckit({"sem", "post", "--create", sysv}).exit_code, 0);
    EXPECT_EQ(test::ipckit({"sem", "get", sysv}).out, "2\n");
}

TEST(CliSem, SysvIndex) {
    char uri[64];
    std::snprintf(uri,
                  sizeof uri,
                  "sysvsem:0x%08x#1",
                  static_cast<unsigned>(test::unique_sysv_key(IpcKind::SysvSem)));
    // post that creates leaves --value (issue 20: it used to post on top, giving 3).
    ASSERT_EQ(test::ipckit({"sem", "post", "--create", "--value", "2", uri}).exit_code, 0);
    EXPECT_EQ(test::ipckit({"sem", "get", uri}).out, "2\n");
    ASSERT_EQ(test::ipckit({"sem", "post", uri}).exit_code, 0);
    EXPECT_EQ(test::ipckit({"sem", "wait", uri}).exit_code, 0);
    EXPECT_EQ(test::ipckit({"sem", "trywait", uri}).exit_code, 0);
    EXPECT_EQ(test::ipckit({"sem", "trywait", uri}).exit_code, 0);
    EXPECT_EQ(test::ipckit({"sem", "wait", "--timeout", "50ms", uri}).exit_code, 3);
    EXPECT_EQ(test::ipckit({"sem", "get", uri}).out, "0\n");
}

}  // namespace
}  // namespace ipckit
