// SPDX-License-Identifier: MIT
// Private to the bridge (src/bridge/): one relayed message with its metadata, the two halves a
// pump moves it between (Source, Sink), the shared counters, and the openers of each kind
// (bridge_local.cpp: endpoints and channels; bridge_nats.cpp: NATS).
#pragma once

#include "bridge/state_file.hpp"
#include "ipckit/bridge/bridge.hpp"
#include "ipckit/core/deadline.hpp"
#include "ipckit/core/result.hpp"
#include "ipckit/endpoint/uri.hpp"

#include <sys/types.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace ipckit::detail {

/// What travels with a message across the bridge (NATS headers on the wire).
struct RelayMeta {
    std::optional<unsigned> priority;   ///< mq
    std::optional<long> type;           ///< sysvmq
    std::optional<std::uint32_t> lane;  ///< chan: the publisher lane it came from
    std::optional<pid_t> pid;           ///< the original sender, when the source tells it
};

struct Relayed {
    std::vector<std::byte> data;
    RelayMeta meta;
};

/// The counters of one direction (0: FROM -> TO, 1: TO -> FROM with --both).
struct DirectionCounters {
    std::atomic<std::uint64_t> relayed{0};
    std::atomic<std::uint64_t> dropped{0};
    std::atomic<std::uint64_t> gaps{0};
};

/// The counters and the report sink shared by every pump of one bridge.
struct BridgeShared {
    std::atomic<std::uint64_t> relayed{0};
    std::atomic<std::uint64_t> dropped{0};
    std::atomic<std::uint64_t> gaps{0};
    std::atomic<std::uint64_t> reconnects{0};
    std::array<DirectionCounters, 2> dirs;  ///< the same per direction (status files)
    void add_relayed(int dir) {
        ++relayed;
        ++dirs.at(static_cast<std::size_t>(dir)).relayed;
    }
    void add_dropped(int dir, std::uint64_t n = 1) {
        dropped += n;
        dirs.at(static_cast<std::size_t>(dir)).dropped += n;
    }
    void add_gaps(int dir, std::uint64_t n) {
        gaps += n;
        dirs.at(static_cast<std::size_t>(dir)).gaps += n;
    }
    std::atomic<bool> stop{false};
    BridgeOptions options;
    void report(const std::string& line) const {
        if (options.report) {
            options.report(line);
        }
    }
};

/// How long one wait lasts before a pump looks at the stop flag again.
inline constexpr std::chrono::milliseconds kStopSlice{100};

class Source {
public:
    Source() = default;
    Source(const Source&) = delete;
    Source& operator=(const Source&) = delete;
    Source(Source&&) = delete;
    Source& operator=(Source&&) = delete;
    virtual ~Source() = default;
    /// The next message to relay into `out` (reused by the pump: its buffer is kept, its
    /// metadata overwritten); false when `deadline` passed first (an expired one polls).
    virtual Result<bool> receive(Relayed& out, Deadline deadline) = 0;
    /// False when the sink restores no metadata (a channel): a NATS source then reads only the
    /// headers it needs itself (origin, sequence).
    virtual void want_meta(bool /*wanted*/) {}
    /// The last message received is about to go to a sink at `mark` (JetStream with --state
    /// records it first: write-ahead).
    virtual Result<void> delivering(const std::optional<DeliveryMark>& /*mark*/) { return {}; }
    /// The last message received is settled (delivered, or dropped by the lossy policy):
    /// JetStream acks it here.
    virtual Result<void> settled() { return {}; }
    /// True when a message received and never settled is delivered again later (JetStream).
    [[nodiscard]] virtual bool redelivers() const noexcept { return false; }
    /// The direction whose counters this source's gaps and drops go to (set by the bridge).
    int direction = 0;
};

class Sink {
public:
    Sink() = default;
    Sink(const Sink&) = delete;
    Sink& operator=(const Sink&) = delete;
    Sink(Sink&&) = delete;
    Sink& operator=(Sink&&) = delete;
    virtual ~Sink() = default;
    /// Delivers `m`; false when the far side stayed full until `deadline` (nothing delivered).
    virtual Result<bool> send(const Relayed& m, Deadline deadline) = 0;
    /// Where the next message will land, when this sink can tell afterwards whether it did (a
    /// channel publisher's lane, pid and published count).
    [[nodiscard]] virtual std::optional<DeliveryMark> mark() const { return std::nullopt; }
    /// Pushes out anything buffered (NATS) and waits until it is out; called at the end.
    virtual Result<void> flush() { return {}; }
    /// True when send() may leave the message buffered: the pump then calls idle() as soon as
    /// its source has nothing more ready (adaptive flushing: batches under load, one write per
    /// message when they come one at a time).
    [[nodiscard]] virtual bool buffers() const noexcept { return false; }
    /// The source has nothing more ready: write out what send() buffered, without waiting.
    virtual Result<void> idle() { return {}; }
    /// False when this sink ignores RelayMeta (see Source::want_meta).
    [[nodiscard]] virtual bool uses_meta() const noexcept { return true; }
    /// The object as errors name it.
    [[nodiscard]] virtual const std::string& name() const noexcept = 0;
};

/// The NATS connection of a bridge, shared by its source and sink (bridge_nats.cpp).
class NatsLink;
struct NatsLinkDeleter {
    void operator()(NatsLink* p) const noexcept;
};
using NatsLinkPtr = std::unique_ptr<NatsLink, NatsLinkDeleter>;

/// Connects to the server of `u` with the bridge's retry policy.
Result<NatsLinkPtr> connect_nats(const NatsUri& u, BridgeShared& shared);
Result<std::unique_ptr<Source>> nats_source(NatsLink& link, const NatsUri& u);
Result<std::unique_ptr<Sink>> nats_sink(NatsLink& link, const NatsUri& u);
// bridge_jetstream.cpp: the same over JetStream (BridgeOptions::jetstream).
Result<std::unique_ptr<Source>> jetstream_source(NatsLink& link, const NatsUri& u);
Result<std::unique_ptr<Sink>> jetstream_sink(NatsLink& link, const NatsUri& u);

/// The status file of a running bridge (bridge_status.cpp).
class StatusWriter;
struct StatusWriterDeleter {
    void operator()(StatusWriter* p) const noexcept;
};
using StatusWriterPtr = std::unique_ptr<StatusWriter, StatusWriterDeleter>;
Result<StatusWriterPtr> open_status(const std::string& dir,
                                    const std::string& from,
                                    const std::string& to);
void update_status(StatusWriter& w, const BridgeShared& s);

/// The local half of a bridge: a source, a sink, or both on one object (bridge_local.cpp).
struct LocalSide {
    std::unique_ptr<Source> source;
    std::unique_ptr<Sink> sink;
};
/// JetStream with --state into a channel: settles the write-ahead mark a killed bridge left
/// (delivered: recorded as delivered; not: left to JetStream's redelivery). Before the channel is
/// opened, since opening takes over the dead bridge's lane.
Result<void> recover_pending_delivery(const std::string& state_file,
                                      const ChanUri& sink,
                                      BridgeShared& shared);

Result<LocalSide> open_local(const Uri& uri,
                             bool want_source,
                             bool want_sink,
                             BridgeShared& shared);

}  // namespace ipckit::detail
