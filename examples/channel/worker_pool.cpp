// SPDX-License-Identifier: MIT
// A worker pool on a channel: one publisher, N workers in a work-queue group, each job done by
// exactly one worker.
//
//   example_worker_pool [NAME] [WORKERS]
//
// The parent creates chan:NAME (default "example-<pid>"), forks WORKERS (default 3) processes
// that join the group "workers", publishes 30 jobs (a number to square) and then one stop job
// per worker. Each worker takes jobs until it gets a stop; the result goes back through a pipe.
// The parent prints how many jobs each worker did and checks that the sum of squares is right.
#include "ipckit/channel/channel.hpp"
#include "ipckit/channel/group_consumer.hpp"
#include "ipckit/channel/publisher.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>
#include <vector>

namespace {

constexpr std::uint64_t kJobs = 30;
constexpr std::uint64_t kStop = ~std::uint64_t{0};

struct Report {
    std::uint64_t jobs;
    std::uint64_t sum;
};

int worker(const std::string& name, int ready_fd, int result_fd) {
    auto group = ipckit::GroupConsumer::open(name, "workers");
    if (!group) {
        std::fprintf(stderr, "worker: %s\n", group.error().message().c_str());
        return 1;
    }
    (void)::write(ready_fd, "r", 1);  // joined: jobs published from now on reach the group
    ::close(ready_fd);
    Report report{0, 0};
    for (;;) {
        auto job = group->receive_for(std::chrono::seconds(10));
        if (!job || !*job) {
            std::fprintf(stderr, "worker: %s\n", job ? "timed out" : job.error().message().c_str());
            return 1;
        }
        std::uint64_t n = 0;
        if ((*job)->size() != sizeof n) {
            return 1;
        }
        std::memcpy(&n, (*job)->data(), sizeof n);
        if (n == kStop) {
            break;  // (the stop job is acknowledged when `job` goes out of scope)
        }
        report.sum += n * n;  // the work, on the bytes in shared memory
        ++report.jobs;
    }
    (void)::write(result_fd, &report, sizeof report);
    return 0;
}

std::vector<pid_t> spawn_workers(const std::string& name,
                                 int workers,
                                 const int (&ready)[2],
                                 const int (&results)[2]) {
    std::fflush(stdout);
    std::vector<pid_t> children;
    for (int w = 0; w < workers; ++w) {
        const pid_t child = ::fork();
        if (child == 0) {
            ::close(ready[0]);
            ::close(results[0]);
            ::_exit(worker(name, ready[1], results[1]));
        }
        children.push_back(child);
    }
    return children;
}

/// Jobs 1..30, then one stop job per worker (each worker takes exactly one stop).
bool publish_jobs(ipckit::Publisher& pub, int workers) {
    for (std::uint64_t i = 1; i <= kJobs + static_cast<std::uint64_t>(workers); ++i) {
        const std::uint64_t n = i <= kJobs ? i : kStop;
        if (auto r = pub.send(std::as_bytes(std::span(&n, 1))); !r) {
            std::fprintf(stderr, "publisher: %s\n", r.error().message().c_str());
            return false;
        }
    }
    return true;
}

bool reap(const std::vector<pid_t>& children) {
    bool ok = true;
    for (pid_t child : children) {
        int status = 0;
        ::waitpid(child, &status, 0);
        ok = ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }
    return ok;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string name = argc > 1 ? argv[1] : "example-" + std::to_string(::getpid());
    const int workers = argc > 2 ? static_cast<int>(std::strtol(argv[2], nullptr, 10)) : 3;
    if (workers < 1 || workers > 8) {
        std::fprintf(stderr, "usage: example_worker_pool [NAME] [WORKERS 1..8]\n");
        return 2;
    }
    ipckit::ChannelConfig config;  // block policy: the publisher waits for the slowest group
    config.lane_bytes = std::size_t{64} * 1024;
    config.max_message_size = 64;
    if (auto c = ipckit::Channel::create(name, config); !c) {
        std::fprintf(stderr, "publisher: %s\n", c.error().message().c_str());
        return 1;
    }
    int ready[2];
    int results[2];
    if (::pipe(ready) != 0 || ::pipe(results) != 0) {
        return 1;
    }
    const std::vector<pid_t> children = spawn_workers(name, workers, ready, results);
    ::close(ready[1]);
    ::close(results[1]);
    auto pub = ipckit::Publisher::open(name);  // after fork: participants are per process
    if (!pub) {
        std::fprintf(stderr, "publisher: %s\n", pub.error().message().c_str());
        return 1;
    }
    for (int w = 0; w < workers; ++w) {
        char c = 0;
        if (::read(ready[0], &c, 1) != 1) {
            std::fprintf(stderr, "publisher: a worker failed to join\n");
            return 1;
        }
    }
    if (!publish_jobs(*pub, workers)) {
        return 1;
    }
    std::uint64_t jobs = 0;
    std::uint64_t sum = 0;
    Report r{};
    int w = 0;
    while (::read(results[0], &r, sizeof r) == static_cast<ssize_t>(sizeof r)) {
        std::printf("worker %d: %llu jobs\n", w++, static_cast<unsigned long long>(r.jobs));
        jobs += r.jobs;
        sum += r.sum;
    }
    const bool ok = reap(children);
    (void)ipckit::Channel::remove(name);
    const std::uint64_t want = kJobs * (kJobs + 1) * (2 * kJobs + 1) / 6;  // 1^2 + ... + 30^2
    std::printf("publisher: %llu jobs done, sum of squares %llu (%s)\n",
                static_cast<unsigned long long>(jobs),
                static_cast<unsigned long long>(sum),
                sum == want && jobs == kJobs ? "correct" : "WRONG");
    return ok && sum == want && jobs == kJobs ? 0 : 1;
}
