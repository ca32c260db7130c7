// SPDX-License-Identifier: MIT
// The C++ side of the Python interop tests and of bench/python/: a publisher or a subscriber of
// numbered messages (the first 8 bytes of each are its sequence number, little-endian).
//
//   python_interop_peer recv NAME COUNT [go]   joins, prints "ready" (with `go`: then waits for a
//                                         line on stdin, so a benchmark can fill the channel
//                                         first), checks COUNT messages arrive in
//                                         order with none lost, prints "ok COUNT NS CPU_NS"
//                                         (elapsed and this thread's CPU time from the first
//                                         message to the last)
//   python_interop_peer send NAME COUNT SIZE   publishes COUNT messages of SIZE bytes (block mode
//                                         waits for the slowest subscriber), prints "done COUNT NS"
// Each wait has a 30 s deadline; exit 0 on success, 1 with the reason on stderr.
#include "ipckit/channel/publisher.hpp"
#include "ipckit/channel/subscriber.hpp"
#include "ipckit/core/units.hpp"

#include <time.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

namespace {

constexpr auto kWait = std::chrono::seconds(30);

std::uint64_t elapsed_ns(std::chrono::steady_clock::time_point since) {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                          std::chrono::steady_clock::now() - since)
                                          .count());
}

std::uint64_t cpu_ns() {
    timespec ts{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000U +
           static_cast<std::uint64_t>(ts.tv_nsec);
}

int receive(std::string_view name, std::uint64_t count, bool wait_for_go) {
    auto sub = ipckit::Subscriber::open(name);
    if (!sub) {
        std::fprintf(stderr, "peer: %s\n", sub.error().message().c_str());
        return 1;
    }
    std::puts("ready");
    std::fflush(stdout);
    if (wait_for_go) {
        char line[8];
        if (std::fgets(line, sizeof line, stdin) == nullptr) {
            std::fputs("peer: no go on stdin\n", stderr);
            return 1;
        }
    }
    auto start = std::chrono::steady_clock::now();
    std::uint64_t cpu_start = cpu_ns();
    for (std::uint64_t expected = 0; expected < count; ++expected) {
        auto got = sub->receive_for(kWait);
        if (!got) {
            std::fprintf(stderr, "peer: %s\n", got.error().message().c_str());
            return 1;
        }
        if (!*got) {
            std::fprintf(stderr,
                         "peer: timed out waiting for message %llu\n",
                         static_cast<unsigned long long>(expected));
            return 1;
        }
        const ipckit::Sample& s = **got;
        std::uint64_t seq = 0;
        if (s.size() < sizeof seq) {
            std::fprintf(stderr,
                         "peer: message %llu has %zu bytes\n",
                         static_cast<unsigned long long>(expected),
                         s.size());
            return 1;
        }
        std::memcpy(&seq, s.data(), sizeof seq);
        if (seq != expected || s.lost_before() != 0) {
            std::fprintf(stderr,
                         "peer: got message %llu (lost before: %llu), expected %llu\n",
                         static_cast<unsigned long long>(seq),
                         static_cast<unsigned long long>(s.lost_before()),
                         static_cast<unsigned long long>(expected));
            return 1;
        }
        if (expected == 0) {
            start = std::chrono::steady_clock::now();
            cpu_start = cpu_ns();
        }
    }
    if (sub->lost_count() != 0) {
        std::fprintf(
            stderr, "peer: lost %llu\n", static_cast<unsigned long long>(sub->lost_count()));
        return 1;
    }
    const std::uint64_t cpu = cpu_ns() - cpu_start;
    std::printf("ok %llu %llu %llu\n",
                static_cast<unsigned long long>(count),
                static_cast<unsigned long long>(elapsed_ns(start)),
                static_cast<unsigned long long>(cpu));
    return 0;
}

int send(std::string_view name, std::uint64_t count, std::size_t size) {
    auto pub = ipckit::Publisher::open(name);
    if (!pub) {
        std::fprintf(stderr, "peer: %s\n", pub.error().message().c_str());
        return 1;
    }
    const auto start = std::chrono::steady_clock::now();
    for (std::uint64_t seq = 0; seq < count; ++seq) {
        auto loan = pub->loan_for(size, kWait);
        if (!loan) {
            std::fprintf(stderr, "peer: %s\n", loan.error().message().c_str());
            return 1;
        }
        if (!*loan) {
            std::fprintf(stderr,
                         "peer: no space for message %llu within 30 s (blocked by %d)\n",
                         static_cast<unsigned long long>(seq),
                         static_cast<int>(pub->blocked_by()));
            return 1;
        }
        std::memcpy((**loan).data(), &seq, sizeof seq);
        if (auto r = pub->publish(std::move(**loan)); !r) {
            std::fprintf(stderr, "peer: %s\n", r.error().message().c_str());
            return 1;
        }
    }
    std::printf("done %llu %llu\n",
                static_cast<unsigned long long>(count),
                static_cast<unsigned long long>(elapsed_ns(start)));
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string_view mode = argc > 1 ? argv[1] : "";
    constexpr auto kMax = std::int64_t{1} << 40;
    const auto count = ipckit::parse_integer(argc > 3 ? argv[3] : "", 0, kMax);
    const bool go = argc == 5 && std::string_view(argv[4]) == "go";
    if (mode == "recv" && (argc == 4 || go) && count) {
        return receive(argv[2], static_cast<std::uint64_t>(*count), go);
    }
    const auto size = ipckit::parse_size(argc > 4 ? argv[4] : "", ipckit::kSizeBytes, 1ULL << 30);
    if (mode == "send" && argc == 5 && count && size && *size >= sizeof(std::uint64_t)) {
        return send(argv[2], static_cast<std::uint64_t>(*count), static_cast<std::size_t>(*size));
    }
    std::fputs("usage: python_interop_peer recv NAME COUNT [go] | send NAME COUNT SIZE\n", stderr);
    return 2;
}
