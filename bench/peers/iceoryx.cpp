// SPDX-License-Identifier: MIT
// Peer: Eclipse iceoryx 2.0 publish/subscribe (true zero-copy through RouDi-managed shared
// memory). Two topics, ping and pong; each child registers its own runtime after fork, loans a
// chunk, copies the message in and publishes; the receiver polls take(), copies out and releases
// (the same copy-in/copy-out contract every other row has). RouDi is started and stopped by the
// supervisor (roudi.cpp).
#include "engine/wait.hpp"
#include "iceoryx_hoofs/log/logmanager.hpp"
#include "iceoryx_posh/mepoo/chunk_header.hpp"
#include "iceoryx_posh/popo/untyped_publisher.hpp"
#include "iceoryx_posh/popo/untyped_subscriber.hpp"
#include "iceoryx_posh/runtime/posh_runtime.hpp"
#include "transports/registry.hpp"

#include <unistd.h>

#include <thread>
#include <vector>

namespace ipckit::bench {
namespace {

iox::capro::IdString_t id(const std::string& s) {
    return {iox::cxx::TruncateToCapacity, s.c_str()};
}

class Iceoryx final : public Transport {
public:
    Result<void> setup(const SetupParams& p) override {
        tag_ = p.tag;
        // Each application's Unix socket and lock file (iceoryx 2.0 keeps them in /tmp); a
        // killed child leaves them behind, so the supervisor removes them.
        for (const char* role : {"-leader", "-follower"}) {
            for (const char* suffix : {"", ".lock"}) {
                app_files_.push_back("/tmp/" + tag_ + role + suffix);
                ledger("path", app_files_.back());
            }
        }
        return {};
    }
    Result<void> attach(Role role, int /*peer_pid*/) override {
        const bool leader = role == Role::Leader;
        const std::string app = tag_ + (leader ? "-leader" : "-follower");
        // The runtime logs every registration at debug level; the bench's output is the table.
        iox::log::LogManager::GetLogManager().SetDefaultLogLevel(
            iox::log::LogLevel::kError, iox::log::LogLevelOutput::kHideLogLevel);
        iox::runtime::PoshRuntime::initRuntime(
            iox::RuntimeName_t(iox::cxx::TruncateToCapacity, app.c_str()));
        const std::string out = leader ? "ping" : "pong";
        const std::string in = leader ? "pong" : "ping";
        iox::popo::PublisherOptions po;
        po.historyCapacity = 0;
        iox::popo::SubscriberOptions so;
        so.queueCapacity = 256;
        publisher_ = std::make_unique<iox::popo::UntypedPublisher>(
            iox::capro::ServiceDescription{id("ipckit-bench"), id(tag_), id(out)}, po);
        subscriber_ = std::make_unique<iox::popo::UntypedSubscriber>(
            iox::capro::ServiceDescription{id("ipckit-bench"), id(tag_), id(in)}, so);
        while (subscriber_->getSubscriptionState() != iox::SubscribeState::SUBSCRIBED ||
               !publisher_->hasSubscribers()) {
            if (phase_deadline().expired()) {
                return timed_out("subscribe", "iceoryx " + tag_);
            }
            std::this_thread::sleep_for(std::chrono::microseconds(200));
        }
        return {};
    }
    Result<void> send(std::span<const std::byte> message) override {
        auto chunk = publisher_->loan(static_cast<std::uint32_t>(message.size()));
        if (chunk.has_error()) {
            return Error(std::errc::not_enough_memory,
                         "UntypedPublisher::loan",
                         "iceoryx " + tag_,
                         "no chunk of " + std::to_string(message.size()) +
                             " bytes in RouDi's memory pools (AllocationError " +
                             std::to_string(static_cast<int>(chunk.get_error())) + ")");
        }
        std::memcpy(chunk.value(), message.data(), message.size());
        publisher_->publish(chunk.value());
        return {};
    }
    Result<std::size_t> receive(std::span<std::byte> buffer) override {
        unsigned turns = 0;
        for (;;) {
            auto taken = subscriber_->take();
            if (!taken.has_error()) {
                const void* payload = taken.value();
                const std::size_t n =
                    iox::mepoo::ChunkHeader::fromUserPayload(payload)->userPayloadSize();
                if (n > buffer.size()) {
                    subscriber_->release(payload);
                    return Error(
                        std::errc::message_size, "UntypedSubscriber::take", "iceoryx " + tag_);
                }
                std::memcpy(buffer.data(), payload, n);
                subscriber_->release(payload);
                return n;
            }
            if (taken.get_error() != iox::popo::ChunkReceiveResult::NO_CHUNK_AVAILABLE) {
                return Error(
                    std::errc::io_error,
                    "UntypedSubscriber::take",
                    "iceoryx " + tag_,
                    "ChunkReceiveResult " + std::to_string(static_cast<int>(taken.get_error())));
            }
            __builtin_ia32_pause();
            if (++turns % 4096 == 0 && phase_deadline().expired()) {
                return timed_out("UntypedSubscriber::take", "iceoryx " + tag_);
            }
        }
    }
    void detach() noexcept override {
        subscriber_.reset();
        publisher_.reset();
    }
    void teardown() noexcept override {
        for (const auto& f : app_files_) {
            ::unlink(f.c_str());
        }
    }

private:
    std::string tag_;
    std::vector<std::string> app_files_;
    std::unique_ptr<iox::popo::UntypedPublisher> publisher_;
    std::unique_ptr<iox::popo::UntypedSubscriber> subscriber_;
};

}  // namespace

std::unique_ptr<Transport> make_iceoryx() {
    return std::make_unique<Iceoryx>();
}

}  // namespace ipckit::bench
