// SPDX-License-Identifier: MIT
// `ipckit recv --group G chan:NAME` through the real binary: two consumers split the messages,
// each message printed by exactly one of them; bad uses are usage errors (exit 2).
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

class GroupCli : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = test::unique_path("groupdir");
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
    [[nodiscard]] std::string uri() const { return "chan:jobs?dir=" + dir_; }
    std::string dir_;
};

std::vector<std::string> lines(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string l; std::getline(in, l);) {
        out.push_back(l);
    }
    return out;
}

TEST_F(GroupCli, TwoConsumersSplitTheMessagesEachPrintedOnce) {
    test::Background a({"recv", "--group", "w", "--follow", "--timeout", "2s", uri()});
    test::Background b({"recv", "--group", "w", "--follow", "--timeout", "2s", uri()});
    ASSERT_TRUE(a.wait_blocked());
    ASSERT_TRUE(b.wait_blocked());
    constexpr int kN = 60;
    std::vector<std::string> args{"send", uri()};
    for (int i = 0; i < kN; ++i) {
        args.push_back("job" + std::to_string(i));
    }
    const test::RunResult tx = test::ipckit(args);
    ASSERT_TRUE(tx.exited && tx.exit_code == 0) << tx.describe();
    const test::RunResult ra = a.wait();
    const test::RunResult rb = b.wait();
    EXPECT_EQ(ra.exit_code, 3) << ra.describe();  // --follow ends when --timeout passes idle
    EXPECT_EQ(rb.exit_code, 3) << rb.describe();
    std::multiset<std::string> all;
    for (const auto& l : lines(ra.out)) {
        all.insert(l);
    }
    for (const auto& l : lines(rb.out)) {
        all.insert(l);
    }
    std::multiset<std::string> want;
    for (int i = 0; i < kN; ++i) {
        want.insert("job" + std::to_string(i));
    }
    EXPECT_EQ(all, want) << "a printed:\n" << ra.out << "b printed:\n" << rb.out;
    // stat shows the group: both consumers are gone now, everything was taken.
    const test::RunResult st = test::ipckit({"stat", uri()});
    EXPECT_EQ(st.exit_code, 0) << st.describe();
    EXPECT_NE(st.out.find("group:"), std::string::npos) << st.out;
    EXPECT_NE(st.out.find("w (at-least-once): 0 consumer(s)"), std::string::npos) << st.out;
    const auto j = nlohmann::json::parse(test::ipckit({"stat", "--json", uri()}).out, nullptr, false);
    ASSERT_TRUE(j.is_object()) << "stat --json";
    const auto& g = j["channel"]["groups"];
    ASSERT_EQ(g.size(), 1U) << j.dump();
    EXPECT_EQ(g[0]["name"], "w");
    EXPECT_EQ(g[0]["in_flight"], 0);
    EXPECT_EQ(g[0]["lost"], 0);
}

TEST_F(GroupCli, GroupNeedsAChannelAndAValidName) {
    test::RunResult r = test::ipckit({"recv", "--group", "w", "mq:/not-a-channel", "--timeout", "0"});
    EXPECT_EQ(r.exit_code, 2) << r.describe();
    r = test::ipckit({"recv", "--group", "bad name", uri(), "--timeout", "0"});
    EXPECT_EQ(r.exit_code, 2) << r.describe();
    r = test::ipckit({"recv", "--group", "w", uri(), "--timeout", "0"});
    EXPECT_EQ(r.exit_code, 3) << r.describe();  // nothing to take: the usual timeout code
}

}  // namespace
}  // namespace ipckit
