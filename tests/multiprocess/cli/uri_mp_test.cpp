// SPDX-License-Identifier: MIT
// Bad input through the real binary: malformed URIs of every scheme, bad options, bad durations,
// and the help text of every subcommand.
#include <gtest/gtest.h>

#include "cli_support.hpp"
#include "ipc_registry.hpp"

namespace ipckit {
namespace {

struct BadUri {
    const char* uri;
    const char* part;  // what the one-line error must name
};

// One or more malformed URIs for every scheme (A03, A07, A09, A21, A22).
const BadUri kBadUris[] = {
    {"nosuch:/x", "unknown scheme 'nosuch'"},
    {"/just/a/path", "missing scheme"},
    {"fifo:", "nothing after 'fifo:'"},
    {"fifo:/tmp/x?prio=1", "unknown option 'prio'"},
    {"mq:jobs", "must start with '/'"},
    {"mq:/a/b", "contains '/'"},
    {"mq:/q?maxmsg=0", "option maxmsg '0'"},
    {"mq:/q?prio=32768", "option prio '32768'"},
    {"mq:/q?msgsize=99999999", "option msgsize '99999999'"},
    {"sysvmq:0", "IPC_PRIVATE"},
    {"sysvmq:-1", "key '-1'"},
    {"sysvmq:0x1ffffffff", "0x1ffffffff"},
    {"sysvmq:ftok:/etc/hostname:0", "ftok id '0'"},
    {"sysvmq:id:x", "id 'x'"},
    {"sysvmq:5?type=abc", "option type 'abc'"},
    {"unix:@", "abstract socket name after '@' is empty"},
    {"unix:", "nothing after 'unix:'"},
    {"unix-dgram:/x?raw", "unknown option 'raw'"},
    {"unix-seqpacket:@", "is empty"},
    {"tcp:localhost", "missing ':PORT'"},
    {"tcp:localhost:99999", "port '99999'"},
    {"tcp:::1:80", "must be in brackets"},
    {"udp:[::1:53", "no closing ']'"},
    {"udp:bad host:53", "host 'bad host'"},
    {"chan:../../etc/x", "must not start with '.'"},
    {"chan:a/b", "contains '/'"},
    {"chan:.", "must not start with '.'"},
    {"chan:x?dir=rel", "absolute path"},
    {"shm:/", "is empty after '/'"},
    {"shm:/s?size=12q", "is not a size"},
    {"sysvshm:0", "IPC_PRIVATE"},
    {"sem:sem", "must start with '/'"},
    {"sem:/s?value=-1", "option value '-1'"},
    {"sysvsem:5#x", "semaphore index '#x'"},
    {"sysvsem:5?nsems=0", "option nsems '0'"},
    {"nats://h:4222", "missing '/SUBJECT'"},
    {"nats://h:4222/a..b", "empty token"},
    {"mq:/q?maxmsg=1&maxmsg=2", "given twice"},
};

TEST(CliUri, EveryMalformedUriIsOneLineNamingTheBadPartWithExit2) {
    for (const BadUri& bad : kBadUris) {
        for (const char* sub : {"stat", "rm"}) {
            auto r = test::ipckit({sub, bad.uri});
            EXPECT_TRUE(r.exited && r.exit_code == 2) << sub << " " << bad.uri << ": " << r.describe();
            EXPECT_EQ(test::line_count(r.err), 1U) << bad.uri << ": " << r.err;
            EXPECT_NE(r.err.find(bad.part), std::string::npos)
                << bad.uri << ": '" << bad.part << "' not in " << r.err;
            EXPECT_NE(r.err.find(std::string("ipckit ") + sub + ": uri '"), std::string::npos) << r.err;
        }
    }
}

TEST(CliUri, AHugeOrNulNameIsRejectedBeforeAnyFileSystemAccess) {  // A22
    // 100 KiB: under the kernel's 128 KiB limit for one argv string.
    auto huge = test::ipckit({"stat", "chan:" + std::string(100 * 1024, 'a')});
    EXPECT_EQ(huge.exit_code, 2) << huge.describe();
    EXPECT_LT(huge.err.size(), 400U);
    auto nul = test::ipckit({"stat", "chan:a%00b"});
    EXPECT_EQ(nul.exit_code, 2) << nul.describe();
    EXPECT_NE(nul.err.find("%00"), std::string::npos);
}

TEST(CliUri, SchemesWithoutAnInventoryAreAUsageError) {
    auto r = test::ipckit({"stat", "tcp:127.0.0.1:80"});
    EXPECT_EQ(r.exit_code, 2) << r.describe();
    EXPECT_NE(r.err.find("not a kernel object ipckit can list"), std::string::npos) << r.err;
}

TEST(CliUri, FtokOnAMissingPathNamesIt) {  // A03
    auto r = test::ipckit({"stat", "sysvmq:ftok:/nope/ipckit-none:1"});
    EXPECT_EQ(r.exit_code, 1) << r.describe();
    EXPECT_NE(r.err.find("ftok /nope/ipckit-none: No such file"), std::string::npos) << r.err;
}

TEST(CliUri, BadTypeAndBadDurationsAreUsageErrors) {  // A09
    auto t = test::ipckit({"ls", "--type", "mqq"});
    EXPECT_EQ(t.exit_code, 2) << t.describe();
    EXPECT_NE(t.err.find("'mqq'"), std::string::npos);
    const std::string file = test::unique_path("lock");
    for (const char* bad : {"-1", "abc", "", "1.2.3s", "5parsecs", ".s"}) {
        auto r = test::ipckit({"lock", "--timeout", bad, file, "--", "true"});
        EXPECT_EQ(r.exit_code, 2) << "--timeout '" << bad << "': " << r.describe();
        EXPECT_EQ(test::line_count(r.err), 1U) << r.err;
    }
    // A huge timeout saturates to "forever": no overflow, and a free lock is taken at once.
    for (const char* ok : {"1e30", "99999999999h", "0", "250ms", "1.5s", "2"}) {
        auto r = test::ipckit({"lock", "--timeout", ok, file, "--", "true"});
        EXPECT_EQ(r.exit_code, 0) << "--timeout " << ok << ": " << r.describe();
    }
}

TEST(CliHelp, EverySubcommandDocumentsExamplesAndExitCodes) {
    for (const char* sub : {"ls", "stat", "rm", "lock", "send", "recv", "sem"}) {
        auto r = test::ipckit({sub, "--help"});
        EXPECT_EQ(r.exit_code, 0) << sub << ": " << r.describe();
        EXPECT_NE(r.out.find("Examples:"), std::string::npos) << sub;
        EXPECT_NE(r.out.find("Exit codes: 0 success, 1 failure"), std::string::npos) << sub;
        EXPECT_NE(r.out.find("4 refused for safety"), std::string::npos) << sub;
    }
    auto top = test::ipckit({"--help"});
    for (const char* sub : {"ls", "stat", "rm", "lock", "send", "recv", "sem"}) {
        EXPECT_NE(top.out.find(sub), std::string::npos) << sub;
    }
}

TEST(CliHelp, BashCompletionScriptKnowsEverySubcommandAndScheme) {
    auto r = test::run_program({"/bin/bash", "-c",
                                // Generated from the command tree (docs/design/packaging.md).
                                "source <(" + test::build_path("bin/ipckit") +
                                    " completion bash) && "
                                    "COMP_WORDS=(ipckit r); COMP_CWORD=1; _ipckit; "
                                    "echo \"${COMPREPLY[*]}\"; "
                                    "COMP_WORDS=(ipckit stat sysv); COMP_CWORD=2; _ipckit; "
                                    "echo \"${COMPREPLY[*]}\"; "
                                    "COMP_WORDS=(ipckit sem t); COMP_CWORD=2; _ipckit; "
                                    "echo \"${COMPREPLY[*]}\"; "
                                    "COMP_WORDS=(ipckit recv --f); COMP_CWORD=2; _ipckit; "
                                    "echo \"${COMPREPLY[*]}\""});
    EXPECT_EQ(r.exit_code, 0) << r.describe();
    EXPECT_NE(r.out.find("rm"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("sysvmq:"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("sysvsem:"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("trywait"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("--follow"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace ipckit
