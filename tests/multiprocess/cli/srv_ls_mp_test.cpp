// SPDX-License-Identifier: MIT
// `ipckit ls/stat/rm` of services (srv:NAME: one row for the record and its channels, the server
// and each client lane) and of a channel's work-queue groups, through the real binary. A forged
// or truncated record is a note on that row, never a crash.
#include "cli_support.hpp"
#include "ipc_registry.hpp"
#include "ipckit/channel/channel.hpp"
#include "ipckit/channel/group_consumer.hpp"
#include "ipckit/service/client.hpp"
#include "ipckit/service/server.hpp"
#include "ipckit/service/service.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

namespace ipckit {
namespace {

using namespace std::chrono_literals;

class SrvCli : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = test::unique_path("srvdir");
        ASSERT_EQ(::mkdir(dir_.c_str(), 0700), 0);
        name_ = "svc";
    }
    void TearDown() override {
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }
    /// `ipckit ARGS` with this test's directory as the channel directory.
    [[nodiscard]] test::RunResult run(std::vector<std::string> args) const {
        test::RunOptions o;
        o.env = {"IPCKIT_SHM_DIR=" + dir_};
        return test::ipckit(std::move(args), o);
    }
    /// The objects of `ipckit ls --json -t TYPES` that are this test's: ls also lists /dev/shm,
    /// where tests running at the same time (ctest -j) may have channels of their own.
    [[nodiscard]] nlohmann::json ls_objects(const std::string& types) const {
        const test::RunResult r = run({"ls", "--json", "-t", types});
        EXPECT_TRUE(r.exited && r.exit_code == 0) << r.describe();
        auto j = nlohmann::json::parse(r.out, nullptr, false);
        EXPECT_TRUE(j.is_object()) << r.out;
        nlohmann::json mine = nlohmann::json::array();
        if (j.is_object()) {
            for (const auto& o : j["objects"]) {
                const auto path = o.value("path", nlohmann::json());
                if (!path.is_string() || path.get<std::string>().rfind(dir_ + "/", 0) == 0) {
                    mine.push_back(o);
                }
            }
        }
        return mine;
    }
    [[nodiscard]] ServiceConfig config() const {
        ServiceConfig c;
        c.max_request_size = 256;
        c.max_response_size = 512;
        c.max_clients = 4;
        c.options.dir = dir_;
        return c;
    }
    [[nodiscard]] ClientOptions client_options() const {
        ClientOptions o;
        o.options.dir = dir_;
        return o;
    }
    [[nodiscard]] bool exists(const std::string& file) const {
        struct stat st {};
        return ::lstat((dir_ + "/" + file).c_str(), &st) == 0;
    }
    /// Writes `bytes` as the record file NAME.srv (mode 0600, like a server's).
    void write_record(const void* bytes, std::size_t n) const {
        const int fd =
            ::open((dir_ + "/" + name_ + ".srv").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        ASSERT_GE(fd, 0);
        ASSERT_EQ(::write(fd, bytes, n), static_cast<ssize_t>(n));
        ::close(fd);
    }
    std::string dir_;
    std::string name_;
};

TEST_F(SrvCli, LsShowsOneServiceRowWithServerClientsAndInFlight) {
    auto server = Server::create(name_, config());
    ASSERT_TRUE(server) << server.error().message();
    auto client = Client::connect(name_, client_options());
    ASSERT_TRUE(client) << client.error().message();
    const std::string req = "ping";
    ASSERT_TRUE(
        client->send(std::as_bytes(std::span(req.data(), req.size())), Deadline::after(1s)));

    const nlohmann::json objects = ls_objects("srv,chan");
    ASSERT_EQ(objects.size(), 1U) << objects.dump(2);  // not three channel rows
    const auto& o = objects[0];
    EXPECT_EQ(o["type"], "srv");
    EXPECT_EQ(o["uri"], "srv:" + name_);
    EXPECT_EQ(o["state"], "in-use");
    const auto& s = o["service"];
    EXPECT_EQ(s["server_pid"], ::getpid());
    EXPECT_EQ(s["server_alive"], true);
    EXPECT_EQ(s["generation"], 1);
    EXPECT_EQ(s["max_request"], 256);
    EXPECT_EQ(s["max_response"], 512);
    EXPECT_EQ(s["max_clients"], 4);
    EXPECT_EQ(s["in_flight"], 1);
    ASSERT_EQ(s["clients"].size(), 1U) << s.dump(2);
    EXPECT_EQ(s["clients"][0]["pid"], ::getpid());
    EXPECT_EQ(s["clients"][0]["alive"], true);
    EXPECT_EQ(s["clients"][0]["requests"], 1);
    EXPECT_EQ(s["clients"][0]["in_flight"], 1);
    EXPECT_EQ(s["files"].size(), 3U) << s.dump(2);  // record, requests, the lane's responses

    const test::RunResult table = run({"ls", "-t", "srv", "-o", "TYPE,NAME,COUNT", "--raw"});
    EXPECT_NE(table.out.find("srv svc server=" + std::to_string(::getpid()) +
                             "\\x20clients=1\\x20inflight=1"),
              std::string::npos)
        << table.describe();

    // Answered: nothing in flight any more.
    auto in = server->receive(Deadline::after(1s));
    ASSERT_TRUE(in && *in) << (in ? "timed out" : in.error().message());
    ASSERT_TRUE(server->respond(**in, std::as_bytes(std::span(req.data(), req.size())), true));
    const test::RunResult st = run({"stat", "srv:" + name_});
    ASSERT_EQ(st.exit_code, 0) << st.describe();
    EXPECT_NE(st.out.find("pid " + std::to_string(::getpid()) + " alive generation 1"),
              std::string::npos)
        << st.out;
    EXPECT_NE(st.out.find("request 256 bytes, response 512 bytes, max 4 clients"),
              std::string::npos)
        << st.out;
    EXPECT_NE(st.out.find("lane 0 pid " + std::to_string(::getpid()) + " alive requests 1"),
              std::string::npos)
        << st.out;
    const auto j =
        nlohmann::json::parse(run({"stat", "--json", "srv:" + name_}).out, nullptr, false);
    ASSERT_TRUE(j.is_object());
    EXPECT_EQ(j["service"]["received"], 1);
    // Only -t chan still lists the service's channels as channels (stat chan:... works too).
    EXPECT_EQ(ls_objects("chan").size(), 2U);
    EXPECT_EQ(run({"stat", "chan:" + name_ + ".srv-req"}).exit_code, 0);
}

TEST_F(SrvCli, RmRefusesALiveServerUnlessForcedAndRemovesEveryFile) {
    {
        auto server = Server::create(name_, config());
        ASSERT_TRUE(server) << server.error().message();
        auto client = Client::connect(name_, client_options());
        ASSERT_TRUE(client) << client.error().message();
        const test::RunResult refused = run({"rm", "srv:" + name_});
        EXPECT_EQ(refused.exit_code, 4) << refused.describe();
        EXPECT_NE(refused.err.find("its server, pid " + std::to_string(::getpid()) + ", is alive"),
                  std::string::npos)
            << refused.err;
        EXPECT_TRUE(exists(name_ + ".srv"));
        EXPECT_TRUE(exists(name_ + ".srv-req.chan"));
    }
    // The server and client are gone: the record stays, dead, and the service is stale.
    const nlohmann::json objects = ls_objects("srv");
    ASSERT_EQ(objects.size(), 1U);
    EXPECT_EQ(objects[0]["state"], "stale");
    EXPECT_EQ(objects[0]["service"]["server_alive"], false);
    EXPECT_EQ(
        run({"ls", "--stale", "--json", "-t", "srv"}).out.find("\"srv:svc\"") != std::string::npos,
        true);
    const test::RunResult removed = run({"rm", "-v", "srv:" + name_});
    EXPECT_EQ(removed.exit_code, 0) << removed.describe();
    EXPECT_FALSE(exists(name_ + ".srv"));
    EXPECT_FALSE(exists(name_ + ".srv-req.chan"));
    EXPECT_FALSE(exists(name_ + ".srv-rsp0.chan"));
    EXPECT_EQ(run({"rm", "srv:" + name_}).exit_code, 1);  // no such object
    EXPECT_EQ(run({"rm", "--force", "srv:" + name_}).exit_code, 0);
    EXPECT_EQ(run({"stat", "srv:" + name_}).exit_code, 1);
    EXPECT_EQ(run({"rm", "srv:../etc"}).exit_code, 2);
}

TEST_F(SrvCli, ForcedRmOfALiveService) {
    auto server = Server::create(name_, config());
    ASSERT_TRUE(server) << server.error().message();
    const test::RunResult r = run({"rm", "--force", "srv:" + name_});
    EXPECT_EQ(r.exit_code, 0) << r.describe();
    EXPECT_FALSE(exists(name_ + ".srv"));
    EXPECT_FALSE(exists(name_ + ".srv-req.chan"));
}

TEST_F(SrvCli, ForgedOrTruncatedRecordIsANoteNeverACrash) {
    struct Forged {  // the record's layout: magic, generation, sizes, pid, clients
        std::uint64_t magic, generation, max_request, max_response;
        std::int32_t pid;
        std::uint32_t max_clients;
    };
    const std::uint64_t magic = 0x3176727374696b70ULL;
    const Forged cases[] = {
        {magic, 1, 64, 64, ::getpid(), 1U << 30},           // absurd client count
        {magic, 1, ~0ULL, 64, ::getpid(), 4},               // absurd request size
        {magic, 1, 64, 64, -7, 4},                          // negative pid
        {0x4141414141414141ULL, 1, 64, 64, ::getpid(), 4},  // foreign magic
    };
    auto check = [&](const std::string& what) {
        const nlohmann::json objects = ls_objects("srv");
        ASSERT_EQ(objects.size(), 1U) << what;
        EXPECT_EQ(objects[0]["service"]["record_valid"], false) << what;
        EXPECT_EQ(objects[0]["service"]["server_pid"], nullptr) << what;
        ASSERT_FALSE(objects[0]["notes"].empty()) << what;
        EXPECT_NE(objects[0]["notes"][0].get<std::string>().find("no valid server record"),
                  std::string::npos)
            << what << ": " << objects[0]["notes"].dump();
        const test::RunResult st = run({"stat", "srv:" + name_});
        EXPECT_EQ(st.exit_code, 0) << what << st.describe();
        EXPECT_NE(st.out.find("no valid record"), std::string::npos) << what << st.out;
        EXPECT_EQ(run({"ls", "-t", "srv"}).exit_code, 0) << what;
    };
    for (const Forged& f : cases) {
        write_record(&f, sizeof f);
        check("forged magic " + std::to_string(f.magic) + " pid " + std::to_string(f.pid));
    }
    const Forged good{magic, 1, 64, 64, ::getpid(), 4};
    write_record(&good, 13);  // truncated
    check("truncated");
    write_record(&good, 0);  // empty
    check("empty");
    // A forged request channel name beside it (garbage in NAME.srv-req.chan) is a note too.
    const int fd = ::open((dir_ + "/" + name_ + ".srv-req.chan").c_str(), O_WRONLY | O_CREAT, 0600);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::write(fd, "garbage", 7), 7);
    ::close(fd);
    const nlohmann::json objects = ls_objects("srv");
    ASSERT_EQ(objects.size(), 1U);
    EXPECT_GE(objects[0]["notes"].size(), 2U) << objects[0]["notes"].dump();
    // Nobody uses it: removable.
    const test::RunResult rm = run({"rm", "srv:" + name_});
    EXPECT_EQ(rm.exit_code, 0) << rm.describe();
    EXPECT_FALSE(exists(name_ + ".srv"));
    EXPECT_FALSE(exists(name_ + ".srv-req.chan"));
}

TEST_F(SrvCli, LsShowsAChannelsGroups) {
    ChannelConfig c;
    c.lane_bytes = 4096;
    c.max_message_size = 256;
    c.options.dir = dir_;
    ASSERT_TRUE(Channel::create("jobs", c));
    GroupOptions go;
    go.channel.dir = dir_;
    auto consumer = GroupConsumer::open("jobs", "workers", go);
    ASSERT_TRUE(consumer) << consumer.error().message();
    const test::RunResult r = run({"ls", "-t", "chan", "-o", "NAME,COUNT,GROUPS", "--raw"});
    EXPECT_EQ(r.exit_code, 0) << r.describe();
    EXPECT_NE(r.out.find("jobs pub=0\\x20sub=0\\x20groups=1 "
                         "workers(1\\x20consumers,\\x200\\x20in\\x20flight)"),
              std::string::npos)
        << r.out;
    const nlohmann::json objects = ls_objects("chan");
    ASSERT_EQ(objects.size(), 1U);
    ASSERT_EQ(objects[0]["channel"]["groups"].size(), 1U);
    EXPECT_EQ(objects[0]["channel"]["groups"][0]["name"], "workers");
    EXPECT_EQ(objects[0]["channel"]["groups"][0]["consumers"], 1);
}

}  // namespace
}  // namespace ipckit
