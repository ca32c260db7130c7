// SPDX-License-Identifier: MIT
// C API overhead: one 64 B zero-copy publish + receive + release on a channel through the C API
// (include/ipckit/ipckit.h) against the same calls on the C++ API, same process, same channel
// geometry, the path that never blocks (deadline 0 / try_*). The target is at most 1.05x.
// Registered as "<Name>/raw" (the C++ call, the floor here) and "<Name>/ipckit" (the C API) so
// wrapper_overhead.cpp's table prints the ratio.
#include "ipckit/channel/channel.hpp"
#include "ipckit/channel/publisher.hpp"
#include "ipckit/channel/subscriber.hpp"
#include "ipckit/ipckit.h"

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>

#include <benchmark/benchmark.h>

namespace {

constexpr std::size_t kPayload = 64;

std::string channel_name(const char* tag) {
    return "ipckit-bench-capi-" + std::to_string(::getpid()) + "-" + tag;
}

ipckit::ChannelConfig bench_config() {
    ipckit::ChannelConfig c;
    c.max_message_size = 1024;
    c.lane_bytes = std::size_t{64} * 1024;
    return c;
}

void channel_cpp(benchmark::State& state) {
    const std::string name = channel_name("cpp");
    (void)ipckit::Channel::remove(name);
    auto pub = ipckit::Publisher::create(name, bench_config());
    auto sub =
        pub ? ipckit::Subscriber::open(name) : ipckit::Result<ipckit::Subscriber>(pub.error());
    if (!pub || !sub) {
        state.SkipWithError("cannot create the channel");
        (void)ipckit::Channel::remove(name);
        return;
    }
    std::uint64_t seq = 0;
    for ([[maybe_unused]] auto _ : state) {
        auto loan = pub->try_loan(kPayload);
        if (!loan || !*loan) {
            state.SkipWithError("loan failed");
            break;
        }
        std::memcpy((*loan)->data(), &seq, sizeof seq);
        if (!pub->publish(std::move(**loan))) {
            state.SkipWithError("publish failed");
            break;
        }
        auto sample = sub->try_receive();
        if (!sample || !*sample) {
            state.SkipWithError("receive failed");
            break;
        }
        benchmark::DoNotOptimize((*sample)->data());
        sub->release(std::move(**sample));
        ++seq;
    }
    (void)ipckit::Channel::remove(name);
}

void channel_c(benchmark::State& state) {
    const std::string name = channel_name("c");
    (void)ipckit_channel_remove(name.c_str(), nullptr, nullptr);
    const ipckit::ChannelConfig d = bench_config();
    ipckit_channel_config c{};
    ipckit_channel_config_init(&c);
    c.max_message_size = d.max_message_size;
    c.lane_bytes = d.lane_bytes;
    ipckit_publisher pub{};
    ipckit_subscriber sub{};
    if (ipckit_publisher_create(name.c_str(), &c, &pub, nullptr) != IPCKIT_OK ||
        ipckit_subscriber_open(name.c_str(), nullptr, &sub, nullptr) != IPCKIT_OK) {
        state.SkipWithError("cannot create the channel");
        (void)ipckit_publisher_close(pub, nullptr);
        (void)ipckit_channel_remove(name.c_str(), nullptr, nullptr);
        return;
    }
    std::uint64_t seq = 0;
    for ([[maybe_unused]] auto _ : state) {
        ipckit_loan loan{};
        if (ipckit_publisher_loan(pub, kPayload, 0, &loan, nullptr) != IPCKIT_OK) {
            state.SkipWithError("loan failed");
            break;
        }
        std::memcpy(loan.data, &seq, sizeof seq);
        if (ipckit_publisher_publish(pub, &loan, kPayload, nullptr) != IPCKIT_OK) {
            state.SkipWithError("publish failed");
            break;
        }
        ipckit_sample sample{};
        if (ipckit_subscriber_receive(sub, 0, &sample, nullptr) != IPCKIT_OK) {
            state.SkipWithError("receive failed");
            break;
        }
        benchmark::DoNotOptimize(sample.data);
        (void)ipckit_subscriber_release(sub, &sample, nullptr);
        ++seq;
    }
    (void)ipckit_subscriber_close(sub, nullptr);
    (void)ipckit_publisher_close(pub, nullptr);
    (void)ipckit_channel_remove(name.c_str(), nullptr, nullptr);
}

}  // namespace

BENCHMARK(channel_cpp)->Name("ChannelPubRecvCApi/raw");
BENCHMARK(channel_c)->Name("ChannelPubRecvCApi/ipckit");
