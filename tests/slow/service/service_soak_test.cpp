// SPDX-License-Identifier: MIT
// Request/reply under random-instant SIGKILLs of the server and of clients, in a loop (label
// slow): no response delivered to the wrong call or twice, every failed call an error the API
// documents, no slot leaked at the end.
#include "../../multiprocess/service/service_test_util.hpp"
#include "forked_child.hpp"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace ipckit::test {
namespace {

using namespace std::chrono_literals;

constexpr std::uint32_t kMaxClients = 4;

int serve_forever(const std::string& name) {
    auto srv = Server::create(name, small_service(kMaxClients));
    if (!srv) {
        return 3;
    }
    for (;;) {
        auto req = srv->receive(Deadline::after(5s)).value();
        if (!req) {
            return 0;
        }
        (void)srv->respond(*req, bytes_of("echo:" + string_of(req->payload())));
    }
}

/// Calls for `run_for`; every success must be the answer to this very call.
int client_loop(const std::string& name, int who, std::chrono::milliseconds run_for) {
    const auto until = std::chrono::steady_clock::now() + run_for;
    std::optional<Client> client;
    int answered = 0;
    for (int i = 0; std::chrono::steady_clock::now() < until; ++i) {
        if (!client) {
            auto c = Client::connect(name);
            if (!c) {
                CHILD_CHECK(c.error().code() == std::errc::connection_refused ||
                            c.error().code() == std::errc::resource_unavailable_try_again);
                std::this_thread::sleep_for(1ms);
                continue;
            }
            client.emplace(std::move(*c));
        }
        const std::string msg = std::to_string(who) + "/" + std::to_string(i);
        auto r = client->call(bytes_of(msg), Deadline::after(500ms));
        if (r) {
            CHILD_CHECK(r->text() == "echo:" + msg);
            ++answered;
            continue;
        }
        const auto code = r.error().code();
        CHILD_CHECK(code == std::errc::connection_reset || code == std::errc::connection_refused ||
                    code == std::errc::timed_out);
    }
    return answered > 0 ? 0 : 20;  // 20: ran, but no call was answered
}

TEST(ServiceSoak, RandomKillsOfServerAndClients) {
    ScopedService s;
    const char* env = std::getenv("IPCKIT_SOAK_ROUNDS");
    const int rounds = env != nullptr ? std::atoi(env) : 40;
    std::mt19937 rng(static_cast<unsigned>(::getpid()));
    int next_client = 0;
    int answered_clients = 0;
    for (int round = 0; round < rounds; ++round) {
        auto server = ForkedChild::spawn([&] { return serve_forever(s.name()); });
        std::vector<ForkedChild> clients;
        for (int c = 0; c < 3; ++c) {
            const int who = next_client++;
            clients.push_back(
                ForkedChild::spawn([&, who] { return client_loop(s.name(), who, 150ms); }));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 150));
        const auto victim = rng() % 4;  // 0..2: a client, 3: the server
        if (victim == 3) {
            server.kill(SIGKILL);
        } else {
            clients[victim].kill(SIGKILL);
        }
        for (std::size_t c = 0; c < clients.size(); ++c) {
            auto r = clients[c].wait_for(10s);
            EXPECT_TRUE(r.ok() || (r.exited && r.exit_code == 20) ||
                        (c == victim && r.signal == SIGKILL))
                << "round " << round << ": " << r.describe();
            answered_clients += r.ok() ? 1 : 0;
        }
        server.kill(SIGKILL);  // the next round starts a fresh server (a restart by name)
        (void)server.wait_for(5s);
    }
    EXPECT_GT(answered_clients, rounds) << "too few calls were answered to test anything";
    // No leaked slot: every one of max_clients clients can connect at once and be served.
    auto server = ForkedChild::spawn([&] { return serve_forever(s.name()); });
    std::vector<ForkedChild> all;
    for (std::uint32_t c = 0; c < kMaxClients; ++c) {
        all.push_back(ForkedChild::spawn([&, c] {
            auto client = connect_when_up(s.name()).value();
            CHILD_CHECK(client.call(bytes_of("x"), Deadline::after(5s)).value().text() == "echo:x");
            std::this_thread::sleep_for(300ms);  // hold the slot while the others connect
            (void)c;
            return 0;
        }));
    }
    for (auto& c : all) {
        EXPECT_CHILD_OK(c.wait_for(10s));
    }
    server.kill(SIGKILL);
    (void)server.wait_for(5s);
}

}  // namespace
}  // namespace ipckit::test
