// SPDX-License-Identifier: MIT
// The NATS half of a bridge over libnats: one connection (reconnecting with exponential backoff,
// no echo of its own publications), a publishing Sink that stamps origin, sequence and the
// metadata into one Ipckit header (endpoint/nats_meta.hpp), and a subscribing Source that restores
// the metadata and counts the sequence numbers that never arrived (docs/design/bridge.md).
#include "bridge/bridge_side.hpp"
#include "bridge/state_file.hpp"
#include "endpoint/nats_meta.hpp"
#include "endpoint/nats_support.hpp"
#include "ipckit/core/unique_fd.hpp"
#include "ipckit/core/units.hpp"
#include "sys/syscall.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <nats/nats.h>
#include <random>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>

namespace ipckit::detail {

namespace {

/// One connect attempt's TCP/handshake timeout.
constexpr std::int64_t kAttemptTimeoutMs = 2000;
/// A receiving bridge remembers this many origins for gap counting; beyond it starts afresh
/// (a hostile publisher cannot make it allocate more).
constexpr std::size_t kMaxOrigins = 4096;

/// A random 64-bit id in hex: tells this bridge's messages from every other's.
std::string random_origin() {
    std::random_device rd;
    const std::uint64_t v = (std::uint64_t{rd()} << 32U) ^ rd();
    static constexpr std::string_view kDigits = "0123456789abcdef";
    std::string s(16, '0');
    for (std::size_t i = 0; i < s.size(); ++i) {
        s[s.size() - 1 - i] = kDigits[(v >> (4 * i)) & 0xfU];
    }
    return s;
}

/// The fields of `m`'s Ipckit header (all empty without one); only origin and sequence unless
/// `all` (the sink restores the rest).
NatsMeta meta_of(natsMsg* m, bool all) {
    const char* v = nullptr;
    if (natsMsgHeader_Get(m, kNatsMetaHeader, &v) != NATS_OK || v == nullptr) {
        return {};
    }
    return parse_nats_meta(v, !all);
}

}  // namespace

class NatsLink {
public:
    NatsLink(BridgeShared& shared, std::string server)
        : shared_(shared), server_(std::move(server)), origin_(random_origin()) {}
    NatsLink(const NatsLink&) = delete;
    NatsLink& operator=(const NatsLink&) = delete;
    NatsLink(NatsLink&&) = delete;
    NatsLink& operator=(NatsLink&&) = delete;
    ~NatsLink() {
        if (conn_ == nullptr) {
            return;
        }
        // libnats runs the closed callback on its own thread, possibly after Destroy returned:
        // close first and wait for it, so it never sees a destroyed link.
        natsConnection_Close(conn_);
        std::unique_lock lock(mu_);
        cv_.wait_for(lock, std::chrono::seconds(2), [this] { return closed_; });
        lock.unlock();
        natsConnection_Destroy(conn_);
    }

    Result<void> connect() {
        natsOptions* raw = nullptr;
        natsStatus s = natsOptions_Create(&raw);
        if (s != NATS_OK) {
            return nats_error(s, "nats connect", server_);
        }
        const NatsPtr<natsOptions> opts(raw);
        const BridgeOptions& o = shared_.options;
        s = natsOptions_SetURL(opts.get(), server_.c_str());
        if (s == NATS_OK) {
            s = natsOptions_SetTimeout(opts.get(), kAttemptTimeoutMs);
        }
        // 0: one attempt and no reconnect (libnats, given MaxReconnect 0 with RetryOnFailedConnect,
        // retried the connect for ever).
        const bool retry = o.max_retries != 0;
        if (s == NATS_OK) {
            s = natsOptions_SetAllowReconnect(opts.get(), retry);
        }
        if (s == NATS_OK && retry) {
            s = natsOptions_SetMaxReconnect(opts.get(), o.max_retries < 0 ? -1 : o.max_retries);
        }
        if (s == NATS_OK) {  // the first wait; on_delay doubles it per attempt
            s = natsOptions_SetReconnectWait(opts.get(),
                                             std::max<std::int64_t>(o.retry_wait.count(), 1));
        }
        if (s == NATS_OK) {
            s = natsOptions_SetCustomReconnectDelay(opts.get(), &NatsLink::on_delay, this);
        }
        if (s == NATS_OK) {  // Connect itself retries (blocking) with the same policy
            s = natsOptions_SetRetryOnFailedConnect(opts.get(), retry, nullptr, nullptr);
        }
        if (s == NATS_OK) {  // --both: what this connection publishes is not delivered back to it
            s = natsOptions_SetNoEcho(opts.get(), true);
        }
        if (s == NATS_OK && o.low_latency) {  // a write per publish instead of batching
            s = natsOptions_SetSendAsap(opts.get(), true);
        }
        if (s == NATS_OK) {
            s = natsOptions_SetDisconnectedCB(opts.get(), &NatsLink::on_disconnected, this);
        }
        if (s == NATS_OK) {
            s = natsOptions_SetReconnectedCB(opts.get(), &NatsLink::on_reconnected, this);
        }
        if (s == NATS_OK) {
            s = natsOptions_SetClosedCB(opts.get(), &NatsLink::on_closed, this);
        }
        if (s != NATS_OK) {
            return nats_error(s, "nats connect", server_);
        }
        s = natsConnection_Connect(&conn_, opts.get());
        if (s == NATS_NO_SERVER) {
            conn_ = nullptr;
            return Error(std::errc::connection_refused,
                         "nats connect",
                         server_,
                         "no server answered (is nats-server running there?); gave up after " +
                             attempts_text() + " with backoff");
        }
        if (s != NATS_OK) {
            conn_ = nullptr;
            return nats_error(s, "nats connect", server_);
        }
        return {};
    }

    /// Why the connection is gone, for an error once libnats has given up.
    [[nodiscard]] std::string closed_reason() const {
        return "the connection to the server was lost and " + attempts_text() +
               " to reconnect failed";
    }
    [[nodiscard]] std::string attempts_text() const {
        const int n = shared_.options.max_retries;
        return n < 0 ? std::string("retrying for ever") : std::to_string(n) + " retries";
    }

    [[nodiscard]] natsConnection* conn() const noexcept { return conn_; }
    [[nodiscard]] const std::string& origin() const noexcept { return origin_; }
    [[nodiscard]] const std::string& server() const noexcept { return server_; }
    BridgeShared& shared() noexcept { return shared_; }

private:
    static std::int64_t on_delay(natsConnection* /*nc*/, int attempts, void* closure) {
        const auto* self = static_cast<NatsLink*>(closure);
        const BridgeOptions& o = self->shared_.options;
        std::int64_t ms = std::max<std::int64_t>(o.retry_wait.count(), 1);
        for (int i = 1; i < attempts && ms < o.max_retry_wait.count(); ++i) {
            ms *= 2;
        }
        return std::min<std::int64_t>(ms, std::max<std::int64_t>(o.max_retry_wait.count(), 1));
    }
    static void on_disconnected(natsConnection* /*nc*/, void* closure) {
        auto* self = static_cast<NatsLink*>(closure);
        if (!self->shared_.stop) {
            self->shared_.report(self->server_ + ": disconnected; reconnecting with backoff (" +
                                 self->attempts_text() + ")");
        }
    }
    static void on_reconnected(natsConnection* /*nc*/, void* closure) {
        auto* self = static_cast<NatsLink*>(closure);
        ++self->shared_.reconnects;
        self->shared_.report(self->server_ + ": reconnected");
    }
    static void on_closed(natsConnection* /*nc*/, void* closure) {
        auto* self = static_cast<NatsLink*>(closure);
        const std::lock_guard lock(self->mu_);
        self->closed_ = true;
        self->cv_.notify_all();
    }

    BridgeShared& shared_;
    std::string server_;
    std::string origin_;
    natsConnection* conn_ = nullptr;
    std::mutex mu_;
    std::condition_variable cv_;
    bool closed_ = false;
};

void NatsLinkDeleter::operator()(NatsLink* p) const noexcept {
    delete p;  // NOLINT(cppcoreguidelines-owning-memory): the deleter of NatsLinkPtr
}

namespace {

/// The NATS message of `m` on `subject` with the bridge's Ipckit header (origin, seq, pid and
/// the metadata; `own_pid`: "p=PID;" when the source tells none). `extra_header_bytes`: what
/// JetStream adds (Nats-Msg-Id, ...). `value`: the sink's buffer for the header's text, reused
/// so that no message allocates one. A message that would exceed the server's max_payload is
/// errc::message_size naming both sizes.
Result<NatsPtr<natsMsg>> make_message(const NatsLink& link,
                                      const std::string& subject,
                                      const std::string& url,
                                      const Relayed& m,
                                      std::uint64_t seq,
                                      const std::string& own_pid,
                                      std::size_t extra_header_bytes,
                                      std::string& value) {
    natsMsg* raw = nullptr;
    natsStatus s = natsMsg_Create(&raw,
                                  subject.c_str(),
                                  nullptr,
                                  reinterpret_cast<const char*>(m.data.data()),
                                  static_cast<int>(std::min<std::size_t>(m.data.size(), INT_MAX)));
    if (s != NATS_OK) {
        return nats_error(s, "nats publish", url);
    }
    NatsPtr<natsMsg> msg(raw);
    value.clear();  // keeps its capacity
    value += "o=";
    value += link.origin();
    value += ';';
    append_nats_field(value, 's', seq);
    if (m.meta.pid) {
        append_nats_field(value, 'p', static_cast<std::uint64_t>(*m.meta.pid));
    } else {
        value += own_pid;
    }
    if (m.meta.priority) {
        append_nats_field(value, 'P', *m.meta.priority);
    }
    if (m.meta.type) {
        append_nats_field(value, 't', static_cast<std::uint64_t>(*m.meta.type));
    }
    if (m.meta.lane) {
        append_nats_field(value, 'l', *m.meta.lane);
    }
    value.pop_back();  // the last ';'
    const std::size_t header_bytes = std::string_view("NATS/1.0\r\n\r\n").size() +
                                     extra_header_bytes + std::string_view(kNatsMetaHeader).size() +
                                     2 + value.size() + 2;
    s = natsMsgHeader_Set(msg.get(), kNatsMetaHeader, value.c_str());
    if (s != NATS_OK) {
        return nats_error(s, "nats publish", url);
    }
    const auto max_payload = natsConnection_GetMaxPayload(link.conn());
    if (m.data.size() > INT_MAX ||
        (max_payload > 0 &&
         m.data.size() + header_bytes > static_cast<std::uint64_t>(max_payload))) {
        return Error(std::errc::message_size,
                     "nats publish",
                     url,
                     "message is " + std::to_string(m.data.size()) + " bytes (+" +
                         std::to_string(header_bytes) +
                         " of headers); the server's max_payload is " +
                         std::to_string(max_payload));
    }
    return msg;
}

/// The payload of `m` into `out`, and with `meta` (its parsed Ipckit header) the metadata.
/// Without it none is set: a channel sink restores none.
void parse_message(natsMsg* m, const NatsMeta* meta, Relayed& out) {
    const auto* data = reinterpret_cast<const std::byte*>(natsMsg_GetData(m));
    const int len = natsMsg_GetDataLength(m);
    if (data != nullptr && len > 0) {
        out.data.assign(data, data + len);
    } else {
        out.data.clear();
    }
    out.meta = {};
    if (meta == nullptr) {
        return;
    }
    out.meta.priority = meta->priority;
    out.meta.type = meta->type;
    out.meta.lane = meta->lane;
    out.meta.pid = meta->pid;
}

/// Origin ids looked up by string_view (no std::string per message).
struct OriginHash {
    using is_transparent = void;  // NOLINT(readability-identifier-naming): the standard's name
    std::size_t operator()(std::string_view s) const noexcept {
        return std::hash<std::string_view>{}(s);
    }
};

class NatsSink final : public Sink {
public:
    NatsSink(NatsLink& link, std::string subject, std::string url)
        : link_(link)
        , subject_(std::move(subject))
        , url_(std::move(url))
        , own_pid_("p=" + std::to_string(::getpid()) + ";") {}

    Result<bool> send(const Relayed& m, Deadline /*deadline*/) override {
        IPCKIT_TRY_ASSIGN(
            const NatsPtr<natsMsg> msg,
            make_message(link_, subject_, url_, m, seq_ + 1, own_pid_, {}, header_value_));
        const natsStatus s = natsConnection_PublishMsg(link_.conn(), msg.get());
        if (s == NATS_INSUFFICIENT_BUFFER) {
            return false;  // disconnected and the reconnect buffer is full: the far side is full
        }
        if (s == NATS_CONNECTION_CLOSED) {
            return Error(std::errc::not_connected, "nats publish", url_, link_.closed_reason());
        }
        if (s != NATS_OK) {
            return nats_error(s, "nats publish", url_);
        }
        ++seq_;
        return true;
    }

    Result<void> flush() override {
        const natsStatus s = natsConnection_FlushTimeout(link_.conn(), 5000);
        if (s != NATS_OK) {
            return nats_error(s, "nats flush", url_);
        }
        return {};
    }

    [[nodiscard]] bool buffers() const noexcept override {
        return !link_.shared().options.low_latency;  // SendAsap writes each publish itself
    }

    /// libnats writes its buffer itself only after about a millisecond (its flusher thread
    /// waits for more) or when it is full; a flush writes it at once, with a PING whose PONG it
    /// then awaits. So the flush runs on this sink's own thread: the pump goes back to its
    /// source at once. Errors are left to the next publish (a lost connection is retried by
    /// libnats, a closed one ends it there).
    Result<void> idle() override {
        {
            const std::lock_guard lock(flush_mu_);
            flush_wanted_ = true;
        }
        flush_cv_.notify_one();
        return {};
    }

    [[nodiscard]] const std::string& name() const noexcept override { return url_; }

private:
    /// How long the flusher waits for the server's PONG (the data is written before).
    static constexpr std::int64_t kIdleFlushWaitMs = 100;

    void flusher(const std::stop_token& stop) {
        std::unique_lock lock(flush_mu_);
        for (;;) {
            flush_cv_.wait(lock, stop, [this] { return flush_wanted_; });
            if (stop.stop_requested()) {
                return;
            }
            flush_wanted_ = false;
            lock.unlock();
            (void)natsConnection_FlushTimeout(link_.conn(), kIdleFlushWaitMs);
            lock.lock();
        }
    }

    NatsLink& link_;
    std::string subject_;
    std::string url_;
    std::string own_pid_;
    std::string header_value_;  // the Ipckit header's text, reused per message
    std::uint64_t seq_ = 0;
    std::mutex flush_mu_;
    std::condition_variable_any flush_cv_;
    bool flush_wanted_ = false;
    std::jthread flush_thread_{[this](const std::stop_token& st) { flusher(st); }};  // last
};

class NatsSource final : public Source {
public:
    NatsSource(NatsLink& link, natsSubscription* sub, std::string url)
        : link_(link), sub_(sub), url_(std::move(url)) {}

    Result<bool> receive(Relayed& out, Deadline deadline) override {
        for (;;) {
            natsMsg* raw = nullptr;
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline.remaining()).count();
            const natsStatus s =
                natsSubscription_NextMsg(&raw, sub_.get(), std::max<std::int64_t>(left, 1));
            if (s == NATS_TIMEOUT) {
                count_dropped();
                return false;
            }
            if (s == NATS_SLOW_CONSUMER) {  // libnats dropped some: count them, go on
                count_dropped();
                continue;
            }
            if (s == NATS_CONNECTION_CLOSED) {
                return Error(std::errc::not_connected, "nats receive", url_, link_.closed_reason());
            }
            if (s != NATS_OK) {
                return nats_error(s, "nats receive", url_);
            }
            const NatsPtr<natsMsg> msg(raw);
            if (take(msg.get(), out)) {
                return true;
            }
        }
    }

    void want_meta(bool wanted) override { want_meta_ = wanted; }

private:
    /// The message into `out`; false for one of this bridge's own (never echoed).
    bool take(natsMsg* m, Relayed& out) {
        const NatsMeta meta = meta_of(m, want_meta_);
        if (!meta.origin.empty()) {
            if (meta.origin == link_.origin()) {
                return false;
            }
            if (meta.seq) {
                count_gap(meta.origin, *meta.seq);
            }
        }
        parse_message(m, want_meta_ ? &meta : nullptr, out);
        ++received_;
        if (received_ % 1024 == 0) {
            count_dropped();
        }
        return true;
    }

    /// The first message of an origin sets its baseline; later ones must follow on.
    void count_gap(std::string_view origin, std::uint64_t seq) {
        auto it = last_seq_.find(origin);
        if (it == last_seq_.end()) {
            if (last_seq_.size() >= kMaxOrigins) {
                last_seq_.clear();
            }
            last_seq_.emplace(origin, seq);
            return;
        }
        if (seq > it->second + 1) {
            const std::uint64_t missing = seq - it->second - 1;
            link_.shared().add_gaps(direction, missing);
            link_.shared().report(url_ + ": " + std::to_string(missing) +
                                  " message(s) missing from publisher " + std::string(origin) +
                                  " (seq " + std::to_string(it->second + 1) + ".." +
                                  std::to_string(seq - 1) + "): lost by core NATS (at most once)");
        }
        it->second = std::max(it->second, seq);
    }

    /// libnats' count of messages it dropped for us (slow consumer) into the bridge's drops.
    void count_dropped() {
        std::int64_t n = 0;
        if (natsSubscription_GetDropped(sub_.get(), &n) == NATS_OK && n > dropped_seen_) {
            const auto more = static_cast<std::uint64_t>(n - dropped_seen_);
            dropped_seen_ = n;
            link_.shared().add_dropped(direction, more);
            link_.shared().report(url_ + ": " + std::to_string(more) +
                                  " message(s) dropped by the NATS client: the local side was "
                                  "too slow (slow consumer)");
        }
    }

    NatsLink& link_;
    NatsPtr<natsSubscription> sub_;
    std::string url_;
    std::unordered_map<std::string, std::uint64_t, OriginHash, std::equal_to<>> last_seq_;
    std::uint64_t received_ = 0;
    std::int64_t dropped_seen_ = 0;
    bool want_meta_ = true;
};

// ---- JetStream

struct JsDeleter {
    void operator()(jsCtx* p) const noexcept { jsCtx_Destroy(p); }
    void operator()(jsStreamInfo* p) const noexcept { jsStreamInfo_Destroy(p); }
    void operator()(jsConsumerInfo* p) const noexcept { jsConsumerInfo_Destroy(p); }
    void operator()(jsPubAck* p) const noexcept { jsPubAck_Destroy(p); }
    void operator()(jsMsgMetaData* p) const noexcept { jsMsgMetaData_Destroy(p); }
};
template <typename T>
using JsPtr = std::unique_ptr<T, JsDeleter>;

/// How long a JetStream publish waits for the stream's ack before it is retried.
constexpr std::int64_t kPublishAckWaitMs = 2000;
/// Messages one pull fetches.
constexpr int kFetchBatch = 64;

/// The JetStream context, after checking that `stream` exists (a clear error otherwise).
Result<JsPtr<jsCtx>> open_stream(NatsLink& link,
                                 const std::string& stream,
                                 const std::string& url) {
    jsCtx* raw = nullptr;
    natsStatus s = natsConnection_JetStream(&raw, link.conn(), nullptr);
    if (s != NATS_OK) {
        return nats_error(s, "jetstream", url);
    }
    JsPtr<jsCtx> js(raw);
    jsStreamInfo* si = nullptr;
    jsErrCode jerr{};
    s = js_GetStreamInfo(&si, js.get(), stream.c_str(), nullptr, &jerr);
    const JsPtr<jsStreamInfo> info(si);
    if (s == NATS_NOT_FOUND) {
        return Error(std::errc::no_such_file_or_directory,
                     "jetstream",
                     url,
                     "the stream '" + stream +
                         "' does not exist on the server (create it first, with subjects that "
                         "cover the subject)");
    }
    if (s != NATS_OK) {
        return nats_error(s, "jetstream stream info", url);
    }
    return js;
}

class JsSink final : public Sink {
public:
    JsSink(
        NatsLink& link, JsPtr<jsCtx> js, std::string subject, std::string url, std::string stream)
        : link_(link)
        , js_(std::move(js))
        , subject_(std::move(subject))
        , url_(std::move(url))
        , stream_(std::move(stream))
        , own_pid_("p=" + std::to_string(::getpid()) + ";") {}

    /// Waits for the stream's ack. Not acked in time: false (the pump retries with the same
    /// Nats-Msg-Id, which the stream de-duplicates).
    Result<bool> send(const Relayed& m, Deadline /*deadline*/) override {
        const std::string id = link_.origin() + "-" + std::to_string(seq_ + 1);
        const std::size_t extra = std::string_view("Nats-Msg-Id: \r\n").size() + id.size() +
                                  std::string_view("Nats-Expected-Stream: \r\n").size() +
                                  stream_.size();
        IPCKIT_TRY_ASSIGN(
            const NatsPtr<natsMsg> msg,
            make_message(link_, subject_, url_, m, seq_ + 1, own_pid_, extra, header_value_));
        jsPubOptions o;
        jsPubOptions_Init(&o);
        o.MsgId = id.c_str();
        o.ExpectStream = stream_.c_str();
        o.MaxWait = kPublishAckWaitMs;
        jsPubAck* raw_ack = nullptr;
        jsErrCode jerr{};
        const natsStatus s = js_PublishMsg(&raw_ack, js_.get(), msg.get(), &o, &jerr);
        const JsPtr<jsPubAck> ack(raw_ack);
        if (s == NATS_TIMEOUT || s == NATS_CONNECTION_DISCONNECTED) {
            return false;
        }
        if (s == NATS_CONNECTION_CLOSED) {
            return Error(
                std::errc::not_connected, "jetstream publish", url_, link_.closed_reason());
        }
        if (s == NATS_NO_RESPONDERS) {
            return Error(
                std::errc::no_such_file_or_directory,
                "jetstream publish",
                url_,
                "no stream stores this subject (is it in the subjects of '" + stream_ + "'?)");
        }
        if (s != NATS_OK) {
            return nats_error(s, "jetstream publish", url_);
        }
        ++seq_;
        return true;
    }

    [[nodiscard]] const std::string& name() const noexcept override { return url_; }

private:
    NatsLink& link_;
    JsPtr<jsCtx> js_;
    std::string subject_;
    std::string url_;
    std::string stream_;
    std::string own_pid_;
    std::string header_value_;  // the Ipckit header's text, reused per message
    std::uint64_t seq_ = 0;
};

class JsSource final : public Source {
public:
    JsSource(NatsLink& link,
             JsPtr<jsCtx> js,
             natsSubscription* sub,
             std::string url,
             std::optional<StateFile> state)
        : link_(link)
        , js_(std::move(js))
        , sub_(sub)
        , url_(std::move(url))
        , state_(std::move(state)) {
        if (state_) {
            last_ = state_->last().value_or(0);
        }
    }
    JsSource(const JsSource&) = delete;
    JsSource& operator=(const JsSource&) = delete;
    JsSource(JsSource&&) = delete;
    JsSource& operator=(JsSource&&) = delete;
    ~JsSource() override {
        natsMsgList_Destroy(&batch_);  // unacked: JetStream delivers them again
    }

    Result<bool> receive(Relayed& out, Deadline deadline) override {
        for (;;) {
            while (next_ < batch_.Count) {
                NatsPtr<natsMsg> m(batch_.Msgs[next_]);
                batch_.Msgs[next_++] = nullptr;
                jsMsgMetaData* raw_meta = nullptr;
                if (natsMsg_GetMetaData(&raw_meta, m.get()) != NATS_OK) {
                    continue;  // not a JetStream message: nothing to relay or ack
                }
                const JsPtr<jsMsgMetaData> meta(raw_meta);
                const std::uint64_t seq = meta->Sequence.Stream;
                const NatsMeta fields = meta_of(m.get(), want_meta_);
                const bool own = fields.origin == link_.origin();
                if (seq <= last_ || own) {  // delivered before a restart, or --both's own: ack
                    (void)natsMsg_Ack(m.get(), nullptr);
                    continue;
                }
                current_ = std::move(m);
                current_seq_ = seq;
                parse_message(current_.get(), want_meta_ ? &fields : nullptr, out);
                return true;
            }
            natsMsgList_Destroy(&batch_);
            batch_ = {};
            next_ = 0;
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline.remaining()).count();
            jsErrCode jerr{};
            const natsStatus s = natsSubscription_Fetch(
                &batch_, sub_.get(), kFetchBatch, std::max<std::int64_t>(left, 1), &jerr);
            if (s == NATS_TIMEOUT || s == NATS_CONNECTION_DISCONNECTED) {
                return false;  // nothing yet, or reconnecting
            }
            if (s == NATS_CONNECTION_CLOSED) {
                return Error(
                    std::errc::not_connected, "jetstream fetch", url_, link_.closed_reason());
            }
            if (s != NATS_OK) {
                return nats_error(s, "jetstream fetch", url_);
            }
        }
    }

    /// About to deliver into a sink that can tell afterwards whether it did (a channel): the
    /// write-ahead mark, so a restart after a kill right after the send does not send it again.
    Result<void> delivering(const std::optional<DeliveryMark>& mark) override {
        if (state_ && current_ && mark) {
            IPCKIT_TRY(state_->store_pending(current_seq_, *mark));
        }
        return {};
    }

    /// Delivered locally: record it, then ack (a crash between the two re-delivers it, and the
    /// state file makes the restarted bridge skip it).
    Result<void> settled() override {
        if (!current_) {
            return {};
        }
        if (state_) {
            IPCKIT_TRY(state_->store(current_seq_));
        }
        last_ = std::max(last_, current_seq_);
        (void)natsMsg_Ack(current_.get(), nullptr);  // lost: redelivered, skipped by seq
        current_.reset();
        return {};
    }

    [[nodiscard]] bool redelivers() const noexcept override { return true; }
    void want_meta(bool wanted) override { want_meta_ = wanted; }

private:
    NatsLink& link_;
    JsPtr<jsCtx> js_;
    NatsPtr<natsSubscription> sub_;
    std::string url_;
    std::optional<StateFile> state_;
    natsMsgList batch_{};
    int next_ = 0;
    NatsPtr<natsMsg> current_;
    std::uint64_t current_seq_ = 0;
    std::uint64_t last_ = 0;
    bool want_meta_ = true;
};

/// Makes the durable pull consumer: with a recorded sequence, afresh from the message after it
/// (so the stream's order is kept and nothing is delivered twice); else the existing one, or a
/// new one from the stream's start.
Result<void> ensure_consumer(jsCtx* js,
                             const std::string& stream,
                             const std::string& durable,
                             const std::string& subject,
                             std::optional<std::uint64_t> last,
                             const std::string& url) {
    jsErrCode jerr{};
    if (!last) {
        jsConsumerInfo* ci = nullptr;
        const natsStatus s =
            js_GetConsumerInfo(&ci, js, stream.c_str(), durable.c_str(), nullptr, &jerr);
        const JsPtr<jsConsumerInfo> info(ci);
        if (s == NATS_OK) {
            return {};
        }
        if (s != NATS_NOT_FOUND) {
            return nats_error(s, "jetstream consumer info", url);
        }
    } else {
        const natsStatus s = js_DeleteConsumer(js, stream.c_str(), durable.c_str(), nullptr, &jerr);
        if (s != NATS_OK && s != NATS_NOT_FOUND) {
            return nats_error(s, "jetstream delete consumer", url);
        }
    }
    jsConsumerConfig cc;
    jsConsumerConfig_Init(&cc);
    cc.Durable = durable.c_str();
    cc.AckPolicy = js_AckExplicit;
    cc.FilterSubject = subject.c_str();
    if (last) {
        cc.DeliverPolicy = js_DeliverByStartSequence;
        cc.OptStartSeq = *last + 1;
    }
    jsConsumerInfo* ci = nullptr;
    const natsStatus s = js_AddConsumer(&ci, js, stream.c_str(), &cc, nullptr, &jerr);
    const JsPtr<jsConsumerInfo> info(ci);
    if (s != NATS_OK) {
        return nats_error(s, "jetstream add consumer", url);
    }
    return {};
}

}  // namespace

Result<std::unique_ptr<Source>> jetstream_source(NatsLink& link, const NatsUri& u) {
    const std::string url = link.server() + "/" + u.subject;
    const BridgeOptions& o = link.shared().options;
    const std::string durable = o.durable.empty() ? std::string("ipckit-bridge") : o.durable;
    IPCKIT_TRY_ASSIGN(JsPtr<jsCtx> js, open_stream(link, o.jetstream, url));
    std::optional<StateFile> state;
    if (!o.state_file.empty()) {
        IPCKIT_TRY_ASSIGN(state, StateFile::open(o.state_file));
    }
    IPCKIT_TRY(ensure_consumer(
        js.get(), o.jetstream, durable, u.subject, state ? state->last() : std::nullopt, url));
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = o.jetstream.c_str();
    so.Consumer = durable.c_str();
    natsSubscription* raw = nullptr;
    jsErrCode jerr{};
    const natsStatus s =
        js_PullSubscribe(&raw, js.get(), u.subject.c_str(), durable.c_str(), nullptr, &so, &jerr);
    if (s != NATS_OK) {
        return nats_error(s, "jetstream subscribe", url);
    }
    return std::unique_ptr<Source>(
        std::make_unique<JsSource>(link, std::move(js), raw, url, std::move(state)));
}

Result<std::unique_ptr<Sink>> jetstream_sink(NatsLink& link, const NatsUri& u) {
    const std::string url = link.server() + "/" + u.subject;
    const std::string& stream = link.shared().options.jetstream;
    IPCKIT_TRY_ASSIGN(JsPtr<jsCtx> js, open_stream(link, stream, url));
    return std::unique_ptr<Sink>(
        std::make_unique<JsSink>(link, std::move(js), u.subject, url, stream));
}

Result<NatsLinkPtr> connect_nats(const NatsUri& u, BridgeShared& shared) {
    NatsLinkPtr link(
        new NatsLink(shared, nats_server_url(u)));  // NOLINT(cppcoreguidelines-owning-memory)
    IPCKIT_TRY(link->connect());
    return link;
}

Result<std::unique_ptr<Source>> nats_source(NatsLink& link, const NatsUri& u) {
    const std::string url = link.server() + "/" + u.subject;
    natsSubscription* raw = nullptr;
    natsStatus s = natsConnection_SubscribeSync(&raw, link.conn(), u.subject.c_str());
    if (s != NATS_OK) {
        return nats_error(s, "nats subscribe", url);
    }
    std::unique_ptr<Source> src = std::make_unique<NatsSource>(link, raw, url);
    // Once open returns, the server has the subscription: what is published next arrives.
    s = natsConnection_FlushTimeout(link.conn(), 5000);
    if (s != NATS_OK) {
        return nats_error(s, "nats subscribe", url);
    }
    return src;
}

Result<std::unique_ptr<Sink>> nats_sink(NatsLink& link, const NatsUri& u) {
    const std::string url = link.server() + "/" + u.subject;
    if (u.subject.find_first_of("*>") != std::string::npos) {
        return Error(std::errc::invalid_argument,
                     "bridge",
                     url,
                     "wildcards ('*', '>') are only for the FROM side; publish on a concrete "
                     "subject");
    }
    return std::unique_ptr<Sink>(std::make_unique<NatsSink>(link, u.subject, url));
}

}  // namespace ipckit::detail
