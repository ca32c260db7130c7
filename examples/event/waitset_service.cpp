// SPDX-License-Identifier: MIT
// A request/reply server and its client, each driven by a WaitSet.
//
//   example_waitset_service [NAME]
//
// The parent serves srv:NAME (default "example-wss-<pid>") from a WaitSet that also holds a
// 20 ms timerfd (a heartbeat a real server would use for housekeeping). A forked child connects,
// sends three requests at once and waits for their responses in its own WaitSet, which holds
// the Client: it is ready when a response is there, or at once when the server dies (the requests
// in flight then fail with "connection reset", naming the server). The server upper-cases each
// request. No thread and no polling: a request or a response rings the other side's doorbell.
// The service's files are removed at the end.
#include "ipckit/event/wait_set.hpp"
#include "ipckit/service/client.hpp"
#include "ipckit/service/server.hpp"
#include "ipckit/service/service.hpp"

#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;

std::span<const std::byte> bytes_of(std::string_view s) {
    return std::as_bytes(std::span(s.data(), s.size()));
}

/// The client: three requests in flight, their responses taken as the WaitSet reports them.
int client(const std::string& name) {
    auto c = ipckit::Client::connect(name);
    for (int i = 0; !c && i < 500; ++i) {  // the server may still be starting
        std::this_thread::sleep_for(10ms);
        c = ipckit::Client::connect(name);
    }
    if (!c) {
        std::fprintf(stderr, "client: %s\n", c.error().message().c_str());
        return 1;
    }
    auto ws = ipckit::WaitSet::create().value();
    (void)ws.add(*c).value();
    const auto until = ipckit::Deadline::after(10s);
    std::vector<ipckit::RequestId> in_flight;
    for (const char* text : {"one", "two", "three"}) {
        in_flight.push_back(c->send(bytes_of(text), until).value());
    }
    while (!in_flight.empty() && !until.expired()) {
        if (auto ready = ws.wait(until); !ready) {
            std::fprintf(stderr, "client wait: %s\n", ready.error().message().c_str());
            return 1;
        }
        // Ready means "look": any of the requests may have its response (or none: spurious).
        for (auto it = in_flight.begin(); it != in_flight.end();) {
            auto r = c->try_receive(*it);
            if (!r) {  // e.g. the server died: connection reset, the server named
                std::fprintf(stderr, "client: %s\n", r.error().message().c_str());
                return 1;
            }
            if (!*r) {
                ++it;
                continue;
            }
            std::printf("client: reply %s\n", std::string((*r)->text()).c_str());
            it = (*r)->final() ? in_flight.erase(it) : it + 1;
        }
    }
    std::fflush(stdout);
    return in_flight.empty() ? 0 : 1;
}

/// Answers every request the server has now (the WaitSet said "look"); returns how many.
int serve_ready(ipckit::Server& srv) {
    int n = 0;
    while (auto req = srv.try_receive()) {
        if (!*req) {
            break;
        }
        std::string text(reinterpret_cast<const char*>((*req)->payload().data()),  // NOLINT
                         (*req)->payload().size());
        std::printf("server: request %s\n", text.c_str());
        std::transform(text.begin(), text.end(), text.begin(), [](unsigned char ch) {
            return static_cast<char>(std::toupper(ch));
        });
        if (auto r = srv.respond(**req, bytes_of(text)); !r) {
            std::fprintf(stderr, "respond: %s\n", r.error().message().c_str());
        }
        ++n;
    }
    return n;
}

int run(const std::string& name) {
    auto srv = ipckit::Server::create(name, {});
    if (!srv) {
        std::fprintf(stderr, "%s\n", srv.error().message().c_str());
        return 1;
    }
    const int timer = ::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    if (timer < 0) {
        std::perror("timerfd_create");
        return 1;
    }
    itimerspec every{};
    every.it_interval.tv_nsec = 20'000'000;
    every.it_value.tv_nsec = 20'000'000;
    (void)::timerfd_settime(timer, 0, &every, nullptr);

    auto ws = ipckit::WaitSet::create().value();
    const auto k_srv = ws.add(*srv).value();
    const auto k_timer = ws.add_fd(timer).value();

    std::fflush(stdout);
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::_exit(client(name));
    }
    int served = 0;
    std::uint64_t ticks = 0;
    const auto until = ipckit::Deadline::after(10s);
    while ((served < 3 || ticks == 0) && !until.expired()) {  // three requests and a heartbeat
        auto ready = ws.wait(until);
        if (!ready) {
            std::fprintf(stderr, "wait: %s\n", ready.error().message().c_str());
            break;
        }
        for (const auto key : *ready) {
            if (key == k_timer) {
                std::uint64_t n = 0;
                ticks += ::read(timer, &n, sizeof n) == sizeof n ? n : 0;
            } else if (key == k_srv) {
                served += serve_ready(*srv);
            }
        }
    }
    std::fflush(stdout);
    int status = 0;
    ::waitpid(pid, &status, 0);
    std::printf("done: served %d requests, %s heartbeat ticks\n", served, ticks >= 1 ? "1+" : "0");
    ::close(timer);
    (void)ws.remove(k_srv);  // before the server goes (a WaitSet references its members)
    (void)ipckit::Service::remove(name);
    return served == 3 && ticks >= 1 && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string name =
        argc > 1 ? argv[1] : "example-wss-" + std::to_string(static_cast<long>(::getpid()));
    return run(name);
}
