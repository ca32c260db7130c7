// SPDX-License-Identifier: MIT
// The URI forms of the patterns through the real binary: `recv chan:NAME?group=G` is
// `recv --group G chan:NAME` (the two forms share one group), `send` with ?group= publishes to
// the channel, `call`/`serve` take srv:NAME?dir=PATH; a bad group, option or scheme is a usage
// error (exit 2) naming the part.
#include "background.hpp"
#include "cli_support.hpp"
#include "ipc_registry.hpp"
#include "ipckit/channel/channel.hpp"

#include <sys/stat.h>

#include <filesystem>
#include <set>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

namespace ipckit {
namespace {

class PatternUriCli : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = test::unique_path("patdir");
        ASSERT_EQ(::mkdir(dir_.c_str(), 0700), 0);
        ChannelConfig c;
        c.lane_bytes = 4096;
        c.max_message_size = 256;
        c.options.dir = dir_;
        ASSERT_TRUE(Channel::create("jobs", c));
    }
    void TearDown() override {
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }
    [[nodiscard]] std::string chan(const std::string& query = "") const {
        return "chan:jobs?dir=" + dir_ + query;
    }
    [[nodiscard]] std::string srv(const std::string& query = "") const {
        return "srv:echo?dir=" + dir_ + query;
    }
    std::string dir_;
};

std::multiset<std::string> line_set(const std::string& text) {
    std::multiset<std::string> out;
    std::istringstream in(text);
    for (std::string l; std::getline(in, l);) {
        out.insert(l);
    }
    return out;
}

TEST_F(PatternUriCli, GroupInTheUriAndDashDashGroupAreOneGroup) {
    test::Background a({"recv", "--follow", "--timeout", "2s", chan("&group=w")});
    test::Background b({"recv", "--group", "w", "--follow", "--timeout", "2s", chan()});
    ASSERT_TRUE(a.wait_blocked());
    ASSERT_TRUE(b.wait_blocked());
    constexpr int kN = 60;
    std::vector<std::string> args{"send", chan("&group=w")};  // the group is the receivers' part
    for (int i = 0; i < kN; ++i) {
        args.push_back("job" + std::to_string(i));
    }
    const test::RunResult tx = test::ipckit(args);
    ASSERT_TRUE(tx.exited && tx.exit_code == 0) << tx.describe();
    EXPECT_EQ(tx.err.find("no subscriber"), std::string::npos)
        << "a group is listening: " << tx.err;
    const test::RunResult ra = a.wait();
    const test::RunResult rb = b.wait();
    EXPECT_EQ(ra.exit_code, 3) << ra.describe();
    EXPECT_EQ(rb.exit_code, 3) << rb.describe();
    auto all = line_set(ra.out);
    all.merge(line_set(rb.out));
    std::multiset<std::string> want;
    for (int i = 0; i < kN; ++i) {
        want.insert("job" + std::to_string(i));
    }
    // Each message printed once in all: had the URI's group been another group (or a plain
    // subscription), a would have printed every message again.
    EXPECT_EQ(all, want) << "a printed:\n" << ra.out << "b printed:\n" << rb.out;
}

TEST_F(PatternUriCli, BadGroupOrOptionInTheUriIsAUsageErrorNamingIt) {
    auto r = test::ipckit({"recv", chan("&group=bad*name"), "--timeout", "0"});
    EXPECT_EQ(r.exit_code, 2) << r.describe();
    EXPECT_NE(r.err.find("option group 'bad*name'"), std::string::npos) << r.err;
    r = test::ipckit({"recv", chan("&group="), "--timeout", "0"});
    EXPECT_EQ(r.exit_code, 2) << r.describe();
    EXPECT_NE(r.err.find("option 'group' has an empty value"), std::string::npos) << r.err;
    r = test::ipckit({"recv", chan("&group=" + std::string(64, 'g')), "--timeout", "0"});
    EXPECT_EQ(r.exit_code, 2) << r.describe();
    EXPECT_NE(r.err.find("1..63"), std::string::npos) << r.err;
    r = test::ipckit({"recv", chan("&grp=w"), "--timeout", "0"});
    EXPECT_EQ(r.exit_code, 2) << r.describe();
    EXPECT_NE(r.err.find("grp"), std::string::npos) << r.err;
    r = test::ipckit({"recv", "--group", "v", chan("&group=w"), "--timeout", "0"});
    EXPECT_EQ(r.exit_code, 2) << r.describe();
    EXPECT_NE(r.err.find("differ"), std::string::npos) << r.err;
    r = test::ipckit({"recv", chan("&group=w"), "--timeout", "0"});
    EXPECT_EQ(r.exit_code, 3) << r.describe();  // well-formed: nothing to take
}

TEST_F(PatternUriCli, CallAndServeTakeSrvUrisWithADirectory) {
    test::Background server({"serve", srv(), "-n", "1", "--", "tr", "a-z", "A-Z"});
    ASSERT_TRUE(server.wait_blocked());
    EXPECT_TRUE(std::filesystem::exists(dir_ + "/echo.srv")) << "the service lives in ?dir=";
    auto r = test::ipckit({"call", srv(), "hello", "--timeout", "10s"});
    EXPECT_EQ(r.exit_code, 0) << r.describe();
    EXPECT_EQ(r.out, "HELLO\n");
    const test::RunResult done = server.wait();
    EXPECT_EQ(done.exit_code, 0) << done.describe();
}

TEST_F(PatternUriCli, BadSrvUrisAreUsageErrorsNamingThePart) {
    auto r = test::ipckit({"call", srv("&foo=1"), "x"});
    EXPECT_EQ(r.exit_code, 2) << r.describe();
    EXPECT_NE(r.err.find("foo"), std::string::npos) << r.err;
    r = test::ipckit({"call", "srv:echo?dir=relative", "x"});
    EXPECT_EQ(r.exit_code, 2) << r.describe();
    EXPECT_NE(r.err.find("option dir"), std::string::npos) << r.err;
    r = test::ipckit({"call", "mq:/echo", "x"});
    EXPECT_EQ(r.exit_code, 2) << r.describe();
    EXPECT_NE(r.err.find("not a service"), std::string::npos) << r.err;
    r = test::ipckit({"serve", "srv:bad*name", "--", "true"});
    EXPECT_EQ(r.exit_code, 2) << r.describe();
    EXPECT_NE(r.err.find("service name 'bad*name'"), std::string::npos) << r.err;
    r = test::ipckit({"serve", srv("&group=w"), "--", "true"});
    EXPECT_EQ(r.exit_code, 2) << r.describe();
    EXPECT_NE(r.err.find("unknown option 'group'"), std::string::npos) << r.err;
    r = test::ipckit({"send", "srv:echo", "x"});
    EXPECT_EQ(r.exit_code, 2) << r.describe();
    EXPECT_NE(r.err.find("ipckit call"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace ipckit
