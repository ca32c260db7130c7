// SPDX-License-Identifier: MIT
// How the ipckit command talks (issue 20, item 6): help, parser errors, hints, option aliases,
// flock(1)'s options, and durations with units.
#include "background.hpp"
#include "cli_support.hpp"
#include "ipc_registry.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <sstream>

#include <gtest/gtest.h>

namespace ipckit {
namespace {

const std::vector<std::string> kSubcommands = {
    "ls", "stat", "rm", "send", "recv", "sem", "lock", "bench"};

TEST(CliManners, HelpSaysIpckitNamesPlaceholdersAndFitsIn80Columns) {
    for (const std::string& sub : kSubcommands) {
        auto r = test::ipckit({sub, "--help"});
        ASSERT_EQ(r.exit_code, 0) << r.describe();
        EXPECT_NE(r.out.find("Usage: ipckit " + sub + " "), std::string::npos) << r.out;
        EXPECT_EQ(r.out.find(test::ipckit_path()), std::string::npos) << r.out;
        std::istringstream in(r.out);
        for (std::string line; std::getline(in, line);) {
            EXPECT_LE(line.size(), 80U) << sub << ": " << line;
        }
    }
    auto recv = test::ipckit({"recv", "--help"});
    EXPECT_NE(recv.out.find("uri URI REQUIRED"), std::string::npos) << recv.out;
    EXPECT_NE(recv.out.find("--timeout DURATION"), std::string::npos) << recv.out;
    EXPECT_NE(test::ipckit({"send", "--help"}).out.find("--file PATH"), std::string::npos);
    EXPECT_EQ(recv.out.find(" TEXT"), std::string::npos) << recv.out;
    auto root = test::ipckit({"--help"});
    EXPECT_NE(root.out.find("Usage: ipckit [OPTIONS]"), std::string::npos) << root.out;
}

TEST(CliManners, ParserErrorsStartWithIpckitAndSuggestTheClosest) {
    auto r = test::ipckit({"sned", "mq:/x", "hi"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.err.rfind("ipckit: unknown subcommand 'sned' (did you mean 'send'?)\n", 0), 0U)
        << r.err;
    r = test::ipckit({"send", "--prioo", "3", "mq:/x", "hi"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.err.rfind("ipckit send: unknown option '--prioo' (did you mean '--prio'?)\n", 0),
              0U)
        << r.err;
    EXPECT_NE(r.err.find("ipckit send --help"), std::string::npos) << r.err;
    r = test::ipckit({"recv"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.err.rfind("ipckit recv: ", 0), 0U) << r.err;
    r = test::ipckit({"ls", "--xyzzy-nothing-like-it"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.err.find("did you mean"), std::string::npos) << r.err;
}

TEST(CliManners, AMissingObjectSuggestsCreate) {
    const std::string mq = "mq:" + test::unique_mq_name("nocreate");
    auto r = test::ipckit({"send", mq, "hi"});
    EXPECT_EQ(r.exit_code, 1) << r.describe();
    EXPECT_NE(r.err.find("No such file or directory (use --create to create it)"),
              std::string::npos)
        << r.err;
    r = test::ipckit({"sem", "post", "sem:" + test::unique_sem_name("nocreate")});
    EXPECT_EQ(r.exit_code, 1) << r.describe();
    EXPECT_NE(r.err.find("(use --create to create it)"), std::string::npos) << r.err;
    // A socket nobody listens on is not something --create makes: no such hint.
    r = test::ipckit({"send", "unix:" + test::unique_path("nosock"), "hi"});
    EXPECT_EQ(r.exit_code, 1) << r.describe();
    EXPECT_EQ(r.err.find("--create"), std::string::npos) << r.err;
}

TEST(CliManners, SendToAChannelWithoutSubscriberSaysSo) {
    const std::string dir = test::unique_path("chandir");
    ASSERT_EQ(::mkdir(dir.c_str(), 0700), 0);
    const std::string uri = "chan:c1?dir=" + dir;
    auto r = test::ipckit({"send", "--create", uri, "lost"});
    EXPECT_EQ(r.exit_code, 0) << r.describe();
    EXPECT_NE(r.err.find("has no subscriber"), std::string::npos) << r.err;
    {
        test::Background rx({"recv", "--timeout", "10s", uri});
        ASSERT_TRUE(rx.wait_blocked());
        r = test::ipckit({"send", uri, "got"});
        EXPECT_EQ(r.exit_code, 0) << r.describe();
        EXPECT_EQ(r.err, "");
        EXPECT_EQ(rx.wait().out, "got\n");
    }
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
}

TEST(CliManners, PriorityIsAcceptedBesidePrio) {
    const std::string mq = "mq:" + test::unique_mq_name("prio");
    ASSERT_EQ(test::ipckit({"send", "--create", "--priority", "7", mq, "hi"}).exit_code, 0);
    auto r = test::ipckit({"recv", "--json", "--timeout", "0", mq});
    ASSERT_EQ(r.exit_code, 0) << r.describe();
    EXPECT_EQ(nlohmann::json::parse(r.out)["priority"], 7) << r.out;
}

TEST(CliManners, LockTakesFlocksNonblockConflictCodeAndCommandString) {
    const std::string file = test::unique_path("lock");
    const int fd = ::open(file.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC, 0600);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::flock(fd, LOCK_EX), 0);  // another open file: ipckit lock conflicts with it
    auto r = test::ipckit({"lock", "-n", file, "true"});
    EXPECT_EQ(r.exit_code, 3) << r.describe();
    EXPECT_NE(r.err.find("held by another process"), std::string::npos) << r.err;
    EXPECT_EQ(test::ipckit({"lock", "-E", "7", "-n", file, "true"}).exit_code, 7);
    r = test::ipckit({"lock", "-w", "300ms", file, "true"});
    EXPECT_EQ(r.exit_code, 3) << r.describe();
    EXPECT_NE(r.err.find("timed out after 0.3 s"), std::string::npos) << r.err;
    EXPECT_EQ(test::ipckit({"lock", "-E", "256", "-n", file, "true"}).exit_code, 2);
    ::close(fd);

    r = test::ipckit({"lock", file, "-c", "echo $((40 + 2)); exit 5"});
    EXPECT_EQ(r.exit_code, 5) << r.describe();
    EXPECT_EQ(r.out, "42\n");
    EXPECT_EQ(test::ipckit({"lock", "-c", "exit 4", file}).exit_code, 4);
    EXPECT_EQ(test::ipckit({"lock", file, "-c", "true", "extra"}).exit_code, 2);
}

TEST(CliManners, TimeoutsArePrintedWithUnits) {
    const std::string uri = "sem:" + test::unique_sem_name("units");
    auto r = test::ipckit({"sem", "wait", "--create", "--timeout", "100ms", uri});
    EXPECT_EQ(r.exit_code, 3) << r.describe();
    EXPECT_NE(r.err.find("timed out after 0.1 s"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace ipckit
