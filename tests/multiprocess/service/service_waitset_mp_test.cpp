// SPDX-License-Identifier: MIT
// Servers and clients as WaitSet members, across real processes: a request wakes the server's
// WaitSet and a response the client's (no system call when already ready), a SIGKILLed server
// wakes its client's WaitSet through the pidfd and fails the request at once, a restarted server
// is watched again, and the race between the last readiness check and the sleep, forced with
// fault points (a request arriving there must ring the doorbell or be seen by the re-check).
#include "event/wait_set_hooks.hpp"
#include "eventually.hpp"
#include "fault_points.hpp"
#include "forked_child.hpp"
#include "ipckit/event/wait_set.hpp"
#include "run_program.hpp"
#include "service_test_util.hpp"
#include "shared_counters.hpp"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace ipckit::test {
namespace {

using namespace std::chrono_literals;
using Keys = std::vector<WaitSet::Key>;
using Clock = std::chrono::steady_clock;

Keys wait_keys(WaitSet& ws, Deadline d) {
    auto r = ws.wait(d);
    EXPECT_TRUE(r) << r.error().message();
    return r ? Keys(r->begin(), r->end()) : Keys{};
}

using test::arm_fault;
using test::is_stopped;
using Shared = test::SharedCounters;  // a page of shared atomics for parent/child hand-offs

TEST(ServiceWaitSet, RequestFromAnotherProcessWakesTheServersWaitSet) {
    ScopedService s;
    auto srv = Server::create(s.name(), small_service()).value();
    auto ws = WaitSet::create().value();
    const auto k = ws.add(srv).value();
    EXPECT_TRUE(wait_keys(ws, Deadline::now()).empty());
    auto client = ForkedChild::spawn([&] {
        auto c = connect_when_up(s.name()).value();
        // Send once the server's WaitSet sleeps (the test process blocked, state 'S'), not after
        // a fixed delay: on a loaded machine 100 ms was not enough and the request was there
        // before the sleep, so no doorbell rang.
        CHILD_CHECK(test::wait_until_sleeping(::getppid(), 10s));
        std::this_thread::sleep_for(5ms);
        for (int i = 0; i < 2; ++i) {
            auto r = c.call(bytes_of("q" + std::to_string(i)), Deadline::after(10s));
            CHILD_CHECK(r);
            CHILD_CHECK(r->text() == "a:q" + std::to_string(i));
        }
        return 0;
    });
    const auto rings = detail::g_wait_set_rings.load();
    EXPECT_EQ(wait_keys(ws, Deadline::after(10s)), Keys{k});
    EXPECT_GE(detail::g_wait_set_rings.load() - rings, 1U) << "woken by the doorbell";
    // Already ready: the second look makes no system call.
    const auto calls = detail::g_wait_set_syscalls.load();
    EXPECT_EQ(wait_keys(ws, Deadline::now()), Keys{k});
    EXPECT_EQ(detail::g_wait_set_syscalls.load(), calls);
    int answered = 0;
    const Deadline until = Deadline::after(10s);
    while (answered < 2 && !until.expired()) {
        while (auto req = srv.try_receive().value()) {
            ASSERT_TRUE(srv.respond(*req, bytes_of("a:" + string_of(req->payload()))));
            ++answered;
        }
        if (answered < 2) {
            (void)wait_keys(ws, until);
        }
    }
    EXPECT_EQ(answered, 2);
    EXPECT_CHILD_OK(client.wait_for(10s));
}

TEST(ServiceWaitSet, ResponseWakesTheClientsWaitSetAndTryReceiveKeepsTheRequest) {
    ScopedService s;
    Shared sh;
    auto server = ForkedChild::spawn([&] {
        auto srv = Server::create(s.name(), small_service()).value();
        auto req = srv.receive(Deadline::after(10s)).value();
        CHILD_CHECK(req.has_value());
        CHILD_CHECK(eventually(
            10s, "the client asked for the response", [&] { return sh.at(0).load() == 1; }));
        CHILD_CHECK(srv.respond(*req, bytes_of("part"), false));
        CHILD_CHECK(srv.respond(*req, bytes_of("end"), true));
        return 0;
    });
    auto c = connect_when_up(s.name()).value();
    auto ws = WaitSet::create().value();
    const auto k = ws.add(c).value();
    const auto id = c.send(bytes_of("go"), Deadline::after(20s)).value();
    EXPECT_TRUE(wait_keys(ws, Deadline::after(50ms)).empty());
    EXPECT_FALSE(c.try_receive(id).value().has_value());
    EXPECT_EQ(c.in_flight(), 1U) << "an empty try_receive keeps the request in flight";
    sh.at(0).store(1);
    std::vector<std::string> got;
    const Deadline until = Deadline::after(10s);
    while (got.size() < 2 && !until.expired()) {
        const auto keys = wait_keys(ws, until);
        if (keys.empty()) {
            continue;
        }
        EXPECT_EQ(keys, Keys{k});
        const auto calls = detail::g_wait_set_syscalls.load();
        EXPECT_EQ(wait_keys(ws, Deadline::now()), Keys{k}) << "still ready";
        EXPECT_EQ(detail::g_wait_set_syscalls.load(), calls) << "no system call when ready";
        while (got.empty() || got.size() < 2) {  // the final response ends the request
            auto r = c.try_receive(id).value();
            if (!r) {
                break;
            }
            got.emplace_back(r->text());
        }
    }
    EXPECT_EQ(got, (std::vector<std::string>{"part", "end"}));
    EXPECT_EQ(c.in_flight(), 0U);
    EXPECT_CHILD_OK(server.wait_for(10s));
}

TEST(ServiceWaitSet, ServerSigkilledWakesTheClientAndFailsTheRequestAtOnce) {
    ScopedService s;
    auto serve_one_then_hang = [&] {
        auto srv = Server::create(s.name(), small_service()).value();
        for (;;) {  // holds what it receives, never responds, until SIGKILLed
            auto req = srv.receive(Deadline::after(30s));
            CHILD_CHECK(req);
            std::this_thread::sleep_for(30s);
        }
        return 0;
    };
    auto server = ForkedChild::spawn(serve_one_then_hang);
    auto c = connect_when_up(s.name()).value();
    const pid_t first = c.server_pid();
    auto ws = WaitSet::create().value();
    const auto k = ws.add(c).value();
    const auto id = c.send(bytes_of("never answered"), Deadline::after(60s)).value();
    EXPECT_TRUE(wait_keys(ws, Deadline::after(100ms)).empty());
    server.kill(SIGKILL);
    (void)server.wait_for(10s);
    const auto t0 = Clock::now();
    EXPECT_EQ(wait_keys(ws, Deadline::after(20s)), Keys{k});
    EXPECT_LT(Clock::now() - t0, 5s) << "woken by the pidfd, not by a deadline";
    auto r = c.try_receive(id);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), std::errc::connection_reset);
    EXPECT_NE(r.error().message().find(s.uri()), std::string::npos) << r.error().message();
    EXPECT_NE(r.error().message().find(std::to_string(first)), std::string::npos)
        << r.error().message();
    EXPECT_EQ(c.in_flight(), 0U);
    const auto t1 = Clock::now();
    EXPECT_TRUE(wait_keys(ws, Deadline::after(100ms)).empty())
        << "the dead pidfd is dropped after "
        << std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t1).count()
        << " ms, in flight " << c.in_flight();

    // A restarted server is found by the next send and watched again.
    auto second = ForkedChild::spawn(serve_one_then_hang);
    ASSERT_TRUE(eventually(10s, "the restarted server is up", [&] {
        auto probe = Client::connect(s.name());
        return probe && probe->server_pid() == second.pid();
    }));
    const auto id2 = c.send(bytes_of("again"), Deadline::after(60s)).value();
    EXPECT_EQ(c.server_pid(), second.pid());
    EXPECT_TRUE(wait_keys(ws, Deadline::after(100ms)).empty());
    second.kill(SIGKILL);
    (void)second.wait_for(10s);
    EXPECT_EQ(wait_keys(ws, Deadline::after(20s)), Keys{k});
    auto r2 = c.try_receive(id2);
    ASSERT_FALSE(r2);
    EXPECT_EQ(r2.error().code(), std::errc::connection_reset);
}

TEST(ServiceWaitSet, TryReceiveAloneNoticesTheDeadServer) {
    ScopedService s;
    auto server = ForkedChild::spawn([&] {
        auto srv = Server::create(s.name(), small_service()).value();
        auto req = srv.receive(Deadline::after(30s));
        CHILD_CHECK(req);
        std::this_thread::sleep_for(30s);
        return 0;
    });
    auto c = connect_when_up(s.name()).value();
    const auto id = c.send(bytes_of("x"), Deadline::after(60s)).value();
    server.kill(SIGKILL);
    (void)server.wait_for(10s);
    std::optional<Error> failed;
    ASSERT_TRUE(eventually(5s, "try_receive reports the dead server", [&] {
        auto r = c.try_receive(id);
        if (!r) {
            failed = r.error();
        }
        return !r || r->has_value();
    }));
    ASSERT_TRUE(failed.has_value());
    EXPECT_EQ(failed->code(), std::errc::connection_reset);
}

/// The server's WaitSet is stopped at `point` (after its last readiness check, before the
/// sleep, or before arming); the client's request arrives there. The WaitSet must return the
/// server's key: through the doorbell (before_sleep) or the re-check after arming (before_arm,
/// then no system call at all).
void race_at(const char* point, bool expect_ring) {
    ScopedService s;
    auto server = ForkedChild::spawn([&] {
        auto srv = Server::create(s.name(), small_service()).value();
        auto ws = WaitSet::create().value();
        const auto k = ws.add(srv).value();
        const auto rings = detail::g_wait_set_rings.load();
        const auto calls = detail::g_wait_set_syscalls.load();
        arm_fault((std::string(point) + ":stop").c_str());
        auto keys = ws.wait(Deadline::after(20s));
        arm_fault("");
        CHILD_CHECK(keys);
        CHILD_CHECK(keys->size() == 1 && (*keys)[0] == k);
        if (expect_ring) {
            CHILD_CHECK(detail::g_wait_set_rings.load() - rings >= 1);  // not the 50 ms slice
        } else {
            CHILD_CHECK(detail::g_wait_set_rings.load() == rings);
            CHILD_CHECK(detail::g_wait_set_syscalls.load() == calls);  // found by the re-check
        }
        auto req = srv.try_receive().value();
        CHILD_CHECK(req.has_value());
        CHILD_CHECK(srv.respond(*req, bytes_of("ok")));
        return 0;
    });
    auto c = connect_when_up(s.name()).value();
    ASSERT_TRUE(eventually(
        10s,
        std::string("the server's WaitSet stopped at ") + point,
        [&] { return is_stopped(server.pid()); },
        1ms));
    const auto id = c.send(bytes_of("now"), Deadline::after(20s)).value();
    server.kill(SIGCONT);
    auto r = c.receive(id, Deadline::after(20s));
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->text(), "ok");
    EXPECT_CHILD_OK(server.wait_for(10s));
}

TEST(ServiceWaitSet, RequestBetweenTheLastCheckAndTheSleepRingsTheDoorbell) {
    race_at("waitset.before_sleep", true);
}

TEST(ServiceWaitSet, RequestBeforeArmingIsSeenByTheRecheck) {
    race_at("waitset.before_arm", false);
}

TEST(ServiceWaitSet, ResponseBetweenTheLastCheckAndTheSleepRingsTheClientsDoorbell) {
    ScopedService s;
    auto srv = Server::create(s.name(), small_service()).value();
    auto client = ForkedChild::spawn([&] {
        auto c = connect_when_up(s.name()).value();
        auto ws = WaitSet::create().value();
        const auto k = ws.add(c).value();
        const auto id = c.send(bytes_of("q"), Deadline::after(20s)).value();
        const auto rings = detail::g_wait_set_rings.load();
        arm_fault("waitset.before_sleep:stop");
        auto keys = ws.wait(Deadline::after(20s));
        arm_fault("");
        CHILD_CHECK(keys);
        CHILD_CHECK(keys->size() == 1 && (*keys)[0] == k);
        CHILD_CHECK(detail::g_wait_set_rings.load() - rings >= 1);  // not the 50 ms slice
        auto r = c.try_receive(id);
        CHILD_CHECK(r && r->has_value() && (*r)->text() == "a");
        return 0;
    });
    auto req = srv.receive(Deadline::after(20s)).value();
    ASSERT_TRUE(req.has_value());
    ASSERT_TRUE(eventually(
        10s,
        "the client's WaitSet stopped before its sleep",
        [&] { return is_stopped(client.pid()); },
        1ms));
    ASSERT_TRUE(srv.respond(*req, bytes_of("a")));
    client.kill(SIGCONT);
    EXPECT_CHILD_OK(client.wait_for(20s));
}

}  // namespace
}  // namespace ipckit::test

namespace ipckit::test {
namespace {

TEST(ServiceWaitSetExample, ServerAndClientEachInAWaitSet) {
    ScopedService s;
    auto r = run_program({build_path("examples/example_waitset_service"), s.name()});
    ASSERT_TRUE(r.exited && r.exit_code == 0) << r.describe() << r.err;
    for (const char* word : {"one", "two", "three"}) {
        EXPECT_NE(r.out.find(std::string("server: request ") + word), std::string::npos) << r.out;
    }
    for (const char* word : {"ONE", "TWO", "THREE"}) {
        EXPECT_NE(r.out.find(std::string("client: reply ") + word), std::string::npos) << r.out;
    }
    EXPECT_NE(r.out.find("done: served 3 requests, 1+ heartbeat ticks"), std::string::npos)
        << r.out;
    EXPECT_FALSE(std::filesystem::exists(srv_dir() + "/" + s.name() + ".srv"))
        << "the example removes its files";
}

}  // namespace
}  // namespace ipckit::test
