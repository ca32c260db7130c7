// SPDX-License-Identifier: MIT
// ipckit's own zero-copy channel (include/ipckit/channel/), the mechanism the rest of the table
// is the yardstick for. Two channels, one per direction ("<tag>-ab" leader to follower, "<tag>-ba"
// back), each with one publisher and one subscriber: the fastest shape the design offers (one
// lane, one cursor, no fan-out) and the same shape as the shm slot rows and iceoryx's ping/pong.
//
// send() loans message.size() bytes straight in the ring, copies the message in and publishes;
// receive() takes a Sample (a view into the ring), bounds-checks it, copies it out and releases
// it. That is the copy-in/copy-out every other row pays, so the rows compare like with like.
//
// Two waiting styles:
//   channel-spin   both sides poll try_loan/try_receive with `pause` (never sleep): compare with
//                  the busy-spin floor.
//   channel-block  the channel's own waits: an adaptive spin (ChannelOptions::spin_polls, default
//                  256) then a futex sleep: compare with the raw futex floor.
//
// The files live in $IPCKIT_SHM_DIR or /dev/shm (the channel's own default) as NAME.chan; the
// ledger records their paths and teardown() removes them, also after a crash or Ctrl-C.
#include "ipckit/channel/channel.hpp"

#include "engine/wait.hpp"
#include "ipckit/channel/publisher.hpp"
#include "ipckit/channel/subscriber.hpp"
#include "transports/registry.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <thread>

namespace ipckit::bench {
namespace {

class ChannelTransport final : public Transport {
public:
    explicit ChannelTransport(bool spin) : spin_(spin) {}

    Result<void> setup(const SetupParams& p) override {
        ChannelConfig c;
        c.policy = ChannelPolicy::Block;  // lossless: every message must arrive, in order
        c.max_message_size = std::max<std::size_t>(p.max_message_size, 64);
        // Room for several records of the largest message (a power of two, as the layout wants),
        // so one-way throughput is not throttled by the ring after every message.
        c.lane_bytes =
            std::max<std::size_t>(std::size_t{256} * 1024, std::bit_ceil(4 * (c.max_message_size + 64)));
        c.max_publishers = 1;
        c.max_subscribers = 1;
        c.max_loans = 1;
        const char* dir = std::getenv("IPCKIT_SHM_DIR");
        const std::string base = dir != nullptr && *dir != '\0' ? dir : "/dev/shm";
        for (int d = 0; d < 2; ++d) {
            names_.at(static_cast<std::size_t>(d)) = p.tag + (d == 0 ? "-ab" : "-ba");
            IPCKIT_TRY(Channel::create(names_.at(static_cast<std::size_t>(d)), c));
            created_.at(static_cast<std::size_t>(d)) = true;
            ledger("path", base + "/" + names_.at(static_cast<std::size_t>(d)) + ".chan");
        }
        return {};
    }

    Result<void> attach(Role role, int /*peer_pid*/) override {
        const int out = role == Role::Leader ? 0 : 1;
        ChannelOptions o;
        if (spin_) {
            o.spin_polls = 0;  // never used: the spin row polls the try_ calls itself
        }
        // Subscribe first, then wait until the peer has subscribed to our outgoing channel: a
        // subscriber that joins late starts at the head, so an early message would be missed.
        IPCKIT_TRY_ASSIGN(auto sub,
                          Subscriber::open(names_.at(static_cast<std::size_t>(1 - out)), o));
        subscriber_.emplace(std::move(sub));
        IPCKIT_TRY_ASSIGN(auto pub, Publisher::open(names_.at(static_cast<std::size_t>(out)), o));
        publisher_.emplace(std::move(pub));
        for (;;) {
            IPCKIT_TRY_ASSIGN(const auto info,
                              Channel::inspect(names_.at(static_cast<std::size_t>(out))));
            if (std::any_of(info.subscribers.begin(),
                            info.subscribers.end(),
                            [](const ChannelParticipantInfo& s) { return s.alive; })) {
                return {};
            }
            if (phase_deadline().expired()) {
                return timed_out("wait for the peer's subscriber on",
                                 names_.at(static_cast<std::size_t>(out)));
            }
            std::this_thread::sleep_for(std::chrono::microseconds(50));
        }
    }

    Result<void> send(std::span<const std::byte> message) override {
        IPCKIT_TRY_ASSIGN(auto loan, take_loan(message.size()));
        std::memcpy(loan.data(), message.data(), message.size());
        return publisher_->publish(std::move(loan));
    }

    Result<std::size_t> receive(std::span<std::byte> buffer) override {
        IPCKIT_TRY_ASSIGN(auto sample, take_sample());
        const std::size_t n = sample.size();
        if (n > buffer.size()) {
            return Error(std::errc::message_size,
                         "receive",
                         names_[0],
                         "sample of " + std::to_string(n) + " bytes exceeds the buffer");
        }
        std::memcpy(buffer.data(), sample.data(), n);
        subscriber_->release(std::move(sample));
        return n;
    }

    void detach() noexcept override {
        publisher_.reset();
        subscriber_.reset();
    }

    void teardown() noexcept override {
        for (int d = 0; d < 2; ++d) {
            if (created_.at(static_cast<std::size_t>(d))) {
                (void)Channel::remove(names_.at(static_cast<std::size_t>(d)));
                created_.at(static_cast<std::size_t>(d)) = false;
            }
        }
    }

private:
    Result<Loan> take_loan(std::size_t n) {
        if (!spin_) {
            IPCKIT_TRY_ASSIGN(auto loan, publisher_->loan_until(n, phase_deadline()));
            if (!loan) {
                return timed_out("loan", names_[0]);
            }
            return std::move(*loan);
        }
        for (unsigned turns = 1;; ++turns) {
            IPCKIT_TRY_ASSIGN(auto loan, publisher_->try_loan(n));
            if (loan) {
                return std::move(*loan);
            }
            __builtin_ia32_pause();
            if (turns % 4096 == 0 && phase_deadline().expired()) {
                return timed_out("loan", names_[0]);
            }
        }
    }

    Result<Sample> take_sample() {
        if (!spin_) {
            IPCKIT_TRY_ASSIGN(auto sample, subscriber_->receive_until(phase_deadline()));
            if (!sample) {
                return timed_out("receive", names_[0]);
            }
            return std::move(*sample);
        }
        for (unsigned turns = 1;; ++turns) {
            IPCKIT_TRY_ASSIGN(auto sample, subscriber_->try_receive());
            if (sample) {
                return std::move(*sample);
            }
            __builtin_ia32_pause();
            if (turns % 4096 == 0 && phase_deadline().expired()) {
                return timed_out("receive", names_[0]);
            }
        }
    }

    bool spin_;
    std::array<std::string, 2> names_;
    std::array<bool, 2> created_{false, false};
    std::optional<Publisher> publisher_;
    std::optional<Subscriber> subscriber_;
};

}  // namespace

std::unique_ptr<Transport> make_channel_spin() {
    return std::make_unique<ChannelTransport>(true);
}

std::unique_ptr<Transport> make_channel_block() {
    return std::make_unique<ChannelTransport>(false);
}

}  // namespace ipckit::bench
