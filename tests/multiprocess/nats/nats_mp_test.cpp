// SPDX-License-Identifier: MIT
// nats:// endpoints through a real nats-server on loopback (test::NatsServer): the CLI's send and
// recv, the library endpoint in order, wildcard receive, and the errors (docs/design/bridge.md).
#include "bytes.hpp"
#include "../cli/background.hpp"
#include "../cli/cli_support.hpp"
#include "ipckit/endpoint/endpoint.hpp"
#include "nats_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace ipckit::test {
namespace {

using namespace std::chrono_literals;

using test::as_bytes;

std::string text(const std::vector<std::byte>& b) {
    return {reinterpret_cast<const char*>(b.data()), b.size()};
}

Result<Endpoint> open(const std::string& url, EndpointRole role) {
    IPCKIT_TRY_ASSIGN(const Uri uri, Uri::parse(url));
    EndpointOptions o;
    o.deadline = Deadline::after(5s);
    return Endpoint::open(uri, role, o);
}

/// Opens `url` into `var` (an Endpoint), failing the test with the error otherwise.
#define OPEN_OR_FAIL(var, url, role)                             \
    auto var##_opened = open(url, role);                         \
    ASSERT_TRUE(var##_opened) << var##_opened.error().message(); \
    Endpoint& var = *var##_opened

/// A loopback port nothing listens on: bound, then closed.
std::uint16_t unused_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(fd);
    return ntohs(a.sin_port);
}

TEST(NatsCli, SendIsReceivedByRecv) {
    NatsServer server;
    const std::string url = server.url("x");
    Background rx({"recv", url, "--count", "1", "--timeout", "10s"});
    ASSERT_TRUE(server.wait_for_subscription("x", 10s)) << "recv never subscribed";
    const RunResult tx = ipckit({"send", url, "hello", "--timeout", "5s"});
    ASSERT_EQ(tx.exit_code, 0) << tx.describe();
    const RunResult r = rx.wait();
    ASSERT_EQ(r.exit_code, 0) << r.describe();
    EXPECT_EQ(r.out, "hello\n");
}

TEST(NatsCli, RecvJsonShowsTheSubjectAndTheSenderPid) {
    NatsServer server;
    Background rx({"recv", server.url("jobs.*"), "--json", "--count", "1", "--timeout", "10s"});
    ASSERT_TRUE(server.wait_for_subscription("jobs.*", 10s)) << "recv never subscribed";
    OPEN_OR_FAIL(tx, server.url("jobs.eu"), EndpointRole::Sender);
    ASSERT_TRUE(tx.send(as_bytes("hi")));
    const RunResult r = rx.wait();
    ASSERT_EQ(r.exit_code, 0) << r.describe();
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j.value("text", ""), "hi") << r.out;
    EXPECT_EQ(j.value("subject", ""), "jobs.eu") << r.out;
    EXPECT_EQ(j.value("pid", 0), ::getpid()) << r.out;
}

TEST(NatsEndpoint, ThousandMessagesArriveInOrderWithTheSenderPid) {
    NatsServer server;
    OPEN_OR_FAIL(rx, server.url("orders.eu"), EndpointRole::Receiver);
    OPEN_OR_FAIL(tx, server.url("orders.eu"), EndpointRole::Sender);
    // max_payload counts the Ipckit header block ("NATS/1.0\r\nIpckit: p=PID\r\n\r\n").
    EXPECT_EQ(tx.max_message_size(), server.max_payload() - 24 - std::to_string(::getpid()).size());
    constexpr int kCount = 1000;
    for (int i = 0; i < kCount; ++i) {
        SendOptions so;
        so.deadline = Deadline::after(5s);
        ASSERT_TRUE(tx.send(as_bytes("m" + std::to_string(i)), so)) << i;
    }
    for (int i = 0; i < kCount; ++i) {
        auto m = rx.receive(Deadline::after(5s));
        ASSERT_TRUE(m) << m.error().message();
        ASSERT_TRUE(m->has_value()) << "message " << i << " did not arrive within 5 s";
        ASSERT_EQ(text((*m)->data), "m" + std::to_string(i));
        EXPECT_EQ((*m)->subject, "orders.eu");
        EXPECT_EQ((*m)->sender_pid, ::getpid());
    }
    auto none = rx.receive(Deadline::after(50ms));
    ASSERT_TRUE(none);
    EXPECT_FALSE(none->has_value()) << "an extra message arrived";
}

TEST(NatsEndpoint, WildcardReceiveGetsEveryMatchingSubject) {
    NatsServer server;
    OPEN_OR_FAIL(all, server.url("ticks.>"), EndpointRole::Receiver);
    OPEN_OR_FAIL(one, server.url("ticks.*.usd"), EndpointRole::Receiver);
    for (const std::string s : {"ticks.eu.usd", "ticks.us", "other.eu.usd", "ticks.eu.chf"}) {
        OPEN_OR_FAIL(tx, server.url(s), EndpointRole::Sender);
        ASSERT_TRUE(tx.send(as_bytes(s)));
    }
    std::vector<std::string> got;
    for (int i = 0; i < 3; ++i) {
        auto m = all.receive(Deadline::after(5s));
        ASSERT_TRUE(m && m->has_value()) << "ticks.> message " << i;
        EXPECT_EQ(text((*m)->data), *(*m)->subject);
        got.push_back(*(*m)->subject);
    }
    EXPECT_EQ(got, (std::vector<std::string>{"ticks.eu.usd", "ticks.us", "ticks.eu.chf"}));
    auto m = one.receive(Deadline::after(5s));
    ASSERT_TRUE(m && m->has_value());
    EXPECT_EQ((*m)->subject, "ticks.eu.usd");
    for (Endpoint* ep : {&all, &one}) {
        auto extra = ep->receive(Deadline::after(50ms));
        ASSERT_TRUE(extra);
        EXPECT_FALSE(extra->has_value()) << "got " << text((*extra)->data);
    }
}

TEST(NatsEndpoint, ServerNotRunningIsAClearError) {
    const std::string url = "nats://127.0.0.1:" + std::to_string(unused_port()) + "/x";
    auto uri = Uri::parse(url);
    ASSERT_TRUE(uri);
    EndpointOptions o;
    o.deadline = Deadline::after(5s);
    auto ep = Endpoint::open(*uri, EndpointRole::Sender, o);
    ASSERT_FALSE(ep);
    EXPECT_EQ(ep.error().code(), std::errc::connection_refused);
    EXPECT_NE(ep.error().message().find(url), std::string::npos) << ep.error().message();

    for (const char* sub : {"send", "recv"}) {
        const RunResult r = sub == std::string("send")
                                ? ipckit({"send", url, "hello", "--timeout", "5s"})
                                : ipckit({"recv", url, "--count", "1", "--timeout", "5s"});
        EXPECT_EQ(r.exit_code, 1) << r.describe();
        EXPECT_NE(r.err.find(url), std::string::npos) << r.err;
        EXPECT_NE(r.err.find("No server available"), std::string::npos) << r.err;
    }
}

TEST(NatsCli, BadUrlPiecesExitTwo) {
    // Nothing listens: each is refused before anything is contacted.
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"nats:/127.0.0.1:4222/x", "expected nats://HOST:PORT/SUBJECT"},
        {"nats://127.0.0.1:4222", "missing '/SUBJECT'"},
        {"nats://127.0.0.1:99999/x", "port '99999'"},
        {"nats://127.0.0.1:0/x", "port '0'"},
        {"nats://127.0.0.1:4222/a..b", "empty token"},
        {"nats://127.0.0.1:4222/a b", "white space"},
        {"nats://127.0.0.1:4222/a.>.b", "'>' must be the whole last token"},
        {"nats://127.0.0.1:4222/a.b*", "'*' must be a whole token"},
        {"nats://bad host:4222/x", "not a host name"},
    };
    for (const auto& [url, why] : cases) {
        for (const char* sub : {"send", "recv"}) {
            const RunResult r = sub == std::string("send")
                                    ? ipckit({"send", url, "m", "--timeout", "2s"})
                                    : ipckit({"recv", url, "--timeout", "2s"});
            EXPECT_EQ(r.exit_code, 2) << sub << " " << url << ": " << r.describe();
            EXPECT_NE(r.err.find(why), std::string::npos) << sub << " " << url << ": " << r.err;
        }
    }
    // Wildcards only on receive.
    for (const std::string url : {"nats://127.0.0.1:4222/a.*", "nats://127.0.0.1:4222/a.>"}) {
        const RunResult r = ipckit({"send", url, "m", "--timeout", "2s"});
        EXPECT_EQ(r.exit_code, 2) << r.describe();
        EXPECT_NE(r.err.find("only for receiving"), std::string::npos) << r.err;
    }
}

TEST(NatsEndpoint, OverMaxPayloadIsRefusedNamingBothSizes) {
    NatsServerOptions small;
    small.config = "max_payload: 1024";
    NatsServer server(small);
    ASSERT_EQ(server.max_payload(), 1024U);
    OPEN_OR_FAIL(rx, server.url("big"), EndpointRole::Receiver);
    OPEN_OR_FAIL(tx, server.url("big"), EndpointRole::Sender);
    const std::size_t limit = tx.max_message_size();  // 1024 less the Ipckit header block
    ASSERT_LT(limit, 1024U);
    ASSERT_GT(limit, 1024U - 64);
    auto r = tx.send(as_bytes(std::string(limit + 1, 'x')));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), std::errc::message_size);
    EXPECT_NE(r.error().message().find("message is " + std::to_string(limit + 1) + " bytes"),
              std::string::npos)
        << r.error().message();
    EXPECT_NE(r.error().message().find("max_payload is 1024"), std::string::npos)
        << r.error().message();
    // Nothing of it arrived; the endpoint still works and a message at the limit goes through.
    auto at_limit = tx.send(as_bytes(std::string(limit, 'y')));
    ASSERT_TRUE(at_limit) << at_limit.error().message();
    auto m = rx.receive(Deadline::after(5s));
    ASSERT_TRUE(m && m->has_value());
    EXPECT_EQ(text((*m)->data), std::string(limit, 'y'));

    const RunResult cli = ipckit({"send", server.url("big"), std::string(2000, 'z')});
    EXPECT_EQ(cli.exit_code, 1) << cli.describe();
    EXPECT_NE(cli.err.find("2000 bytes; the server's max_payload is 1024"), std::string::npos)
        << cli.err;
}

TEST(NatsServerFixture, StopsTheServerByPid) {
    pid_t pid = -1;
    {
        NatsServerOptions js;
        js.jetstream = true;
        NatsServer server(js);
        pid = server.pid();
        ASSERT_EQ(::kill(pid, 0), 0);
    }
    // Reaped by the destructor: the pid no longer names our child.
    EXPECT_EQ(::waitpid(pid, nullptr, WNOHANG), -1);
}

/// The fixture's temp dirs ("ipckit-test-nats-*") that exist now.
std::set<std::string> fixture_dirs() {
    std::set<std::string> dirs;
    for (const auto& e :
         std::filesystem::directory_iterator(std::filesystem::temp_directory_path())) {
        if (e.path().filename().string().starts_with("ipckit-test-nats-")) {
            dirs.insert(e.path().string());
        }
    }
    return dirs;
}

TEST(NatsServerFixture, AMissingBinaryFailsNamingThePackageAndLeavesNoTempDir) {
    const std::set<std::string> before = fixture_dirs();
    ASSERT_EQ(::setenv("IPCKIT_TEST_NATS_SERVER", "/nonexistent/nats-server", 1), 0);
    std::string what;
    try {
        NatsServer server;
    } catch (const std::runtime_error& e) {
        what = e.what();
    }
    ::unsetenv("IPCKIT_TEST_NATS_SERVER");
    EXPECT_NE(what.find("install the Debian package nats-server"), std::string::npos) << what;
    for (const auto& d : fixture_dirs()) {
        EXPECT_TRUE(before.contains(d)) << d << " was left behind";
    }
}

}  // namespace
}  // namespace ipckit::test
