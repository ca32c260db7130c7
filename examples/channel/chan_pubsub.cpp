// SPDX-License-Identifier: MIT
// Zero-copy publish/subscribe between two processes over a named channel.
//
//   example_chan_pubsub [NAME]
//
// The parent creates chan:NAME (default "example-<pid>"), forks a subscriber, publishes five
// price ticks written straight into shared memory (loan -> fill -> publish), then a stop tick.
// The child prints what it receives. The channel file is removed at the end.
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "ipckit/channel/channel.hpp"
#include "ipckit/channel/publisher.hpp"
#include "ipckit/channel/subscriber.hpp"

namespace {

struct Tick {
    std::uint64_t seq;
    double price;
    bool stop;
};

int subscriber(const std::string& name, int ready_fd) {
    auto sub = ipckit::Subscriber::open(name);
    if (!sub) {
        std::fprintf(stderr, "subscriber: %s\n", sub.error().message().c_str());
        return 1;
    }
    (void)::write(ready_fd, "r", 1);  // joined: every tick published from now on reaches us
    ::close(ready_fd);
    for (;;) {
        auto sample = sub->receive_for(std::chrono::seconds(5));
        if (!sample || !*sample) {
            std::fprintf(stderr, "subscriber: %s\n",
                         sample ? "timed out" : sample.error().message().c_str());
            return 1;
        }
        auto tick = (*sample)->copy_as<Tick>();  // or read in place: (*sample)->data()
        if (!tick) {
            return 1;
        }
        if (tick->stop) {
            std::printf("subscriber: stop after %llu ticks\n",
                        static_cast<unsigned long long>(sub->received_count() - 1));
            std::fflush(stdout);  // the child leaves with _exit
            return 0;
        }
        std::printf("subscriber: tick %llu price %.2f\n", static_cast<unsigned long long>(tick->seq),
                    tick->price);
        std::fflush(stdout);
    }
}

}  // namespace

int main(int argc, char** argv) {
    const std::string name = argc > 1 ? argv[1] : "example-" + std::to_string(::getpid());
    ipckit::ChannelConfig config;  // block policy: lossless
    config.lane_bytes = std::size_t{64} * 1024;
    config.max_message_size = 1024;
    auto pub = ipckit::Publisher::create(name, config);
    if (!pub) {
        std::fprintf(stderr, "publisher: %s\n", pub.error().message().c_str());
        return 1;
    }
    int fds[2];
    if (::pipe(fds) != 0) {
        return 1;
    }
    std::fflush(stdout);
    const pid_t child = ::fork();
    if (child == 0) {
        ::close(fds[0]);
        ::_exit(subscriber(name, fds[1]));
    }
    ::close(fds[1]);
    char c = 0;
    (void)::read(fds[0], &c, 1);
    ::close(fds[0]);
    for (std::uint64_t i = 1; i <= 6; ++i) {
        auto loan = pub->loan(sizeof(Tick));
        if (!loan) {
            std::fprintf(stderr, "publisher: %s\n", loan.error().message().c_str());
            return 1;
        }
        *loan->as<Tick>() = Tick{i, 100.0 + static_cast<double>(i) / 4, i == 6};
        if (auto r = pub->publish(std::move(*loan)); !r) {
            std::fprintf(stderr, "publisher: %s\n", r.error().message().c_str());
            return 1;
        }
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    (void)ipckit::Channel::remove(name);
    std::printf("publisher: sent 5 ticks and a stop\n");
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
