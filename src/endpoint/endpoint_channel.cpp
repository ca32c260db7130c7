// SPDX-License-Identifier: MIT
// Endpoints over the zero-copy channel: chan: as a Publisher (Sender) or a Subscriber (Receiver)
// with the copying API; chan:NAME?group=G receives as a GroupConsumer of work-queue group G.
#include "endpoint/endpoint_impl.hpp"
#include "ipckit/channel/channel.hpp"
#include "ipckit/channel/group_consumer.hpp"
#include "ipckit/channel/publisher.hpp"
#include "ipckit/channel/subscriber.hpp"

#include <algorithm>
#include <bit>
#include <utility>

namespace ipckit::detail {

namespace {

// A publisher or a subscriber with the copying API. A channel has pub/sub semantics: a subscriber
// starts at the head, so it only sees messages published after it joined.
class ChanImpl final : public Endpoint::Impl {
public:
    explicit ChanImpl(Publisher p) : pub_(std::move(p)) {}
    // The buffer starts small and grows to the largest message actually received: max_message_size
    // comes from the channel file and may be huge (nothing is allocated from it).
    explicit ChanImpl(Subscriber s)
        : sub_(std::move(s)), buf_(std::min(sub_->max_message_size(), kInitialReceiveBuffer)) {}

    Result<void> send(std::span<const std::byte> message, const SendOptions& options) override {
        if (!pub_) {
            return wrong_role(name, "chan send");
        }
        if (message.size() > pub_->max_message_size()) {
            return Error(std::errc::message_size,
                         "chan send",
                         name,
                         "message of " + std::to_string(message.size()) +
                             " bytes > the channel's max_message_size " +
                             std::to_string(pub_->max_message_size()));
        }
        IPCKIT_TRY_ASSIGN(auto sent, pub_->send_until(message, options.deadline));
        if (!sent) {
            const pid_t by = pub_->blocked_by();
            return Error(std::errc::timed_out,
                         "chan send",
                         name,
                         by != 0 ? "no space: held back by subscriber pid " + std::to_string(by)
                                 : std::string("no space before the deadline"));
        }
        return {};
    }

    Result<std::optional<EndpointMessage>> receive(Deadline deadline) override {
        if (!sub_) {
            return wrong_role(name, "chan receive");
        }
        IPCKIT_TRY_ASSIGN(auto got, sub_->receive_until(buf_, deadline));  // grows buf_
        if (!got) {
            return std::optional<EndpointMessage>();
        }
        EndpointMessage m;
        const auto n = static_cast<std::ptrdiff_t>(got->size);
        m.data.assign(buf_.begin(), buf_.begin() + n);
        m.lost = got->lost_before;
        return std::optional<EndpointMessage>(std::move(m));
    }

    [[nodiscard]] std::size_t max_message_size() const noexcept override {
        return pub_ ? pub_->max_message_size() : sub_->max_message_size();
    }

private:
    static constexpr std::size_t kInitialReceiveBuffer = std::size_t{64} * 1024;
    std::optional<Publisher> pub_;
    std::optional<Subscriber> sub_;
    std::vector<std::byte> buf_;
};

// One consumer of a work-queue group: each message goes to one member of the group. The copy
// is the acknowledgement (receive returns after the message was released).
class GroupImpl final : public Endpoint::Impl {
public:
    explicit GroupImpl(GroupConsumer g) : g_(std::move(g)) {}

    Result<void> send(std::span<const std::byte> /*message*/,
                      const SendOptions& /*options*/) override {
        return wrong_role(name, "chan send");
    }

    Result<std::optional<EndpointMessage>> receive(Deadline deadline) override {
        IPCKIT_TRY_ASSIGN(auto got, g_.receive_until(buf_, deadline));  // grows buf_
        if (!got) {
            return std::optional<EndpointMessage>();
        }
        EndpointMessage m;
        const auto n = static_cast<std::ptrdiff_t>(got->size);
        m.data.assign(buf_.begin(), buf_.begin() + n);
        return std::optional<EndpointMessage>(std::move(m));
    }

    [[nodiscard]] std::size_t max_message_size() const noexcept override {
        return g_.max_message_size();
    }

private:
    GroupConsumer g_;
    std::vector<std::byte> buf_;
};

/// Creation parameters from the URI: capacity is the lane size, msgsize the largest message.
/// A missing one is derived from the other (the lane must hold two largest messages).
ChannelConfig chan_config(const ChanUri& u, const ChannelOptions& copts, Permissions perms) {
    ChannelConfig c;
    c.options = copts;
    c.permissions = perms;
    c.policy = u.overwrite ? ChannelPolicy::Overwrite : ChannelPolicy::Block;
    constexpr std::size_t kRecordOverhead = 16;
    constexpr std::size_t kLargestLane = std::size_t{1} << 34;  // ChannelConfig::lane_bytes' cap
    if (u.max_message_size) {
        c.max_message_size = *u.max_message_size;
    } else if (u.capacity && *u.capacity / 2 > kRecordOverhead) {
        c.max_message_size = std::min(c.max_message_size, *u.capacity / 2 - kRecordOverhead);
    }
    if (u.capacity) {
        c.lane_bytes = *u.capacity;
    } else if (c.max_message_size <= kLargestLane / 2 - kRecordOverhead) {
        c.lane_bytes =
            std::max(c.lane_bytes, std::bit_ceil(2 * (c.max_message_size + kRecordOverhead)));
    }  // else: too large for any lane; Channel::create names the limit
    return c;
}

template <class Participant>
Result<Participant> open_participant(const ChanUri& u, const EndpointOptions& o) {
    ChannelOptions copts;
    copts.dir = u.dir.value_or(std::string());
    copts.ownership = o.ownership;
    auto p = Participant::open(u.name, copts);
    const bool create = o.create || u.create.create;
    if (!p && create && p.error().code() == std::errc::no_such_file_or_directory) {
        const Permissions perms = o.mode.value_or(u.create.mode.value_or(Permissions(0600)));
        p = Participant::create(u.name, chan_config(u, copts, perms));
        if (!p && p.error().code() == std::errc::file_exists) {
            p = Participant::open(u.name, copts);  // lost a creation race: join the winner's
        }
    }
    return p;
}

}  // namespace

/// A GroupConsumer of `u.group`; with create, the channel is created first if it is missing.
Result<EndpointImplPtr> open_group(const ChanUri& u, const EndpointOptions& o) {
    GroupOptions go;
    go.channel.dir = u.dir.value_or(std::string());
    go.channel.ownership = o.ownership;
    auto g = GroupConsumer::open(u.name, *u.group, go);
    const bool create = o.create || u.create.create;
    if (!g && create && g.error().code() == std::errc::no_such_file_or_directory) {
        const Permissions perms = o.mode.value_or(u.create.mode.value_or(Permissions(0600)));
        auto made = Channel::create(u.name, chan_config(u, go.channel, perms));
        if (!made && made.error().code() != std::errc::file_exists) {
            return std::move(made).error();  // else: lost a creation race, join the winner's
        }
        g = GroupConsumer::open(u.name, *u.group, go);
    }
    IPCKIT_TRY_ASSIGN(auto consumer, std::move(g));
    return EndpointImplPtr(std::make_unique<GroupImpl>(std::move(consumer)));
}

Result<EndpointImplPtr> open_chan(const ChanUri& u, EndpointRole role, const EndpointOptions& o) {
    if (role == EndpointRole::Receiver && u.group) {
        return open_group(u, o);
    }
    if (role == EndpointRole::Sender) {
        IPCKIT_TRY_ASSIGN(auto p, open_participant<Publisher>(u, o));
        return EndpointImplPtr(std::make_unique<ChanImpl>(std::move(p)));
    }
    IPCKIT_TRY_ASSIGN(auto s, open_participant<Subscriber>(u, o));
    return EndpointImplPtr(std::make_unique<ChanImpl>(std::move(s)));
}

}  // namespace ipckit::detail
