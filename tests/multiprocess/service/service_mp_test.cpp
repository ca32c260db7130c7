// SPDX-License-Identifier: MIT
// Request/reply across real processes: calls, several requests in flight, streams, zero-copy
// loans, one live server per service, many clients routed to their own responses.
#include "forked_child.hpp"
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

/// A server process: answers `n` requests with "echo:" + payload, then exits 0.
int serve_echo(const std::string& name, int n) {
    auto srv = Server::create(name, small_service()).value();
    for (int i = 0; i < n; ++i) {
        auto req = srv.receive(Deadline::after(10s)).value();
        CHILD_CHECK(req.has_value());
        const std::string reply = "echo:" + string_of(req->payload());
        CHILD_CHECK(srv.respond(*req, bytes_of(reply), true).has_value());
    }
    return 0;
}

TEST(Service, CallGetsTheServersResponse) {
    ScopedService s;
    auto server = ForkedChild::spawn([&] { return serve_echo(s.name(), 2); });
    auto client = connect_when_up(s.name()).value();
    EXPECT_EQ(client.server_pid(), server.pid());
    auto r = client.call(bytes_of("hello"), Deadline::after(5s)).value();
    EXPECT_EQ(r.text(), "echo:hello");
    EXPECT_TRUE(r.final());
    EXPECT_FALSE(r.is_error());
    auto empty = client.call({}, Deadline::after(5s)).value();
    EXPECT_EQ(empty.text(), "echo:");
    EXPECT_EQ(client.in_flight(), 0U);
    EXPECT_CHILD_OK(server.wait_for(5s));
}

TEST(Service, SeveralRequestsInFlightAnsweredOutOfOrder) {
    ScopedService s;
    auto server = ForkedChild::spawn([&] {
        auto srv = Server::create(s.name(), small_service()).value();
        std::vector<Request> held;
        for (int i = 0; i < 3; ++i) {
            auto req = srv.receive(Deadline::after(10s)).value();
            CHILD_CHECK(req.has_value());
            held.push_back(std::move(*req));
        }
        for (int i = 2; i >= 0; --i) {  // last asked, first answered
            const std::string reply = "re:" + string_of(held[static_cast<size_t>(i)].payload());
            CHILD_CHECK(srv.respond(held[static_cast<size_t>(i)], bytes_of(reply)).has_value());
        }
        return 0;
    });
    auto client = connect_when_up(s.name()).value();
    const auto d = Deadline::after(5s);
    const RequestId a = client.send(bytes_of("a"), d).value();
    const RequestId b = client.send(bytes_of("b"), d).value();
    const RequestId c = client.send(bytes_of("c"), d).value();
    EXPECT_EQ(client.in_flight(), 3U);
    EXPECT_EQ(client.receive(b, d).value().text(), "re:b");
    EXPECT_EQ(client.receive(a, d).value().text(), "re:a");
    EXPECT_EQ(client.receive(c, d).value().text(), "re:c");
    EXPECT_EQ(client.in_flight(), 0U);
    EXPECT_EQ(client.dropped_responses(), 0U);
    auto again = client.receive(a, Deadline::after(10ms));
    ASSERT_FALSE(again.has_value());
    EXPECT_EQ(again.error().code(), std::errc::invalid_argument);
    EXPECT_CHILD_OK(server.wait_for(5s));
}

TEST(Service, StreamedResponsesEndWithFinal) {
    ScopedService s;
    auto server = ForkedChild::spawn([&] {
        auto srv = Server::create(s.name(), small_service()).value();
        auto req = srv.receive(Deadline::after(10s)).value();
        CHILD_CHECK(req.has_value());
        for (int i = 0; i < 20; ++i) {  // more than one lane holds: the client reads as we go
            CHILD_CHECK(srv.respond(*req, bytes_of(std::to_string(i)), false).has_value());
        }
        CHILD_CHECK(srv.respond(*req, bytes_of("end"), true).has_value());
        CHILD_CHECK(req->finished());
        auto late = srv.respond(*req, bytes_of("again"), true);
        CHILD_CHECK(!late && late.error().code() == std::errc::invalid_argument);
        return 0;
    });
    auto client = connect_when_up(s.name()).value();
    const auto d = Deadline::after(5s);
    auto first = client.call(bytes_of("count"), d).value();
    EXPECT_EQ(first.text(), "0");
    EXPECT_FALSE(first.final());
    std::vector<std::string> rest;
    for (;;) {
        auto r = client.receive(first.id(), d).value();
        rest.emplace_back(r.text());
        if (r.final()) {
            break;
        }
    }
    ASSERT_EQ(rest.size(), 20U);
    EXPECT_EQ(rest[0], "1");
    EXPECT_EQ(rest[18], "19");
    EXPECT_EQ(rest[19], "end");
    EXPECT_EQ(client.in_flight(), 0U);
    EXPECT_CHILD_OK(server.wait_for(5s));
}

TEST(Service, ZeroCopyLoansBothWays) {
    ScopedService s;
    auto server = ForkedChild::spawn([&] {
        auto srv = Server::create(s.name(), small_service()).value();
        auto req = srv.receive(Deadline::after(10s)).value();
        CHILD_CHECK(req.has_value() && req->payload().size() == 100);
        auto loan = srv.loan(*req, 200).value();
        for (std::size_t i = 0; i < 200; ++i) {
            loan.data()[i] = static_cast<std::byte>(i);
        }
        loan.resize(150);
        CHILD_CHECK(srv.respond(*req, std::move(loan), true).has_value());
        return 0;
    });
    auto client = connect_when_up(s.name()).value();
    auto loan = client.loan(100).value();
    ASSERT_EQ(loan.size(), 100U);
    for (auto& b : loan.bytes()) {
        b = std::byte{7};
    }
    const auto id = client.send(std::move(loan), Deadline::after(5s)).value();
    auto r = client.receive(id, Deadline::after(5s)).value();
    ASSERT_EQ(r.bytes().size(), 150U);
    EXPECT_EQ(r.bytes()[149], std::byte{149});
    EXPECT_CHILD_OK(server.wait_for(5s));
}

TEST(Service, SecondServerIsRefusedNamingTheFirst) {
    ScopedService s;
    auto first = Server::create(s.name(), small_service()).value();
    auto child = ForkedChild::spawn([&] {
        auto second = Server::create(s.name(), small_service());
        CHILD_CHECK(!second);
        CHILD_CHECK(second.error().code() == std::errc::address_in_use);
        CHILD_CHECK(second.error().message().find("pid " + std::to_string(::getppid())) !=
                    std::string::npos);
        return 0;
    });
    EXPECT_CHILD_OK(child.wait_for(5s));
}

TEST(Service, NoServerIsConnectionRefused) {
    ScopedService s;
    auto none = Client::connect(s.name());
    ASSERT_FALSE(none);
    EXPECT_EQ(none.error().code(), std::errc::connection_refused);
    { auto srv = Server::create(s.name(), small_service()).value(); }
    auto gone = Client::connect(s.name());  // a record without a live server
    ASSERT_FALSE(gone);
    EXPECT_EQ(gone.error().code(), std::errc::connection_refused);
    auto bad = Client::connect("srv:../etc");
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code(), std::errc::invalid_argument);
}

TEST(Service, ManyClientsEachGetOnlyTheirOwnResponses) {
    ScopedService s;
    constexpr int kClients = 3;
    constexpr int kCalls = 200;
    std::vector<ForkedChild> clients;
    for (int c = 0; c < kClients; ++c) {
        clients.push_back(ForkedChild::spawn([&, c] {
            auto client = connect_when_up(s.name()).value();
            for (int i = 0; i < kCalls; ++i) {
                const std::string msg = std::to_string(c) + "/" + std::to_string(i);
                auto r = client.call(bytes_of(msg), Deadline::after(10s)).value();
                CHILD_CHECK(r.text() == "echo:" + msg);
            }
            CHILD_CHECK(client.dropped_responses() == 0);
            return 0;
        }));
    }
    auto srv = Server::create(s.name(), small_service()).value();
    for (int i = 0; i < kClients * kCalls; ++i) {
        auto req = srv.receive(Deadline::after(10s)).value();
        ASSERT_TRUE(req.has_value()) << "after " << i << " requests";
        const std::string reply = "echo:" + string_of(req->payload());
        ASSERT_TRUE(srv.respond(*req, bytes_of(reply)).has_value());
    }
    for (auto& c : clients) {
        EXPECT_CHILD_OK(c.wait_for(10s));
    }
    EXPECT_EQ(srv.counters().received, static_cast<std::uint64_t>(kClients * kCalls));
    EXPECT_EQ(srv.counters().dropped_responses, 0U);
}

}  // namespace
}  // namespace ipckit::test
