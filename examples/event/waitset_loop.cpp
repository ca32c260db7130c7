// SPDX-License-Identifier: MIT
// One wait for a channel, a socket and a timer: the WaitSet.
//
//   example_waitset_loop [NAME]
//
// The parent creates chan:NAME (default "example-ws-<pid>"), a Unix socket pair and a 20 ms
// timerfd, and puts the subscriber, its socket end and the timer in one WaitSet. A forked child
// publishes three messages on the channel and writes one line to the socket. The parent's loop
// handles whatever is ready until it has the three messages, the line and three timer ticks.
// No helper thread: the child's publish rings the WaitSet's doorbell. The file is removed at
// the end.
#include "ipckit/channel/channel.hpp"
#include "ipckit/channel/publisher.hpp"
#include "ipckit/channel/subscriber.hpp"
#include "ipckit/event/wait_set.hpp"

#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <thread>

namespace {

using namespace std::chrono_literals;

int child(const std::string& name, int sock) {
    auto pub = ipckit::Publisher::open(name);
    if (!pub) {
        std::fprintf(stderr, "child: %s\n", pub.error().message().c_str());
        return 1;
    }
    for (int i = 1; i <= 3; ++i) {
        std::this_thread::sleep_for(30ms);
        const std::string text = "message " + std::to_string(i);
        if (auto r = pub->send(std::as_bytes(std::span(text.data(), text.size()))); !r) {
            std::fprintf(stderr, "child: %s\n", r.error().message().c_str());
            return 1;
        }
    }
    const char line[] = "hello over the socket";
    return ::write(sock, line, sizeof line - 1) == static_cast<ssize_t>(sizeof line - 1) ? 0 : 1;
}

struct Counts {
    int messages = 0;
    int lines = 0;
    std::uint64_t ticks = 0;
    [[nodiscard]] bool complete() const { return messages >= 3 && lines >= 1 && ticks >= 3; }
};

/// Everything the subscriber has (the WaitSet said "look", not "one message").
int drain_channel(ipckit::Subscriber& sub) {
    int n = 0;
    while (auto s = sub.try_receive()) {
        if (!*s) {
            break;
        }
        ++n;
        std::printf("channel: %.*s\n",
                    static_cast<int>((*s)->size()),
                    reinterpret_cast<const char*>((*s)->data()));  // NOLINT
    }
    return n;
}

int read_line(int fd) {
    char buf[64];
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) {
        return 0;
    }
    std::printf("socket: %.*s\n", static_cast<int>(n), buf);
    return 1;
}

std::uint64_t read_ticks(int timer) {
    std::uint64_t expirations = 0;
    return ::read(timer, &expirations, sizeof expirations) == sizeof expirations ? expirations : 0;
}

int run(const std::string& name) {
    ipckit::ChannelConfig config;
    config.max_message_size = 256;
    auto sub = ipckit::Subscriber::create(name, config);
    if (!sub) {
        std::fprintf(stderr, "%s\n", sub.error().message().c_str());
        return 1;
    }
    int sv[2];
    const int timer = ::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0 || timer < 0) {
        std::perror("socketpair/timerfd_create");
        return 1;
    }
    itimerspec every{};
    every.it_interval.tv_nsec = 20'000'000;
    every.it_value.tv_nsec = 20'000'000;
    (void)::timerfd_settime(timer, 0, &every, nullptr);

    auto ws = ipckit::WaitSet::create().value();
    const auto k_chan = ws.add(*sub).value();
    const auto k_sock = ws.add_fd(sv[0]).value();
    const auto k_timer = ws.add_fd(timer).value();

    const pid_t pid = ::fork();
    if (pid == 0) {
        ::_exit(child(name, sv[1]));
    }
    Counts got;
    const auto until = ipckit::Deadline::after(10s);
    while (!got.complete() && !until.expired()) {
        auto ready = ws.wait(until);
        if (!ready) {
            std::fprintf(stderr, "wait: %s\n", ready.error().message().c_str());
            break;
        }
        for (const auto key : *ready) {
            if (key == k_chan) {
                got.messages += drain_channel(*sub);
            } else if (key == k_sock) {
                got.lines += read_line(sv[0]);
            } else if (key == k_timer) {
                got.ticks += read_ticks(timer);
            }
        }
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    std::printf("done: %d messages, %d line, %s timer ticks\n",
                got.messages,
                got.lines,
                got.ticks >= 3 ? "3+" : std::to_string(got.ticks).c_str());
    (void)ws.remove(k_chan);
    ::close(sv[0]);
    ::close(sv[1]);
    ::close(timer);
    (void)ipckit::Channel::remove(name);
    const bool ok = got.messages == 3 && got.lines == 1 && got.ticks >= 3 && WIFEXITED(status) &&
                    WEXITSTATUS(status) == 0;
    return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string name =
        argc > 1 ? argv[1] : "example-ws-" + std::to_string(static_cast<long>(::getpid()));
    return run(name);
}
