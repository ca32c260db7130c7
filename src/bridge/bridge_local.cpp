// SPDX-License-Identifier: MIT
// The local half of a bridge: any message Endpoint, except chan:, which is opened as a Publisher
// and a Subscriber directly, because the bridge needs the publisher lane of what it receives and
// (with --both) the lane of its own publisher, to skip its own messages.
#include "bridge/bridge_side.hpp"
#include "ipckit/channel/channel.hpp"
#include "ipckit/channel/publisher.hpp"
#include "ipckit/channel/subscriber.hpp"
#include "ipckit/endpoint/endpoint.hpp"
#include "ipckit/message/posix_mq.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <string>
#include <utility>

namespace ipckit::detail {

namespace {

bool is_full(const Error& e) {
    return e.code() == std::errc::timed_out ||
           e.code() == std::errc::resource_unavailable_try_again;
}

/// A POSIX queue unlinked under the bridge goes on working through the descriptor it holds
/// (nobody can open it any more): a second descriptor of the same queue, opened right after the
/// endpoint, tells from st_nlink == 0 that the name is gone. Looked at before each send, and once
/// per wait slice while receiving.
class MqWatch {
public:
    static Result<std::optional<MqWatch>> open(const Uri& uri, Access access, const Ownership& o) {
        const auto* mq = uri.get_if<PosixMqUri>();
        if (mq == nullptr) {
            return std::optional<MqWatch>();
        }
        auto q = PosixMq::open(mq->name, access, o);
        if (!q) {
            if (q.error().code() == std::errc::no_such_file_or_directory) {
                return removed(uri.object_string());
            }
            return std::move(q).error();
        }
        return std::optional<MqWatch>(MqWatch(std::move(*q), uri.object_string()));
    }
    /// Error once the queue's name is gone. `every_call`: before each send (nothing goes into
    /// a removed queue); else at most one fstat per kStopSlice (a receiver).
    Result<void> check(bool every_call) {
        const auto now = std::chrono::steady_clock::now();
        if (!every_call && now - last_ < kStopSlice) {
            return {};
        }
        last_ = now;
        struct stat st {};
        if (::fstat(q_.native_handle(), &st) == 0 && st.st_nlink == 0) {
            return removed(name_);
        }
        return {};
    }

private:
    MqWatch(PosixMq q, std::string name) : q_(std::move(q)), name_(std::move(name)) {}
    static Error removed(const std::string& name) {
        return {std::errc::identifier_removed,
                "mq",
                name,
                "the queue was removed (unlinked) while the bridge used it"};
    }
    PosixMq q_;
    std::string name_;
    std::chrono::steady_clock::time_point last_{};
};

class EndpointSource final : public Source {
public:
    EndpointSource(Endpoint ep, std::optional<MqWatch> watch)
        : ep_(std::move(ep)), watch_(std::move(watch)) {}
    Result<bool> receive(Relayed& out, Deadline deadline) override {
        IPCKIT_TRY_ASSIGN(auto m, ep_.receive(deadline));
        if (watch_) {
            IPCKIT_TRY(watch_->check(false));
        }
        if (!m) {
            return false;
        }
        out.data = std::move(m->data);
        out.meta = {};
        out.meta.priority = m->priority;
        out.meta.type = m->type;
        if (m->credentials) {
            out.meta.pid = m->credentials->pid;
        } else if (m->sender_pid) {
            out.meta.pid = m->sender_pid;
        }
        return true;
    }

private:
    Endpoint ep_;
    std::optional<MqWatch> watch_;
};

class EndpointSink final : public Sink {
public:
    EndpointSink(Endpoint ep, std::optional<MqWatch> watch)
        : ep_(std::move(ep)), watch_(std::move(watch)) {}
    Result<bool> send(const Relayed& m, Deadline deadline) override {
        if (watch_) {
            IPCKIT_TRY(watch_->check(true));
        }
        SendOptions o;
        o.priority = m.meta.priority;
        o.type = m.meta.type;
        o.deadline = deadline;
        auto sent = ep_.send(m.data, o);
        if (!sent) {
            if (is_full(sent.error())) {
                return false;
            }
            return std::move(sent).error();
        }
        return true;
    }
    [[nodiscard]] const std::string& name() const noexcept override { return ep_.name(); }

private:
    Endpoint ep_;
    std::optional<MqWatch> watch_;
};

/// The channel's Subscriber; skips what the bridge's own publisher (lane `own_lane`) wrote.
class ChanSource final : public Source {
public:
    ChanSource(Subscriber s,
               std::optional<std::uint32_t> own_lane,
               BridgeShared& shared,
               std::string name)
        : sub_(std::move(s)), own_lane_(own_lane), shared_(shared), name_(std::move(name)) {}
    Result<bool> receive(Relayed& out, Deadline deadline) override {
        for (;;) {
            IPCKIT_TRY_ASSIGN(auto got, sub_.receive_until(out.data, deadline));
            if (!got) {
                return false;
            }
            if (got->lost_before > 0) {  // lapped (overwrite policy) or a publisher died
                shared_.add_gaps(direction, got->lost_before);
                shared_.report(name_ + ": " + std::to_string(got->lost_before) +
                               " message(s) lost in the channel before the bridge read them");
            }
            if (own_lane_ && got->publisher == *own_lane_) {
                continue;  // delivered by this bridge: never sent back
            }
            out.data.resize(got->size);  // shrinking keeps the capacity for the next one
            out.meta = {};
            out.meta.lane = got->publisher;
            return true;
        }
    }

private:
    Subscriber sub_;
    std::optional<std::uint32_t> own_lane_;
    BridgeShared& shared_;
    std::string name_;
};

class ChanSink final : public Sink {
public:
    ChanSink(Publisher p, std::string name) : pub_(std::move(p)), name_(std::move(name)) {}
    Result<bool> send(const Relayed& m, Deadline deadline) override {
        if (m.data.size() > pub_.max_message_size()) {
            return Error(std::errc::message_size,
                         "chan send",
                         name_,
                         "message of " + std::to_string(m.data.size()) +
                             " bytes > the channel's max_message_size " +
                             std::to_string(pub_.max_message_size()));
        }
        return pub_.send_until(m.data, deadline);
    }
    [[nodiscard]] const std::string& name() const noexcept override { return name_; }
    [[nodiscard]] bool uses_meta() const noexcept override { return false; }
    [[nodiscard]] std::uint32_t lane() const noexcept { return pub_.lane(); }
    [[nodiscard]] std::optional<DeliveryMark> mark() const override {
        return DeliveryMark{pub_.lane(), ::getpid(), pub_.published_count()};
    }

private:
    Publisher pub_;
    std::string name_;
};

EndpointOptions endpoint_options(const BridgeOptions& o) {
    EndpointOptions eo;
    eo.create = o.create;
    eo.mode = o.mode;
    eo.ownership = o.ownership;
    eo.deadline = Deadline::after(std::chrono::seconds(5));
    return eo;
}

/// Opens a participant of the channel; with `create`, a missing channel is first created the
/// way Endpoint creates one (from the URI's capacity/msgsize/policy).
template <class Participant>
Result<Participant> open_chan_participant(const Uri& uri, const BridgeOptions& o) {
    const auto& u = *uri.get_if<ChanUri>();
    ChannelOptions copts;
    copts.dir = u.dir.value_or(std::string());
    copts.ownership = o.ownership;
    auto p = Participant::open(u.name, copts);
    if (!p && p.error().code() == std::errc::no_such_file_or_directory &&
        (o.create || u.create.create)) {
        EndpointOptions eo = endpoint_options(o);
        eo.create = true;
        IPCKIT_TRY(Endpoint::open(uri, EndpointRole::Sender, eo));  // creates it, then goes
        p = Participant::open(u.name, copts);
    }
    return p;
}

}  // namespace

Result<void> recover_pending_delivery(const std::string& state_file,
                                      const ChanUri& sink,
                                      BridgeShared& shared) {
    IPCKIT_TRY_ASSIGN(StateFile state, StateFile::open(state_file));
    if (!state.pending()) {
        return {};
    }
    const PendingDelivery p = *state.pending();
    ChannelOptions copts;
    copts.dir = sink.dir.value_or(std::string());
    copts.ownership = shared.options.ownership;
    IPCKIT_TRY_ASSIGN(const ChannelInfo info, Channel::inspect(sink.name, copts));
    for (const ChannelParticipantInfo& pub : info.publishers) {
        if (pub.index == p.mark.lane && pub.pid == p.mark.pid && !pub.alive) {
            // The killed bridge's own record, untouched since: its count tells.
            return state.store(pub.messages > p.mark.published ? p.seq : state.last().value_or(0));
        }
    }
    shared.report("chan:" + sink.name + ": cannot tell whether stream message " +
                  std::to_string(p.seq) + " reached the channel before the bridge stopped (lane " +
                  std::to_string(p.mark.lane) +
                  " was taken over): JetStream delivers it again, so it may arrive twice");
    return state.store(state.last().value_or(0));
}

Result<LocalSide> open_local(const Uri& uri,
                             bool want_source,
                             bool want_sink,
                             BridgeShared& shared) {
    LocalSide side;
    const std::string name = uri.object_string();
    if (uri.scheme() == UriScheme::Chan) {
        std::optional<std::uint32_t> own_lane;
        if (want_sink) {
            IPCKIT_TRY_ASSIGN(Publisher p, open_chan_participant<Publisher>(uri, shared.options));
            own_lane = p.lane();
            side.sink = std::make_unique<ChanSink>(std::move(p), name);
        }
        if (want_source) {
            IPCKIT_TRY_ASSIGN(Subscriber s, open_chan_participant<Subscriber>(uri, shared.options));
            side.source = std::make_unique<ChanSource>(std::move(s), own_lane, shared, name);
        }
        return side;
    }
    const EndpointOptions eo = endpoint_options(shared.options);
    if (want_sink) {
        IPCKIT_TRY_ASSIGN(Endpoint ep, Endpoint::open(uri, EndpointRole::Sender, eo));
        IPCKIT_TRY_ASSIGN(auto watch, MqWatch::open(uri, Access::WriteOnly, eo.ownership));
        side.sink = std::make_unique<EndpointSink>(std::move(ep), std::move(watch));
    }
    if (want_source) {
        IPCKIT_TRY_ASSIGN(Endpoint ep, Endpoint::open(uri, EndpointRole::Receiver, eo));
        IPCKIT_TRY_ASSIGN(auto watch, MqWatch::open(uri, Access::ReadOnly, eo.ownership));
        side.source = std::make_unique<EndpointSource>(std::move(ep), std::move(watch));
    }
    return side;
}

}  // namespace ipckit::detail
