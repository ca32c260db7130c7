// SPDX-License-Identifier: MIT
// CLI input defects (issue 16, defect 9): every input the user got wrong is exit 2, every
// failure that is not the user's input is exit 1, and what could not be read is null, not 0.
#include "cli_support.hpp"
#include "ipc_registry.hpp"

#include <fcntl.h>
#include <mqueue.h>
#include <semaphore.h>
#include <unistd.h>

#include <cstring>
#include <fstream>

#include <gtest/gtest.h>

namespace ipckit {
namespace {

using namespace std::chrono_literals;

/// A queue of `maxmsg` slots holding `queued` messages; nobody keeps it open.
std::string make_queue(long maxmsg, int queued) {
    const std::string name = test::unique_mq_name("in");
    mq_attr attr{};
    attr.mq_maxmsg = maxmsg;
    attr.mq_msgsize = 64;
    const mqd_t q = ::mq_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600, &attr);
    EXPECT_NE(q, static_cast<mqd_t>(-1)) << std::strerror(errno);
    for (int i = 0; i < queued; ++i) {
        EXPECT_EQ(::mq_send(q, "x", 1, 0), 0);
    }
    ::mq_close(q);
    return name;
}

long queued_messages(const std::string& name) {
    const mqd_t q = ::mq_open(name.c_str(), O_RDONLY | O_CLOEXEC);
    mq_attr attr{};
    if (q == static_cast<mqd_t>(-1) || ::mq_getattr(q, &attr) != 0) {
        return -1;
    }
    ::mq_close(q);
    return attr.mq_curmsgs;
}

TEST(CliInput, AnEmptyTimeoutIsAUsageErrorNotForever) {
    // Each of these would block: without the check, '' meant "no timeout" and it hung.
    test::RunOptions bounded;
    bounded.timeout = 5000ms;
    const std::string empty = make_queue(2, 0);
    const std::string full = make_queue(1, 1);
    const std::string sem = test::unique_sem_name("in");
    sem_t* s = ::sem_open(sem.c_str(), O_CREAT | O_EXCL, 0600, 0);
    ASSERT_NE(s, SEM_FAILED);
    ::sem_close(s);
    const std::vector<std::vector<std::string>> cases{
        {"recv", "--timeout", "", "mq:" + empty},
        {"send", "--timeout", "", "mq:" + full, "m"},
        {"sem", "wait", "--timeout", "", "sem:" + sem},
    };
    for (const auto& args : cases) {
        auto r = test::ipckit(args, bounded);
        EXPECT_TRUE(r.exited) << args[0] << " --timeout '' waited: " << r.describe();
        EXPECT_EQ(r.exit_code, 2) << args[0] << ": " << r.describe();
        EXPECT_NE(r.err.find("duration '': Invalid argument"), std::string::npos) << r.err;
    }
    EXPECT_EQ(queued_messages(full), 1);
}

TEST(CliInput, SendRefusesMessageArgumentsMixedWithInputOptions) {
    const std::string file = test::unique_path("msgs");
    std::ofstream(file) << "from-file\n";
    const std::string q = make_queue(4, 0);
    for (const std::vector<std::string>& extra :
         {std::vector<std::string>{"--file", file}, {"--file", "-"}, {"--whole"}, {"-0"}}) {
        std::vector<std::string> args{"send", "mq:" + q};
        args.insert(args.end(), extra.begin(), extra.end());
        args.emplace_back("from-arg");
        auto r = test::ipckit(args);
        EXPECT_EQ(r.exit_code, 2) << extra[0] << ": " << r.describe();
        EXPECT_NE(r.err.find(extra[0]), std::string::npos) << r.err;
        EXPECT_EQ(queued_messages(q), 0) << extra[0] << ": something was sent";
    }
    // Each alone still works.
    EXPECT_EQ(test::ipckit({"send", "mq:" + q, "--file", file}).exit_code, 0);
    EXPECT_EQ(test::ipckit({"send", "mq:" + q, "from-arg"}).exit_code, 0);
    EXPECT_EQ(queued_messages(q), 2);
}

TEST(CliInput, NoSubcommandPrintsUsageAndExits2) {
    auto r = test::ipckit({});
    EXPECT_EQ(r.exit_code, 2) << r.describe();
    EXPECT_TRUE(r.out.empty()) << r.out;  // usage goes to stderr, like any usage error
    for (const char* sub : {"ls", "stat", "rm", "send", "recv", "sem", "lock"}) {
        EXPECT_NE(r.err.find(sub), std::string::npos) << sub << " missing from " << r.err;
    }
    auto help = test::ipckit({"--help"});  // asked for: stdout, exit 0
    EXPECT_EQ(help.exit_code, 0) << help.describe();
    EXPECT_NE(help.out.find("send"), std::string::npos);
}

TEST(CliInput, AMissingSystemVIdIsAFailureNotAUsageError) {
    const std::string id = "2147483646";  // beyond any id the kernel hands out here
    const std::vector<std::vector<std::string>> cases{
        {"send", "sysvmq:id:" + id, "m"},
        {"recv", "--timeout", "0", "sysvmq:id:" + id},
        {"sem", "get", "sysvsem:id:" + id},
        {"sem", "post", "sysvsem:id:" + id},
    };
    for (const auto& args : cases) {
        auto r = test::ipckit(args);
        EXPECT_EQ(r.exit_code, 1) << args[0] << " " << args.back() << ": " << r.describe();
        EXPECT_NE(r.err.find(id), std::string::npos) << r.err;
    }
    // Input that is wrong whatever the kernel holds stays a usage error on an id URI.
    EXPECT_EQ(test::ipckit({"send", "sysvmq:id:" + id + "?type=-2", "m"}).exit_code, 2);
    EXPECT_EQ(test::ipckit({"send", "--type", "0", "sysvmq:id:" + id, "m"}).exit_code, 2);
}

TEST(CliInput, AQueueSizeThatCannotBeReadIsNullNotZero) {
    if (!test::is_root() || ::access("/usr/bin/setpriv", X_OK) != 0) {
        GTEST_SKIP() << "needs root and setpriv(1) to list a queue its user may not read";
    }
    ASSERT_TRUE(test::ensure_mqueue_mounted());
    const std::string name = test::unique_mq_name("nosize");
    const mqd_t q = ::mq_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0000, nullptr);
    ASSERT_NE(q, static_cast<mqd_t>(-1)) << std::strerror(errno);
    ASSERT_EQ(::mq_send(q, "hidden", 6, 0), 0);
    ::mq_close(q);

    auto ls = test::ipckit_as_nobody({"ls", "--json", "--type", "mq", "--prefix", name});
    ASSERT_EQ(ls.exit_code, 0) << ls.describe();
    auto j = nlohmann::json::parse(ls.out, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << ls.out;
    ASSERT_EQ(j["objects"].size(), 1U) << ls.out;
    EXPECT_TRUE(j["objects"][0]["size"].is_null()) << j["objects"][0].dump();
    EXPECT_TRUE(j["objects"][0]["messages"].is_null()) << j["objects"][0].dump();
    EXPECT_FALSE(j["objects"][0]["stale"]);  // it may hold messages nobody can see

    auto st = test::ipckit_as_nobody({"stat", "--json", "mq:" + name});
    ASSERT_EQ(st.exit_code, 0) << st.describe();
    auto sj = nlohmann::json::parse(st.out, nullptr, false);
    ASSERT_FALSE(sj.is_discarded()) << st.out;
    EXPECT_TRUE(sj["size"].is_null()) << st.out;

    // Root reads it: the bytes queued, never null.
    auto root = test::ls_json({"--type", "mq", "--prefix", name});
    ASSERT_EQ(root.size(), 1U);
    EXPECT_GE(root[0]["size"].get<std::uint64_t>(), 6U) << root[0].dump();
}

}  // namespace
}  // namespace ipckit
