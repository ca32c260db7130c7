// SPDX-License-Identifier: MIT
// Bridge: checks the pair, opens the local side (bridge_local.cpp) and the NATS side
// (bridge_nats.cpp), and runs one pump per direction: receive, deliver (block or drop by the
// policy), count.
#include "ipckit/bridge/bridge.hpp"

#include "bridge/bridge_side.hpp"
#include "ipckit/core/assert.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace ipckit {

namespace {

using detail::BridgeShared;
using detail::Relayed;
using detail::Sink;
using detail::Source;

bool has_wildcard(const NatsUri& u) {
    return u.subject.find_first_of("*>") != std::string::npos;
}

/// One direction: from `source` into `sink`.
struct Pump {
    Source* source = nullptr;
    Sink* sink = nullptr;
    int dir = 0;  ///< 0: FROM -> TO; 1: TO -> FROM (--both)
};

/// Reports drops: the first at once, then at most one summary line a second.
class DropReporter {
public:
    explicit DropReporter(BridgeShared& shared) : shared_(shared) {}
    void dropped(const std::string& where) {
        const std::lock_guard lock(mu_);
        ++pending_;
        const auto now = std::chrono::steady_clock::now();
        if (now - last_ >= std::chrono::seconds(1)) {
            shared_.report(where + ": " + std::to_string(pending_) +
                           " message(s) dropped: the receiving side was full (lossy policy; " +
                           std::to_string(shared_.dropped.load()) + " dropped in all)");
            pending_ = 0;
            last_ = now;
        }
    }
    void finish(const std::string& where) {
        const std::lock_guard lock(mu_);
        if (pending_ > 0) {
            shared_.report(where + ": " + std::to_string(pending_) +
                           " message(s) dropped: the receiving side was full (lossy policy; " +
                           std::to_string(shared_.dropped.load()) + " dropped in all)");
            pending_ = 0;
        }
    }

private:
    BridgeShared& shared_;
    std::mutex mu_;
    std::uint64_t pending_ = 0;
    std::chrono::steady_clock::time_point last_{};
};

}  // namespace

struct Bridge::Impl {
    BridgeShared shared;
    detail::NatsLinkPtr link;  // destroyed last among the NATS parts: declared first
    detail::LocalSide local;
    std::unique_ptr<Source> nats_source;
    std::unique_ptr<Sink> nats_sink;
    std::vector<Pump> pumps;
    DropReporter drops{shared};
    detail::StatusWriterPtr status;  // the status file, when options.status_dir is set

    /// Delivers `m` by the policy (Block: waits, in slices so stop() is seen; Drop: counts).
    /// False when stop() came while it waited: the message is not settled.
    Result<bool> deliver(const Pump& p, const Relayed& m) {
        if (shared.options.on_full == BridgeFullPolicy::Drop) {
            IPCKIT_TRY_ASSIGN(const bool sent, p.sink->send(m, Deadline::now()));
            if (sent) {
                shared.add_relayed(p.dir);
            } else {
                shared.add_dropped(p.dir);
                drops.dropped(p.sink->name());
            }
            return true;
        }
        for (;;) {
            IPCKIT_TRY_ASSIGN(const bool sent,
                              p.sink->send(m, Deadline::after(detail::kStopSlice)));
            if (sent) {
                shared.add_relayed(p.dir);
                return true;
            }
            if (shared.stop) {  // stopped while the far side stayed full: say so, never hide it
                if (p.source->redelivers()) {
                    shared.report(p.sink->name() +
                                  ": stopped while it was full: 1 message left unacknowledged "
                                  "(JetStream delivers it again)");
                } else {
                    shared.add_dropped(p.dir);
                    shared.report(p.sink->name() +
                                  ": stopped while it was full: 1 message taken and not "
                                  "delivered");
                }
                return false;
            }
        }
    }

    /// One received message: marked, delivered by the policy, settled.
    Result<void> relay(const Pump& p, const Relayed& m) {
        IPCKIT_TRY(p.source->delivering(p.sink->mark()));
        IPCKIT_TRY_ASSIGN(const bool settled, deliver(p, m));
        if (settled) {
            IPCKIT_TRY(p.source->settled());
        }
        return {};
    }

    /// Receive, deliver, settle. A buffering sink (NATS) is written out as soon as the source
    /// has nothing more ready: under load messages go in batches, one by one they go at once.
    Result<void> pump(const Pump& p) {
        Relayed m;  // reused: its buffer keeps its capacity
        const bool buffering = p.sink->buffers();
        bool unflushed = false;
        while (!shared.stop) {
            const Deadline until =
                unflushed ? Deadline::now() : Deadline::after(detail::kStopSlice);
            IPCKIT_TRY_ASSIGN(const bool got, p.source->receive(m, until));
            if (!got) {
                if (unflushed) {
                    IPCKIT_TRY(p.sink->idle());
                    unflushed = false;
                }
                continue;
            }
            IPCKIT_TRY(relay(p, m));
            unflushed = buffering;
        }
        drops.finish(p.sink->name());
        return p.sink->flush();
    }

    /// A bridge between two local endpoints: one pump, FROM's source to TO's sink.
    Result<void> open_local_to_local(const Uri& from, const Uri& to) {
        IPCKIT_TRY_ASSIGN(local, detail::open_local(to, false, true, shared));
        IPCKIT_TRY_ASSIGN(auto src, detail::open_local(from, true, false, shared));
        local.source = std::move(src.source);
        pumps.push_back({local.source.get(), local.sink.get()});
        local.source->want_meta(local.sink->uses_meta());
        return {};
    }

    /// The NATS halves over `link` and their pumps: NATS -> local when the local side is a
    /// sink, local -> NATS when it is a source.
    /// `nats_is_from`: NATS is the FROM side (its pump is direction 0).
    Result<void> open_nats_pumps(const NatsUri& n,
                                 bool local_source,
                                 bool local_sink,
                                 bool nats_is_from) {
        const bool js = !shared.options.jetstream.empty();
        if (local_sink) {
            IPCKIT_TRY_ASSIGN(
                nats_source,
                js ? detail::jetstream_source(*link, n) : detail::nats_source(*link, n));
            const int dir = nats_is_from ? 0 : 1;
            pumps.push_back({nats_source.get(), local.sink.get(), dir});
            nats_source->want_meta(local.sink->uses_meta());
            nats_source->direction = dir;
        }
        if (local_source) {
            IPCKIT_TRY_ASSIGN(nats_sink,
                              js ? detail::jetstream_sink(*link, n) : detail::nats_sink(*link, n));
            const int dir = nats_is_from ? 1 : 0;
            pumps.push_back({local.source.get(), nats_sink.get(), dir});
            local.source->direction = dir;
        }
        return {};
    }

    /// The status file (best effort: a failure is reported, the bridge runs without it).
    void open_status(const Uri& from, const Uri& to) {
        if (shared.options.status_dir.empty()) {
            return;
        }
        auto w = detail::open_status(shared.options.status_dir, from.text(), to.text());
        if (!w) {
            shared.report("no status file: " + w.error().message());
            return;
        }
        status = std::move(*w);
        detail::update_status(*status, shared);
    }

    /// Runs the pumps (the first on this thread) and, with a status file, refreshes it every
    /// 100 ms until they end.
    Result<void> run_pumps() {
        std::atomic<bool> done{false};
        std::mutex mu;
        std::condition_variable cv;
        std::thread refresher;
        if (status) {
            refresher = std::thread([&] {
                std::unique_lock lock(mu);
                while (!cv.wait_for(lock, detail::kStopSlice, [&] { return done.load(); })) {
                    detail::update_status(*status, shared);
                }
            });
        }
        Result<void> second;
        std::thread t;
        if (pumps.size() > 1) {
            t = std::thread([this, &second] { second = guarded(pumps[1]); });
        }
        auto first = guarded(pumps[0]);
        if (t.joinable()) {
            t.join();
        }
        if (refresher.joinable()) {
            {
                const std::lock_guard lock(mu);
                done = true;
            }
            cv.notify_all();
            refresher.join();
        }
        status.reset();  // a stopped bridge has no status file
        IPCKIT_TRY(std::move(first));
        return second;
    }

    /// Runs a pump; an error stops the others.
    Result<void> guarded(const Pump& p) {
        auto r = pump(p);
        if (!r) {
            shared.stop = true;
        }
        return r;
    }
};

namespace {

/// Refuses a pair the bridge cannot relay, before anything is opened or contacted.
Result<void> check_pair(const Uri& from, const Uri& to, const BridgeOptions& options) {
    const auto* nfrom = from.get_if<NatsUri>();
    const auto* nto = to.get_if<NatsUri>();
    if (nfrom != nullptr && nto != nullptr) {
        return Error(std::errc::invalid_argument,
                     "bridge",
                     from.text() + " -> " + to.text(),
                     "both sides are NATS: one side must be a local endpoint");
    }
    if (nto != nullptr && has_wildcard(*nto)) {
        return Error(std::errc::invalid_argument,
                     "bridge",
                     to.text(),
                     "wildcards ('*', '>') are only for the FROM side; publish on a concrete "
                     "subject");
    }
    if (!options.both) {
        return {};
    }
    const Uri& local = nfrom != nullptr ? to : from;
    if (nfrom == nullptr && nto == nullptr) {
        return Error(std::errc::invalid_argument,
                     "bridge",
                     from.text() + " <-> " + to.text(),
                     "--both relays between a channel and NATS: one side must be nats://");
    }
    if (local.scheme() != UriScheme::Chan) {
        return Error(std::errc::invalid_argument,
                     "bridge",
                     local.text(),
                     "--both needs a chan: endpoint (publish/subscribe); on a queue or "
                     "socket the bridge would take back the messages it delivers");
    }
    const NatsUri& n = nfrom != nullptr ? *nfrom : *nto;
    if (has_wildcard(n)) {
        return Error(std::errc::invalid_argument,
                     "bridge",
                     (nfrom != nullptr ? from : to).text(),
                     "--both publishes on the subject too: it must be concrete (no '*', '>')");
    }
    return {};
}

/// JetStream with --state into a channel: a killed bridge may have left a delivery under way.
Result<void> recover_if_needed(const Uri& from, const Uri& to, BridgeShared& shared) {
    const BridgeOptions& o = shared.options;
    const auto* chan = to.get_if<ChanUri>();
    if (from.get_if<NatsUri>() == nullptr || o.jetstream.empty() || o.state_file.empty() ||
        chan == nullptr) {
        return {};
    }
    return detail::recover_pending_delivery(o.state_file, *chan, shared);
}

}  // namespace

Result<Bridge> Bridge::open(const Uri& from, const Uri& to, const BridgeOptions& options) {
    IPCKIT_TRY(check_pair(from, to, options));
    const auto* nfrom = from.get_if<NatsUri>();
    const auto* nto = to.get_if<NatsUri>();
    const Uri& local = nfrom != nullptr ? to : from;
    auto impl = std::make_unique<Impl>();
    impl->shared.options = options;
    BridgeShared& shared = impl->shared;
    if (nfrom == nullptr && nto == nullptr) {
        IPCKIT_TRY(impl->open_local_to_local(from, to));
        impl->open_status(from, to);
        return Bridge(std::move(impl));
    }
    const NatsUri& n = nfrom != nullptr ? *nfrom : *nto;
    const bool local_source = nfrom == nullptr || options.both;
    const bool local_sink = nfrom != nullptr || options.both;
    IPCKIT_TRY(recover_if_needed(from, to, shared));
    // The local side first: a missing queue is reported before waiting for a server.
    IPCKIT_TRY_ASSIGN(impl->local, detail::open_local(local, local_source, local_sink, shared));
    IPCKIT_TRY_ASSIGN(impl->link, detail::connect_nats(n, shared));
    IPCKIT_TRY(impl->open_nats_pumps(n, local_source, local_sink, nfrom != nullptr));
    impl->open_status(from, to);
    return Bridge(std::move(impl));
}

Result<void> Bridge::run() {
    IPCKIT_ASSERT(impl_ != nullptr, "use of a moved-from Bridge");
    return impl_->run_pumps();
}

void Bridge::stop() noexcept {
    impl_->shared.stop.store(true);
}

BridgeStats Bridge::stats() const noexcept {
    const BridgeShared& s = impl_->shared;
    return {s.relayed.load(), s.dropped.load(), s.gaps.load(), s.reconnects.load()};
}

Bridge::Bridge(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
Bridge::Bridge(Bridge&& other) noexcept = default;
Bridge& Bridge::operator=(Bridge&& other) noexcept = default;
Bridge::~Bridge() = default;

}  // namespace ipckit
