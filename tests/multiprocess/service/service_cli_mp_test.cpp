// SPDX-License-Identifier: MIT
// `ipckit call` and `ipckit serve` (the real binary), and the calculator example, end to end.
#include "forked_child.hpp"
#include "run_program.hpp"
#include "service_test_util.hpp"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace ipckit::test {
namespace {

using namespace std::chrono_literals;

/// Runs a built program in a child (execv), its output discarded; killed with the test.
ForkedChild start(const std::string& program, std::vector<std::string> args) {
    args.insert(args.begin(), build_path(program));
    return ForkedChild::spawn([args]() mutable {
        std::vector<char*> argv;
        for (auto& a : args) {
            argv.push_back(a.data());
        }
        argv.push_back(nullptr);
        ::execv(argv[0], argv.data());
        return 127;
    });
}

RunResult ipckit(std::vector<std::string> args, std::string input = {}) {
    args.insert(args.begin(), build_path("bin/ipckit"));
    RunOptions o;
    o.input = std::move(input);
    return run_program(args, o);
}

/// Waits until the service has a live server (a connect succeeds).
void wait_for_server(const std::string& name) {
    ASSERT_TRUE(connect_when_up(name, {}, 10s).has_value()) << "no server for " << name;
}

TEST(ServiceCli, CallPrintsWhatServeCommandWrote) {
    ScopedService s;
    auto server = start("bin/ipckit", {"serve", s.uri(), "-n", "2", "--", "tr", "a-z", "A-Z"});
    wait_for_server(s.name());
    auto r = ipckit({"call", s.uri(), "hello"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "HELLO\n");
    auto from_stdin = ipckit({"call", s.uri(), "--timeout", "5s"}, "two\nlines\n");
    EXPECT_EQ(from_stdin.exit_code, 0) << from_stdin.err;
    EXPECT_EQ(from_stdin.out, "TWO\nLINES\n");
    EXPECT_CHILD_OK(server.wait_for(10s));
}

TEST(ServiceCli, FailingCommandIsAnErrorResponseWithItsStderr) {
    ScopedService s;
    auto server = start("bin/ipckit",
                        {"serve", s.uri(), "-n", "1", "--", "sh", "-c", "echo oops >&2; exit 3"});
    wait_for_server(s.name());
    auto r = ipckit({"call", s.uri(), "x"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.out, "");
    EXPECT_NE(r.err.find("error: oops"), std::string::npos) << r.err;
    EXPECT_CHILD_OK(server.wait_for(10s));
}

TEST(ServiceCli, ExitCodesForNoServerTimeoutBadNameAndASecondServer) {
    ScopedService s;
    auto none = ipckit({"call", s.uri(), "x"});
    EXPECT_EQ(none.exit_code, 1);
    EXPECT_NE(none.err.find("srv:" + s.name()), std::string::npos) << none.err;
    auto bad = ipckit({"call", "srv:../x", "x"});
    EXPECT_EQ(bad.exit_code, 2) << bad.err;

    auto server = start("bin/ipckit", {"serve", s.uri(), "-n", "2", "--", "sleep", "5"});
    wait_for_server(s.name());
    auto second = ipckit({"serve", s.uri(), "--", "true"});
    EXPECT_EQ(second.exit_code, 1);
    EXPECT_NE(second.err.find("pid " + std::to_string(server.pid())), std::string::npos)
        << second.err;
    const auto t0 = std::chrono::steady_clock::now();
    auto slow = ipckit({"call", s.uri(), "x", "--timeout", "200ms"});
    EXPECT_EQ(slow.exit_code, 3) << slow.err;
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
    server.kill(SIGTERM);
    (void)server.wait_for(10s);
}

TEST(ServiceExamples, CalculatorServerAndClient) {
    ScopedService s;
    auto server = start("examples/example_calc_server", {s.name(), "4"});
    auto r = run_program(
        {build_path("examples/example_calc_client"), s.name(), "1 + 2", "6 * 7", "1 / 0", "2 ^ 3"});
    EXPECT_EQ(r.exit_code, 1) << r.err;  // two of the four are errors
    EXPECT_EQ(r.out,
              "1 + 2 = 3\n"
              "6 * 7 = 42\n"
              "1 / 0: error: division by zero\n"
              "2 ^ 3: error: unknown operator '^'\n");
    EXPECT_CHILD_OK(server.wait_for(10s));
    auto gone = Client::connect(s.name());  // the server removed its service on the way out
    ASSERT_FALSE(gone);
    EXPECT_EQ(gone.error().code(), std::errc::connection_refused);
}

}  // namespace
}  // namespace ipckit::test
