// SPDX-License-Identifier: MIT
// ipckit's work queue: a channel consumed by a group (GroupConsumer, chan:NAME?group=G), the row
// beside ZeroMQ PUSH/PULL. The same shape as zmq-pushpull: one pipeline each way ("<tag>-ab"
// leader to follower, "<tag>-ba" back), each with one publisher and a group of one consumer, so
// every message pays the group's claim (a CAS and an entry) and its acknowledgement on release,
// and the row compares with the plain channel-block row (a subscriber, no claim) as well.
//
// send() loans, copies in and publishes; receive() takes a GroupSample (a view into the ring),
// copies it out and releases it (the acknowledgement): the copy-in/copy-out every row pays. Waits
// are the channel's own (adaptive spin, then a futex sleep), as in channel-block and as a
// blocking PULL. The files live in $IPCKIT_SHM_DIR or /dev/shm; teardown() removes them.
#include "engine/wait.hpp"
#include "ipckit/channel/channel.hpp"
#include "ipckit/channel/group_consumer.hpp"
#include "ipckit/channel/publisher.hpp"
#include "transports/registry.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <thread>

namespace ipckit::bench {
namespace {

constexpr const char* kGroup = "workers";

class ChannelGroupTransport final : public Transport {
public:
    Result<void> setup(const SetupParams& p) override {
        ChannelConfig c;
        c.policy = ChannelPolicy::Block;  // groups need it: a claimed record must not be reused
        c.max_message_size = std::max<std::size_t>(p.max_message_size, 64);
        c.lane_bytes = std::max<std::size_t>(std::size_t{256} * 1024,
                                             std::bit_ceil(4 * (c.max_message_size + 64)));
        c.max_publishers = 1;
        c.max_subscribers = 1;
        c.max_loans = 1;
        c.max_groups = 1;
        c.max_group_members = 2;  // the consumer, and room for a restarted one
        const char* dir = std::getenv("IPCKIT_SHM_DIR");  // NOLINT(concurrency-mt-unsafe)
        const std::string base = dir != nullptr && *dir != '\0' ? dir : "/dev/shm";
        for (std::size_t d = 0; d < 2; ++d) {
            names_.at(d) = p.tag + (d == 0 ? "-ab" : "-ba");
            IPCKIT_TRY(Channel::create(names_.at(d), c));
            created_.at(d) = true;
            ledger("path", base + "/" + names_.at(d) + ".chan");
        }
        return {};
    }

    Result<void> attach(Role role, int /*peer_pid*/) override {
        const std::size_t out = role == Role::Leader ? 0 : 1;
        // Join first, then wait until the peer's consumer is in the group of our outgoing
        // channel: a group with no live consumer starts at the tail, so an early message would
        // not be held for it.
        IPCKIT_TRY_ASSIGN(auto consumer, GroupConsumer::open(names_.at(1 - out), kGroup));
        consumer_.emplace(std::move(consumer));
        IPCKIT_TRY_ASSIGN(auto pub, Publisher::open(names_.at(out)));
        publisher_.emplace(std::move(pub));
        for (;;) {
            IPCKIT_TRY_ASSIGN(const auto info, Channel::inspect(names_.at(out)));
            if (std::any_of(info.groups.begin(), info.groups.end(), [](const ChannelGroupInfo& g) {
                    return g.name == kGroup && g.consumers > 0;
                })) {
                return {};
            }
            if (phase_deadline().expired()) {
                return timed_out("wait for the peer's group consumer on", names_.at(out));
            }
            std::this_thread::sleep_for(std::chrono::microseconds(50));
        }
    }

    Result<void> send(std::span<const std::byte> message) override {
        IPCKIT_TRY_ASSIGN(auto loan, publisher_->loan_until(message.size(), phase_deadline()));
        if (!loan) {
            return timed_out("loan", names_[0]);
        }
        std::memcpy(loan->data(), message.data(), message.size());
        return publisher_->publish(std::move(*loan));
    }

    Result<std::size_t> receive(std::span<std::byte> buffer) override {
        IPCKIT_TRY_ASSIGN(auto sample, consumer_->receive_until(phase_deadline()));
        if (!sample) {
            return timed_out("receive", names_[0]);
        }
        const std::size_t n = sample->size();
        if (n > buffer.size()) {
            return Error(std::errc::message_size,
                         "receive",
                         names_[0],
                         "message of " + std::to_string(n) + " bytes exceeds the buffer");
        }
        std::memcpy(buffer.data(), sample->data(), n);
        sample->release();  // the acknowledgement
        return n;
    }

    void detach() noexcept override {
        publisher_.reset();
        consumer_.reset();
    }

    void teardown() noexcept override {
        for (std::size_t d = 0; d < 2; ++d) {
            if (created_.at(d)) {
                (void)Channel::remove(names_.at(d));
                created_.at(d) = false;
            }
        }
    }

private:
    std::array<std::string, 2> names_;
    std::array<bool, 2> created_{false, false};
    std::optional<Publisher> publisher_;
    std::optional<GroupConsumer> consumer_;
};

}  // namespace

std::unique_ptr<Transport> make_channel_group() {
    return std::make_unique<ChannelGroupTransport>();
}

}  // namespace ipckit::bench
