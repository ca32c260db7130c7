// SPDX-License-Identifier: MIT
// Request/reply faults across real processes: a server SIGKILLed mid-request and restarted, a
// client SIGKILLed mid-request, late and unknown responses, oversize responses, forged envelopes
// in shared memory, deadline expiry under load.
#include "forked_child.hpp"
#include "ipckit/channel/publisher.hpp"
#include "ipckit/channel/subscriber.hpp"
#include "service/service_files.hpp"
#include "service_test_util.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace ipckit::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

TEST(ServiceFaults, ServerKilledMidRequestFailsTheCallBeforeItsDeadline) {
    ScopedService s;
    auto server = ForkedChild::spawn([&] {
        auto srv = Server::create(s.name(), small_service()).value();
        auto req = srv.receive(Deadline::after(10s)).value();
        CHILD_CHECK(req.has_value());
        ::raise(SIGKILL);  // mid-request: received, never answered
        return 1;
    });
    auto client = connect_when_up(s.name()).value();
    const auto t0 = Clock::now();
    auto r = client.call(bytes_of("x"), Deadline::after(10s));
    const auto took = Clock::now() - t0;
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code(), std::errc::connection_reset);
    const std::string msg = r.error().message();
    EXPECT_NE(msg.find("srv:" + s.name()), std::string::npos) << msg;
    EXPECT_NE(msg.find("pid " + std::to_string(server.pid())), std::string::npos) << msg;
    EXPECT_NE(msg.find("died with 1 requests in flight"), std::string::npos) << msg;
    EXPECT_LT(took, 2s) << "the client learned of the death at its deadline, not at once";
    EXPECT_EQ(server.wait_for(5s).signal, SIGKILL);
}

TEST(ServiceFaults, RestartedServerIsFoundAgainByName) {
    ScopedService s;
    auto first = ForkedChild::spawn([&] {
        auto srv = Server::create(s.name(), small_service()).value();
        auto req = srv.receive(Deadline::after(10s)).value();
        CHILD_CHECK(req.has_value());
        ::raise(SIGKILL);
        return 1;
    });
    auto client = connect_when_up(s.name()).value();
    const auto gen1 = client.server_generation();
    auto lost = client.call(bytes_of("first"), Deadline::after(10s));
    ASSERT_FALSE(lost.has_value());
    EXPECT_EQ(lost.error().code(), std::errc::connection_reset);
    (void)first.wait_for(5s);
    // No server now: the next call says so at once.
    auto none = client.call(bytes_of("nobody"), Deadline::after(10s));
    ASSERT_FALSE(none.has_value());
    EXPECT_EQ(none.error().code(), std::errc::connection_refused);

    auto second = ForkedChild::spawn([&] {
        auto srv = Server::create(s.name(), small_service()).value();
        auto req = srv.receive(Deadline::after(10s)).value();
        CHILD_CHECK(req.has_value());
        CHILD_CHECK(string_of(req->payload()) == "again");  // nothing of the old generation
        CHILD_CHECK(srv.respond(*req, bytes_of("new server")).has_value());
        return 0;
    });
    Result<Response> r = Error(std::errc::connection_refused, "not yet");
    for (int i = 0; i < 2000 && !r && r.error().code() == std::errc::connection_refused; ++i) {
        std::this_thread::sleep_for(2ms);
        r = client.call(bytes_of("again"), Deadline::after(10s));
    }
    ASSERT_TRUE(r.has_value()) << r.error().message();
    EXPECT_EQ(r->text(), "new server");
    EXPECT_EQ(client.server_pid(), second.pid());
    EXPECT_GT(client.server_generation(), gen1);
    EXPECT_CHILD_OK(second.wait_for(5s));
}

TEST(ServiceFaults, ClientKilledMidRequestHasItsResponsesDroppedAndCounted) {
    ScopedService s;
    auto srv = Server::create(s.name(), small_service(2)).value();
    auto victim = ForkedChild::spawn([&] {
        auto client = connect_when_up(s.name()).value();
        (void)client.call(bytes_of("then die"), Deadline::after(20s));
        return 1;
    });
    auto req = srv.receive(Deadline::after(10s)).value();
    ASSERT_TRUE(req.has_value());
    victim.kill(SIGKILL);
    EXPECT_EQ(victim.wait_for(5s).signal, SIGKILL);
    // More responses than its lane holds: a dead reader must not block the server.
    const std::string big(900, 'r');
    const auto t0 = Clock::now();
    for (int i = 0; i < 50; ++i) {
        ASSERT_TRUE(srv.respond(*req, bytes_of(big), false).has_value());
    }
    ASSERT_TRUE(srv.respond(*req, bytes_of("last"), true).has_value());
    EXPECT_LT(Clock::now() - t0, 1s);
    EXPECT_EQ(srv.counters().dropped_responses, 51U);
    EXPECT_EQ(srv.counters().responses, 0U);

    // Its slot is reclaimed: with max_clients = 2, two new clients both get served.
    std::vector<ForkedChild> next;
    for (int c = 0; c < 2; ++c) {
        next.push_back(ForkedChild::spawn([&, c] {
            auto client = connect_when_up(s.name()).value();
            auto r = client.call(bytes_of(std::to_string(c)), Deadline::after(10s)).value();
            CHILD_CHECK(r.text() == "ok" + std::to_string(c));
            CHILD_CHECK(client.dropped_responses() == 0);  // nothing of the dead client's
            return 0;
        }));
    }
    for (int i = 0; i < 2; ++i) {
        auto r2 = srv.receive(Deadline::after(10s)).value();
        ASSERT_TRUE(r2.has_value());
        ASSERT_TRUE(srv.respond(*r2, bytes_of("ok" + string_of(r2->payload()))).has_value());
    }
    for (auto& c : next) {
        EXPECT_CHILD_OK(c.wait_for(10s));
    }
}

TEST(ServiceFaults, LateResponseToAnExpiredIdIsDroppedAndCounted) {
    ScopedService s;
    auto server = ForkedChild::spawn([&] {
        auto srv = Server::create(s.name(), small_service()).value();
        auto slow = srv.receive(Deadline::after(10s)).value();
        CHILD_CHECK(slow.has_value());
        std::this_thread::sleep_for(300ms);  // past the client's 100 ms
        CHILD_CHECK(srv.respond(*slow, bytes_of("too late")).has_value());
        auto next = srv.receive(Deadline::after(10s)).value();
        CHILD_CHECK(next.has_value());
        CHILD_CHECK(srv.respond(*next, bytes_of("on time")).has_value());
        return 0;
    });
    auto client = connect_when_up(s.name()).value();
    const auto t0 = Clock::now();
    auto r = client.call(bytes_of("slow"), Deadline::after(100ms));
    const auto took = Clock::now() - t0;
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code(), std::errc::timed_out);
    EXPECT_GE(took, 100ms);
    EXPECT_LT(took, 250ms);
    EXPECT_EQ(client.in_flight(), 0U);
    auto ok = client.call(bytes_of("next"), Deadline::after(5s)).value();
    EXPECT_EQ(ok.text(), "on time");  // never the late answer to the expired id
    EXPECT_EQ(client.dropped_responses(), 1U);
    EXPECT_CHILD_OK(server.wait_for(5s));
}

TEST(ServiceFaults, ResponseLargerThanTheClientsLimitFailsThatRequest) {
    ScopedService s;
    auto server = ForkedChild::spawn([&] {
        auto srv = Server::create(s.name(), small_service()).value();
        for (int i = 0; i < 2; ++i) {
            auto req = srv.receive(Deadline::after(10s)).value();
            CHILD_CHECK(req.has_value());
            const std::size_t n = string_of(req->payload()) == "big" ? 500 : 5;
            CHILD_CHECK(srv.respond(*req, bytes_of(std::string(n, 'z'))).has_value());
        }
        // Beyond the service's own maximum: refused at the server.
        auto req = srv.receive(Deadline::after(10s)).value();
        CHILD_CHECK(req.has_value());
        auto over = srv.loan(*req, 1025);
        CHILD_CHECK(!over && over.error().code() == std::errc::message_size);
        CHILD_CHECK(srv.respond_error(*req, "too big").has_value());
        return 0;
    });
    ClientOptions o;
    o.max_response_size = 64;
    auto client = connect_when_up(s.name(), o).value();
    auto big = client.call(bytes_of("big"), Deadline::after(5s));
    ASSERT_FALSE(big.has_value());
    EXPECT_EQ(big.error().code(), std::errc::message_size);
    EXPECT_NE(big.error().message().find("500 bytes"), std::string::npos) << big.error().message();
    EXPECT_EQ(client.call(bytes_of("small"), Deadline::after(5s)).value().text(), "zzzzz");
    auto err = client.call(bytes_of("over"), Deadline::after(5s)).value();
    EXPECT_TRUE(err.is_error());
    EXPECT_EQ(err.text(), "too big");
    auto too_big_request = client.send(bytes_of(std::string(1025, 'q')), Deadline::after(1s));
    ASSERT_FALSE(too_big_request.has_value());
    EXPECT_EQ(too_big_request.error().code(), std::errc::message_size);
    EXPECT_CHILD_OK(server.wait_for(5s));
}

/// Publishes raw bytes into a channel as a same-uid rogue would.
void publish_raw(Publisher& p, const void* data, std::size_t n) {
    auto l = p.loan(n).value();
    std::memcpy(l.data(), data, n);
    p.publish(std::move(l)).value();
}

TEST(ServiceFaults, ForgedResponsesAreDroppedAndNeverReachAnotherClient) {
    ScopedService s;
    auto server = ForkedChild::spawn([&] {
        auto srv = Server::create(s.name(), small_service()).value();
        for (int i = 0; i < 3; ++i) {
            auto req = srv.receive(Deadline::after(10s)).value();
            CHILD_CHECK(req.has_value());
            if (string_of(req->payload()) == "wait for forgeries") {
                std::this_thread::sleep_for(200ms);
            }
            (void)srv.respond(*req, bytes_of("real:" + string_of(req->payload())));
        }
        return 0;
    });
    auto victim = connect_when_up(s.name()).value();
    auto bystander = connect_when_up(s.name()).value();
    // A rogue that sniffs the request lane (a same-uid peer can) and writes into the victim's
    // response channel: garbage, a too-short record, the victim's token with an unknown id.
    auto sniffer = Subscriber::open(s.name() + ".srv-req").value();
    const auto id = victim.send(bytes_of("wait for forgeries"), Deadline::after(5s)).value();
    auto seen = sniffer.receive_for(5s).value();
    ASSERT_TRUE(seen.has_value());
    detail::RequestEnvelope env{};
    std::memcpy(&env, seen->data(), sizeof env);
    auto rogue = Publisher::open(s.name() + ".srv-rsp" + std::to_string(victim.slot())).value();
    const char garbage[40] = "forged forged forged forged forged forg";
    publish_raw(rogue, garbage, sizeof garbage);
    publish_raw(rogue, "short", 5);
    detail::ResponseEnvelope forged{
        env.id + 1000, static_cast<std::uint32_t>(env.token), detail::kFinal};
    publish_raw(rogue, &forged, sizeof forged);
    // A forged request carrying the victim's token and id, sent from the rogue's own lane: the
    // server answers into that lane's channel, never the victim's.
    auto rogue_client = Publisher::open(s.name() + ".srv-req").value();
    detail::RequestEnvelope stolen = env;
    stolen.pid = ::getpid();
    publish_raw(rogue_client, &stolen, sizeof stolen);

    auto r = victim.receive(id, Deadline::after(5s)).value();
    EXPECT_EQ(r.text(), "real:wait for forgeries");
    EXPECT_EQ(victim.dropped_responses(), 3U);
    auto b = bystander.call(bytes_of("b"), Deadline::after(5s)).value();
    EXPECT_EQ(b.text(), "real:b");
    EXPECT_EQ(bystander.dropped_responses(), 0U);
    EXPECT_EQ(victim.dropped_responses(), 3U) << "the stolen request's answer reached the victim";
    EXPECT_CHILD_OK(server.wait_for(5s));
}

TEST(ServiceFaults, ForgedRequestsAreCountedAndTheServerKeepsServing) {
    ScopedService s;
    auto srv = Server::create(s.name(), small_service()).value();
    auto rogue = Publisher::open(s.name() + ".srv-req").value();
    publish_raw(rogue, "tiny", 4);  // shorter than the envelope
    detail::RequestEnvelope bad_pid{1, 2, 0, static_cast<std::uint32_t>(srv.generation()), -5};
    publish_raw(rogue, &bad_pid, sizeof bad_pid);
    detail::RequestEnvelope old_gen{
        1, 2, 0, static_cast<std::uint32_t>(srv.generation() + 7), ::getpid()};
    publish_raw(rogue, &old_gen, sizeof old_gen);
    detail::RequestEnvelope expired{
        1, 2, 1, static_cast<std::uint32_t>(srv.generation()), ::getpid()};
    publish_raw(rogue, &expired, sizeof expired);
    // Every forged record is read (and dropped) before the genuine client's request exists:
    // else the server could take the client's lane first and the counts below be short.
    EXPECT_FALSE(srv.try_receive().value().has_value());
    auto client = ForkedChild::spawn([&] {
        auto c = connect_when_up(s.name()).value();
        CHILD_CHECK(c.call(bytes_of("fine"), Deadline::after(10s)).value().text() == "fine");
        return 0;
    });
    auto req = srv.receive(Deadline::after(10s)).value();
    ASSERT_TRUE(req.has_value());
    EXPECT_EQ(string_of(req->payload()), "fine");
    ASSERT_TRUE(srv.respond(*req, req->payload()).has_value());
    EXPECT_CHILD_OK(client.wait_for(5s));
    const auto c = srv.counters();
    EXPECT_EQ(c.corrupt_requests, 2U);
    EXPECT_EQ(c.stale_requests, 1U);
    EXPECT_EQ(c.expired_requests, 1U);
    EXPECT_EQ(c.received, 1U);
}

TEST(ServiceFaults, DeadlinesExpireOnTimeUnderLoad) {
    ScopedService s;
    constexpr int kClients = 3;
    constexpr int kCalls = 10;
    auto server = ForkedChild::spawn([&] {
        auto srv = Server::create(s.name(), small_service()).value();
        for (;;) {  // slow: 15 ms a request, so three clients queue up past 40 ms deadlines
            auto req = srv.receive(Deadline::after(700ms)).value();
            if (!req) {  // idle: every client is done
                return 0;
            }
            std::this_thread::sleep_for(15ms);
            (void)srv.respond(*req, req->payload());
        }
    });
    std::vector<ForkedChild> clients;
    for (int c = 0; c < kClients; ++c) {
        clients.push_back(ForkedChild::spawn([&, c] {
            auto client = connect_when_up(s.name()).value();
            int timed_out = 0;
            for (int i = 0; i < kCalls; ++i) {
                const std::string msg = std::to_string(c) + ":" + std::to_string(i);
                const auto t0 = Clock::now();
                auto r = client.call(bytes_of(msg), Deadline::after(40ms));
                const auto took = Clock::now() - t0;
                if (r) {
                    CHILD_CHECK(r->text() == msg);  // never an earlier call's late answer
                } else {
                    CHILD_CHECK(r.error().code() == std::errc::timed_out);
                    CHILD_CHECK(took < 40ms + 100ms);  // on time, give or take a loaded host
                    ++timed_out;
                }
            }
            return timed_out > 0 ? 10 : 0;  // exit 10: saw at least one expiry
        }));
    }
    int saw_expiry = 0;
    for (auto& c : clients) {
        auto r = c.wait_for(20s);
        EXPECT_TRUE(r.exited && (r.exit_code == 0 || r.exit_code == 10)) << r.describe();
        saw_expiry += r.exit_code == 10 ? 1 : 0;
    }
    EXPECT_GT(saw_expiry, 0) << "the load never made a deadline expire";
    EXPECT_CHILD_OK(server.wait_for(10s));
}

}  // namespace
}  // namespace ipckit::test
