// SPDX-License-Identifier: MIT
// Two "hosts": two network namespaces joined by a veth pair, a nats-server in each, routed into
// one cluster; a channel in namespace A bridged to NATS, a channel in namespace B bridged from
// it: 100 000 messages arrive in order (issue 19). Root only (namespaces), else skipped with the
// reason. Only the test's own namespaces are contacted.
#include "../cli/cli_support.hpp"
#include "ipc_registry.hpp"
#include "ipckit/channel/publisher.hpp"
#include "ipckit/channel/subscriber.hpp"
#include "nats_server.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace ipckit::test {
namespace {

using namespace std::chrono_literals;

std::string read_all(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

/// A process started with argv, output to `log`, killed with the test (PR_SET_PDEATHSIG) and
/// stopped by PID on destruction (SIGTERM, SIGKILL after 5 s).
class Spawned {
public:
    Spawned(std::vector<std::string> args, std::string log) : log_(std::move(log)) {
        std::vector<char*> argv;
        for (auto& a : args) {
            argv.push_back(a.data());
        }
        argv.push_back(nullptr);
        const pid_t parent = ::getpid();
        pid_ = ::fork();
        if (pid_ == 0) {
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (::getppid() != parent) {
                ::_exit(127);
            }
            const int fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
            ::dup2(fd, 1);
            ::dup2(fd, 2);
            ::execv(argv[0], argv.data());
            ::_exit(127);
        }
    }
    Spawned(const Spawned&) = delete;
    Spawned& operator=(const Spawned&) = delete;
    ~Spawned() { stop(); }
    /// Stops it; its exit status (-1 when killed by a signal).
    int stop() {
        if (pid_ <= 0) {
            return status_;
        }
        ::kill(pid_, SIGTERM);
        int st = 0;
        for (int i = 0; i < 500; ++i) {
            if (::waitpid(pid_, &st, WNOHANG) == pid_) {
                pid_ = -1;
                status_ = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
                return status_;
            }
            std::this_thread::sleep_for(10ms);
        }
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
        pid_ = -1;
        return status_;
    }
    [[nodiscard]] std::string log() const { return read_all(log_); }

private:
    std::string log_;
    pid_t pid_ = -1;
    int status_ = -1;
};

/// Runs a command (argv) to completion; true on exit 0.
bool sh(const std::vector<std::string>& args, std::string* err = nullptr) {
    const RunResult r = run_program(args);
    if (err != nullptr) {
        *err = r.err;
    }
    return r.exited && r.exit_code == 0;
}

/// Two namespaces A and B joined by a veth pair (10.231.N.1 in A, 10.231.N.2 in B), removed on
/// destruction (deleting a namespace deletes its end of the veth, and so the pair).
class TwoHosts {
public:
    TwoHosts() {
        const std::string tag = std::to_string(::getpid() % 100000);
        a_ = "ipckit-test-" + tag + "-a";
        b_ = "ipckit-test-" + tag + "-b";
        const std::string subnet = "10.231." + std::to_string(::getpid() % 250) + ".";
        addr_a_ = subnet + "1";
        addr_b_ = subnet + "2";
        const std::string va = "ipkA" + tag;
        const std::string vb = "ipkB" + tag;
        const std::string ip = "/usr/sbin/ip";
        const std::vector<std::vector<std::string>> steps = {
            {ip, "netns", "add", a_},
            {ip, "netns", "add", b_},
            {ip, "link", "add", va, "type", "veth", "peer", "name", vb},
            {ip, "link", "set", va, "netns", a_},
            {ip, "link", "set", vb, "netns", b_},
            {ip, "-n", a_, "addr", "add", addr_a_ + "/24", "dev", va},
            {ip, "-n", b_, "addr", "add", addr_b_ + "/24", "dev", vb},
            {ip, "-n", a_, "link", "set", "lo", "up"},
            {ip, "-n", b_, "link", "set", "lo", "up"},
            {ip, "-n", a_, "link", "set", va, "up"},
            {ip, "-n", b_, "link", "set", vb, "up"},
        };
        for (const auto& s : steps) {
            std::string err;
            if (!sh(s, &err)) {
                error_ = s[1] + " " + s[2] + " " + s[3] + ": " + err;
                return;
            }
        }
    }
    TwoHosts(const TwoHosts&) = delete;
    TwoHosts& operator=(const TwoHosts&) = delete;
    ~TwoHosts() {
        for (const auto& ns : {a_, b_}) {
            sh({"/usr/sbin/ip", "netns", "del", ns});
        }
    }
    [[nodiscard]] const std::string& error() const { return error_; }
    /// argv that runs `args` inside namespace `ns`.
    static std::vector<std::string> in(const std::string& ns, std::vector<std::string> args) {
        args.insert(args.begin(), {"/usr/sbin/ip", "netns", "exec", ns});
        return args;
    }
    const std::string& a() const { return a_; }
    const std::string& b() const { return b_; }
    const std::string& addr_a() const { return addr_a_; }
    const std::string& addr_b() const { return addr_b_; }

private:
    std::string a_, b_, addr_a_, addr_b_, error_;
};

TEST(BridgeTwoHosts, ChannelInABridgedThroughAClusterOfTwoToAChannelInB) {
    if (::geteuid() != 0) {
        GTEST_SKIP() << "needs root: it creates two network namespaces and a veth pair";
    }
    if (::access("/usr/sbin/ip", X_OK) != 0) {
        GTEST_SKIP() << "needs /usr/sbin/ip (Debian package iproute2)";
    }
    const std::string server = NatsServer::binary();
    ASSERT_FALSE(server.empty()) << "install the Debian package nats-server";
    TwoHosts hosts;
    if (!hosts.error().empty()) {
        GTEST_SKIP() << "cannot build the two namespaces here: " << hosts.error();
    }
    const std::string dir = unique_path("twohosts");
    ASSERT_EQ(::mkdir(dir.c_str(), 0700), 0);
    ChannelConfig cfg;
    cfg.options.dir = dir;
    cfg.max_message_size = 64;
    cfg.lane_bytes = std::size_t{1} << 20;
    auto source = Publisher::create("a", cfg);
    auto sink = Subscriber::create("b", cfg);
    ASSERT_TRUE(source && sink);

    // One server per namespace, routed to each other into one cluster.
    auto nats = [&](const std::string& ns, const std::string& self, const std::string& peer) {
        return std::make_unique<Spawned>(TwoHosts::in(ns,
                                                      {server,
                                                       "-a",
                                                       self,
                                                       "-p",
                                                       "4222",
                                                       "--cluster_name",
                                                       "ipckit-test",
                                                       "--cluster",
                                                       "nats://" + self + ":6222",
                                                       "--routes",
                                                       "nats://" + peer + ":6222"}),
                                         dir + "/" + ns + ".log");
    };
    auto server_a = nats(hosts.a(), hosts.addr_a(), hosts.addr_b());
    auto server_b = nats(hosts.b(), hosts.addr_b(), hosts.addr_a());
    // The bridges retry until their server answers.
    Spawned bridge_b(TwoHosts::in(hosts.b(),
                                  {ipckit_path(),
                                   "bridge",
                                   "--stats",
                                   "--no-status",
                                   "--max-retries",
                                   "100",
                                   "nats://" + hosts.addr_b() + ":4222/ticks",
                                   "chan:b?dir=" + dir}),
                     dir + "/bridge_b.log");
    Spawned bridge_a(TwoHosts::in(hosts.a(),
                                  {ipckit_path(),
                                   "bridge",
                                   "--stats",
                                   "--no-status",
                                   "--max-retries",
                                   "100",
                                   "chan:a?dir=" + dir,
                                   "nats://" + hosts.addr_a() + ":4222/ticks"}),
                     dir + "/bridge_a.log");

    // Probes until one crosses: both bridges up, the route carries B's subscription to A.
    std::vector<std::byte> buf;
    bool through = false;
    const auto probe_deadline = std::chrono::steady_clock::now() + 20s;
    while (!through && std::chrono::steady_clock::now() < probe_deadline) {
        const std::string probe = "probe";
        ASSERT_TRUE(source->send(std::as_bytes(std::span(probe.data(), probe.size()))));
        auto r = sink->receive_until(buf, Deadline::after(100ms));
        ASSERT_TRUE(r) << r.error().message();
        through = r->has_value();
    }
    ASSERT_TRUE(through) << "nothing crossed in 20 s\nserver A:\n"
                         << server_a->log() << "\nserver B:\n"
                         << server_b->log() << "\nbridge A:\n"
                         << bridge_a.log() << "\nbridge B:\n"
                         << bridge_b.log();
    // Late probes still on their way are skipped below.
    constexpr std::uint64_t kCount = 100'000;
    std::thread writer([&] {
        for (std::uint64_t i = 0; i < kCount; ++i) {
            const std::string m = std::to_string(i);
            if (!source->send(std::as_bytes(std::span(m.data(), m.size())))) {
                return;
            }
        }
    });
    std::uint64_t next = 0;
    while (next < kCount) {
        auto r = sink->receive_until(buf, Deadline::after(10s));
        ASSERT_TRUE(r) << r.error().message();
        if (!*r) {
            break;
        }
        const std::string m(reinterpret_cast<const char*>(buf.data()), (*r)->size);
        if (m == "probe") {
            continue;
        }
        ASSERT_EQ(m, std::to_string(next)) << "out of order or lost";
        ++next;
    }
    writer.join();
    EXPECT_EQ(next, kCount) << "bridge A:\n" << bridge_a.log() << "\nbridge B:\n" << bridge_b.log();
    EXPECT_EQ(bridge_a.stop(), 0);
    EXPECT_EQ(bridge_b.stop(), 0);
    EXPECT_NE(bridge_b.log().find("dropped 0, gaps 0"), std::string::npos) << bridge_b.log();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
}

}  // namespace
}  // namespace ipckit::test
