// SPDX-License-Identifier: MIT
// Endpoint over core NATS through libnats: nats://HOST:PORT/SUBJECT (docs/design/bridge.md). A
// Sender publishes (with its pid in the Ipckit header) and flushes, so a returned send means the
// server has the message; a Receiver subscribes (wildcards allowed) and waits with NextMsg.
#include "endpoint/endpoint_impl.hpp"
#include "endpoint/nats_meta.hpp"
#include "endpoint/nats_support.hpp"
#include "ipckit/core/units.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdint>
#include <memory>
#include <nats/nats.h>
#include <string>
#include <string_view>
#include <utility>

namespace ipckit::detail {

namespace {

/// The connect timeout when the open has no deadline: a server that does not answer in this long
/// is not coming.
constexpr std::chrono::milliseconds kDefaultConnectTimeout{5000};
/// NextMsg/Flush take a timeout in ms; a never-deadline waits in slices of this.
constexpr std::int64_t kWaitSliceMs = 1000;

/// The milliseconds left before `d`, at least 1 (libnats refuses 0), at most one slice when
/// `d` is never (the caller loops).
std::int64_t wait_ms(Deadline d) {
    if (d.is_never()) {
        return kWaitSliceMs;
    }
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d.remaining()).count();
    return std::max<std::int64_t>(ms, 1);
}

/// Flushes (a PING/PONG round trip: the server has processed everything sent before).
Result<void> flush(natsConnection* conn, Deadline deadline, const std::string& object) {
    for (;;) {
        const natsStatus s = natsConnection_FlushTimeout(conn, wait_ms(deadline));
        if (s == NATS_OK) {
            return {};
        }
        if (s != NATS_TIMEOUT || !deadline.is_never()) {
            return nats_error(s, "nats flush", object);
        }
    }
}

/// The bytes the header block takes on the wire: "NATS/1.0\r\n" "Ipckit: p=PID\r\n" "\r\n".
std::size_t header_block_size(const std::string& value) {
    return std::string_view("NATS/1.0\r\n").size() + std::string_view(kNatsMetaHeader).size() + 2 +
           value.size() + 2 + 2;
}

class NatsImpl final : public Endpoint::Impl {
public:
    NatsImpl(NatsPtr<natsConnection> conn,
             NatsPtr<natsSubscription> sub,
             std::string subject,
             std::string url)
        : conn_(std::move(conn))
        , sub_(std::move(sub))
        , subject_(std::move(subject))
        , url_(std::move(url))
        , max_payload_(static_cast<std::size_t>(
              std::max<std::int64_t>(natsConnection_GetMaxPayload(conn_.get()), 0)))
        , headers_(natsConnection_HasHeaderSupport(conn_.get()) == NATS_OK)
        , meta_("p=" + std::to_string(::getpid()))
        , header_size_(headers_ ? header_block_size(meta_) : 0) {}

    Result<void> send(std::span<const std::byte> message, const SendOptions& o) override {
        if (sub_) {
            return wrong_role(url_, "send");
        }
        if (message.size() > max_message_size()) {
            return Error(std::errc::message_size,
                         "nats publish",
                         url_,
                         "message is " + std::to_string(message.size()) +
                             " bytes; the server's max_payload is " + std::to_string(max_payload_) +
                             " (" + std::to_string(header_size_) +
                             " of them for the Ipckit header)");
        }
        natsMsg* raw = nullptr;
        natsStatus s = natsMsg_Create(&raw,
                                      subject_.c_str(),
                                      nullptr,
                                      reinterpret_cast<const char*>(message.data()),
                                      static_cast<int>(message.size()));
        if (s != NATS_OK) {
            return nats_error(s, "nats publish", url_);
        }
        const NatsPtr<natsMsg> msg(raw);
        if (headers_) {
            s = natsMsgHeader_Set(msg.get(), kNatsMetaHeader, meta_.c_str());
            if (s != NATS_OK) {
                return nats_error(s, "nats publish", url_);
            }
        }
        s = natsConnection_PublishMsg(conn_.get(), msg.get());
        if (s != NATS_OK) {
            return nats_error(s, "nats publish", url_);
        }
        return flush(conn_.get(), o.deadline, url_);
    }

    Result<std::optional<EndpointMessage>> receive(Deadline deadline) override {
        if (!sub_) {
            return wrong_role(url_, "receive");
        }
        natsMsg* raw = nullptr;
        for (;;) {
            const natsStatus s = natsSubscription_NextMsg(&raw, sub_.get(), wait_ms(deadline));
            if (s == NATS_OK) {
                break;
            }
            if (s != NATS_TIMEOUT) {
                return nats_error(s, "nats receive", url_);
            }
            if (!deadline.is_never()) {
                return std::optional<EndpointMessage>();
            }
        }
        const NatsPtr<natsMsg> msg(raw);
        EndpointMessage m;
        const auto* data = reinterpret_cast<const std::byte*>(natsMsg_GetData(msg.get()));
        const int len = natsMsg_GetDataLength(msg.get());
        if (data != nullptr && len > 0) {
            m.data.assign(data, data + len);
        }
        m.subject = natsMsg_GetSubject(msg.get());
        // The sender's pid; what a bridge carried from an mq or a SysV queue too
        // (src/bridge/bridge_nats.cpp).
        const char* value = nullptr;
        if (natsMsgHeader_Get(msg.get(), kNatsMetaHeader, &value) == NATS_OK && value != nullptr) {
            const NatsMeta meta = parse_nats_meta(value);
            m.sender_pid = meta.pid;
            m.priority = meta.priority;
            m.type = meta.type;
        }
        return std::optional<EndpointMessage>(std::move(m));
    }

    /// The server's max_payload counts the header block too; libnats takes an int length.
    [[nodiscard]] std::size_t max_message_size() const noexcept override {
        const std::size_t room = max_payload_ > header_size_ ? max_payload_ - header_size_ : 0;
        return std::min<std::size_t>(room, INT_MAX);
    }

private:
    NatsPtr<natsConnection> conn_;
    NatsPtr<natsSubscription> sub_;  // set on a Receiver
    std::string subject_;
    std::string url_;
    std::size_t max_payload_;
    bool headers_;
    std::string meta_;  ///< the Ipckit header: "p=PID"
    std::size_t header_size_;
};

bool has_wildcard(const std::string& subject) {
    return subject.find_first_of("*>") != std::string::npos;
}

}  // namespace

Result<EndpointImplPtr> open_nats(const NatsUri& u, EndpointRole role, const EndpointOptions& o) {
    const std::string server =
        nats_server_url(u);
    const std::string url = server + "/" + u.subject;
    if (role == EndpointRole::Sender && has_wildcard(u.subject)) {
        return Error(std::errc::invalid_argument,
                     "open",
                     url,
                     "wildcards ('*', '>') are only for receiving; publish on a concrete subject");
    }
    natsOptions* raw_opts = nullptr;
    natsStatus s = natsOptions_Create(&raw_opts);
    if (s != NATS_OK) {
        return nats_error(s, "nats connect", url);
    }
    const NatsPtr<natsOptions> opts(raw_opts);
    const std::int64_t connect_ms =
        o.deadline.is_never()
            ? kDefaultConnectTimeout.count()
            : std::max<std::int64_t>(
                  std::chrono::duration_cast<std::chrono::milliseconds>(o.deadline.remaining())
                      .count(),
                  1);
    s = natsOptions_SetURL(opts.get(), server.c_str());
    if (s == NATS_OK) {
        s = natsOptions_SetTimeout(opts.get(), connect_ms);
    }
    if (s == NATS_OK) {
        s = natsOptions_SetAllowReconnect(opts.get(), false);  // reconnect: a later slice
    }
    if (s != NATS_OK) {
        return nats_error(s, "nats connect", url);
    }
    natsConnection* raw_conn = nullptr;
    s = natsConnection_Connect(&raw_conn, opts.get());
    if (s != NATS_OK) {
        return nats_error(s, "nats connect", url);
    }
    NatsPtr<natsConnection> conn(raw_conn);
    NatsPtr<natsSubscription> sub;
    if (role == EndpointRole::Receiver) {
        natsSubscription* raw_sub = nullptr;
        s = natsConnection_SubscribeSync(&raw_sub, conn.get(), u.subject.c_str());
        if (s != NATS_OK) {
            return nats_error(s, "nats subscribe", url);
        }
        sub.reset(raw_sub);
        // Once open returns, the server has the subscription: what is published next arrives.
        IPCKIT_TRY(
            flush(conn.get(),
                  o.deadline.is_never() ? Deadline::after(kDefaultConnectTimeout) : o.deadline,
                  url));
    }
    return EndpointImplPtr(
        std::make_unique<NatsImpl>(std::move(conn), std::move(sub), u.subject, url));
}

}  // namespace ipckit::detail
