// SPDX-License-Identifier: MIT
// chan: through the real binary (issue 9): recv (a subscriber) in the background, send (a
// publisher) in another process; ls/stat show the participants; rm refuses an in-use channel.
// Every channel lives in a private 0700 directory passed as ?dir= (or IPCKIT_SHM_DIR for ls).
#include "background.hpp"
#include "cli_support.hpp"
#include "ipc_registry.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <thread>

#include <gtest/gtest.h>

namespace ipckit {
namespace {

class ChanCli : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = test::unique_path("chandir");
        ASSERT_EQ(::mkdir(dir_.c_str(), 0700), 0);
    }
    void TearDown() override {
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);  // every channel file goes with it
    }
    /// chan:NAME?dir=DIR plus extra options ("&create").
    [[nodiscard]] std::string uri(const std::string& extra = "") const {
        return "chan:c1?dir=" + dir_ + extra;
    }
    [[nodiscard]] std::string file() const { return dir_ + "/c1.chan"; }
    [[nodiscard]] test::RunOptions env() const {
        test::RunOptions o;
        o.env = {"IPCKIT_SHM_DIR=" + dir_};
        return o;
    }
    std::string dir_;
};

TEST_F(ChanCli, RecvThenSendDeliversSeveralMessagesInOrder) {
    test::Background rx({"recv", "-n", "3", "--timeout", "10s", uri("&create")});
    ASSERT_TRUE(rx.wait_blocked());  // the subscriber has joined: it starts at the head
    test::RunResult tx = test::ipckit({"send", uri(), "one", "two", "three"});
    EXPECT_TRUE(tx.exited && tx.exit_code == 0) << tx.describe();
    test::RunResult r = rx.wait();
    EXPECT_TRUE(r.exited && r.exit_code == 0) << r.describe();
    EXPECT_EQ(r.out, "one\ntwo\nthree\n");
    EXPECT_TRUE(test::ipckit({"rm", uri()}).exit_code == 0);
    EXPECT_FALSE(std::filesystem::exists(file()));
}

TEST_F(ChanCli, ZeroLengthAndBinaryMessagesWithHex) {
    test::Background rx({"recv", "--hex", "-n", "3", "--timeout", "10s", uri("&create")});
    ASSERT_TRUE(rx.wait_blocked());
    test::RunOptions in;
    in.input = std::string("\x01\xff", 2) + std::string(1, '\0') + std::string(1, '\0') + "\n";
    test::RunResult tx = test::ipckit({"send", "-0", uri()}, in);  // "\x01\xff", "", "\n"
    EXPECT_TRUE(tx.exited && tx.exit_code == 0) << tx.describe();
    test::RunResult r = rx.wait();
    EXPECT_TRUE(r.exited && r.exit_code == 0) << r.describe();
    EXPECT_EQ(r.out, "01ff\n\n0a\n");
    EXPECT_TRUE(test::ipckit({"rm", uri()}).exit_code == 0);
}

TEST_F(ChanCli, JsonShowsSizeAndText) {
    test::Background rx({"recv", "--json", "-n", "2", "--timeout", "10s", uri("&create")});
    ASSERT_TRUE(rx.wait_blocked());
    test::RunResult tx = test::ipckit({"send", uri(), "", "hello"});
    EXPECT_TRUE(tx.exited && tx.exit_code == 0) << tx.describe();
    test::RunResult r = rx.wait();
    ASSERT_TRUE(r.exited && r.exit_code == 0) << r.describe();
    const auto nl = r.out.find('\n');
    ASSERT_NE(nl, std::string::npos) << r.out;
    const auto first = nlohmann::json::parse(r.out.substr(0, nl), nullptr, false);
    const auto second = nlohmann::json::parse(r.out.substr(nl + 1), nullptr, false);
    EXPECT_EQ(first["size"], 0) << r.out;
    EXPECT_EQ(first["text"], "") << r.out;
    EXPECT_EQ(second["size"], 5) << r.out;
    EXPECT_EQ(second["text"], "hello") << r.out;
    EXPECT_FALSE(second.contains("lost")) << r.out;  // nothing lost on a block-policy channel
    EXPECT_TRUE(test::ipckit({"rm", uri()}).exit_code == 0);
}

TEST_F(ChanCli, SendWithoutChannelFailsAndCreateMakesIt) {
    test::RunResult tx = test::ipckit({"send", uri(), "x"});
    EXPECT_TRUE(tx.exited && tx.exit_code != 0) << tx.describe();
    EXPECT_NE(tx.err.find("c1"), std::string::npos) << tx.err;
    // Nobody subscribes: the message goes nowhere, but the channel now exists.
    tx = test::ipckit({"send", "--create", uri("&policy=overwrite&msgsize=100"), "x"});
    EXPECT_TRUE(tx.exited && tx.exit_code == 0) << tx.describe();
    test::RunResult st = test::ipckit({"stat", "--json", uri()});
    ASSERT_TRUE(st.exited && st.exit_code == 0) << st.describe();
    const auto j = nlohmann::json::parse(st.out, nullptr, false);
    ASSERT_TRUE(j.contains("channel")) << st.out;
    EXPECT_EQ(j["channel"]["policy"], "overwrite");
    EXPECT_EQ(j["channel"]["max_message"], 100);
    EXPECT_EQ(j["state"], "stale");  // nobody uses it (its publisher has exited)
    EXPECT_TRUE(test::ipckit({"rm", uri()}).exit_code == 0);
    EXPECT_FALSE(std::filesystem::exists(file()));
}

TEST_F(ChanCli, OverwriteReportsALappedSubscribersLoss) {
    const std::string u = uri("&create&policy=overwrite&capacity=4096&msgsize=64");
    test::Background rx({"recv", "--json", "-n", "2", "--timeout", "10s", u});
    ASSERT_TRUE(rx.wait_blocked());
    ASSERT_EQ(test::ipckit({"send", u, "first"}).exit_code, 0);
    // Wait until it has taken "first" (a lapped subscriber's loss is counted from the sequence
    // number of the last message it saw) and sleeps again.
    bool got_first = false;
    for (int i = 0; i < 1000 && !got_first; ++i) {
        const auto j = nlohmann::json::parse(test::ipckit({"stat", "--json", uri()}).out, nullptr,
                                             false);
        got_first = !j.is_discarded() && j.contains("channel") &&
                    j["channel"]["subscribers"].size() == 1 &&
                    j["channel"]["subscribers"][0]["messages"] == 1;
        if (!got_first) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
    }
    ASSERT_TRUE(got_first);
    ASSERT_TRUE(rx.wait_blocked());
    ASSERT_EQ(::kill(rx.pid(), SIGSTOP), 0);  // a subscriber too slow to keep up
    std::string lines;
    for (int i = 0; i < 200; ++i) {
        lines += "message-" + std::to_string(i) + "-" + std::string(40, 'x') + "\n";
    }
    test::RunOptions in;
    in.input = lines;
    test::RunResult tx = test::ipckit({"send", u}, in);  // overwrite never waits
    EXPECT_TRUE(tx.exited && tx.exit_code == 0) << tx.describe();
    ASSERT_EQ(::kill(rx.pid(), SIGCONT), 0);
    // A lapped subscriber resumes at the oldest message still intact (issue 16: it used to jump
    // to the head and skip intact ones), and the messages before it are counted exactly.
    test::RunResult r = rx.wait();
    ASSERT_TRUE(r.exited && r.exit_code == 0) << r.describe();
    const auto nl = r.out.find('\n');
    ASSERT_NE(nl, std::string::npos) << r.out;
    const auto j = nlohmann::json::parse(r.out.substr(nl + 1), nullptr, false);
    ASSERT_TRUE(j.contains("lost")) << r.out;
    EXPECT_GT(j["lost"].get<long>(), 0) << r.out;
    EXPECT_EQ(j["text"], "message-" + std::to_string(j["lost"].get<long>()) + "-" +
                             std::string(40, 'x'))
        << "resumes at the oldest intact message, every one before it counted: " << r.out;
    EXPECT_NE(r.err.find("lost before this one"), std::string::npos) << r.err;
    EXPECT_TRUE(test::ipckit({"rm", uri()}).exit_code == 0);
}

TEST_F(ChanCli, LsStatShowParticipantsAndRmRefusesInUse) {
    test::Background rx({"recv", "--follow", uri("&create")});
    ASSERT_TRUE(rx.wait_blocked());

    const auto objects = [&] {
        test::RunResult r = test::ipckit({"ls", "--json", "--type", "chan", "--prefix", "c1"}, env());
        EXPECT_TRUE(r.exited && r.exit_code == 0) << r.describe();
        const auto j = nlohmann::json::parse(r.out, nullptr, false);
        return j.is_discarded() ? nlohmann::json::array() : j["objects"];
    };
    auto o = test::find_object(objects(), "name", "c1");
    ASSERT_FALSE(o.is_null());
    ASSERT_TRUE(o.contains("channel")) << o.dump();
    ASSERT_EQ(o["channel"]["subscribers"].size(), 1U) << o.dump();
    EXPECT_EQ(o["channel"]["subscribers"][0]["pid"], rx.pid());
    EXPECT_EQ(o["channel"]["subscribers"][0]["alive"], true);
    EXPECT_EQ(o["state"], "in-use");

    test::RunResult table = test::ipckit({"ls", "--type", "chan", "--prefix", "c1"}, env());
    EXPECT_NE(table.out.find("pub=0 sub=1"), std::string::npos) << table.out;

    test::RunResult st = test::ipckit({"stat", uri()});
    ASSERT_TRUE(st.exited && st.exit_code == 0) << st.describe();
    EXPECT_NE(st.out.find("subscriber:"), std::string::npos) << st.out;
    EXPECT_NE(st.out.find("pid " + std::to_string(rx.pid()) + " alive"), std::string::npos)
        << st.out;

    test::RunResult rm = test::ipckit({"rm", uri()});
    EXPECT_TRUE(rm.exited && rm.exit_code != 0) << rm.describe();
    EXPECT_NE(rm.err.find("in use"), std::string::npos) << rm.err;
    EXPECT_TRUE(std::filesystem::exists(file()));

    // The subscriber dies: its record stays, dead, and the channel is stale.
    ASSERT_EQ(::kill(rx.pid(), SIGKILL), 0);
    (void)rx.wait();
    o = test::find_object(objects(), "name", "c1");
    ASSERT_FALSE(o.is_null());
    EXPECT_EQ(o["stale"], true) << o.dump();
    EXPECT_EQ(o["state"], "stale") << o.dump();

    rm = test::ipckit({"rm", uri()});
    EXPECT_TRUE(rm.exited && rm.exit_code == 0) << rm.describe();
    EXPECT_FALSE(std::filesystem::exists(file()));
}

}  // namespace
}  // namespace ipckit
