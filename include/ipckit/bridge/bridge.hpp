// SPDX-License-Identifier: MIT
// Bridge: relays messages from one endpoint to another, typically a local endpoint (chan:, mq:,
// sysvmq:, unix-dgram:, ...) to or from a NATS subject (docs/design/bridge.md).
#pragma once

#include "ipckit/core/open_mode.hpp"
#include "ipckit/core/ownership.hpp"
#include "ipckit/core/result.hpp"
#include "ipckit/endpoint/uri.hpp"
#include "ipckit/export.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace ipckit {

/// What the bridge does when the receiving side is full (a block-policy channel held back by a
/// slow subscriber, a full queue).
enum class BridgeFullPolicy {
    Block,  ///< wait until there is room (the default): nothing is dropped
    Drop,   ///< lossy, chosen explicitly: drop the message, count it and report it
};

struct IPCKIT_API BridgeOptions {
    bool create = false;  ///< create the local queue or channel if missing
    /// Relay both ways (the local side must be a chan:): messages the bridge delivered are
    /// never sent back (NATS no-echo plus the bridge's own channel lane is skipped).
    bool both = false;
    BridgeFullPolicy on_full = BridgeFullPolicy::Block;
    /// Retries of the NATS connection, at start and after each loss, before the bridge gives up
    /// (errc::connection_refused / not_connected); 0: none; < 0: for ever.
    int max_retries = 60;
    /// The first wait between attempts; it doubles per attempt up to `max_retry_wait`.
    std::chrono::milliseconds retry_wait{100};
    std::chrono::milliseconds max_retry_wait{5000};
    /// JetStream instead of core NATS: the stream that holds the subject (it must exist).
    /// Publishing waits for the stream's ack and sets Nats-Msg-Id (this bridge's id + sequence),
    /// so a publish retried after a lost ack is stored once. Receiving uses the durable pull
    /// consumer `durable` and acks each message after the local send (a full local side
    /// delays the ack).
    std::string jetstream;
    /// JetStream receive: the durable consumer's name (empty: "ipckit-bridge").
    std::string durable;
    /// JetStream receive: a file that keeps the stream sequence of the last message delivered
    /// locally. A restarted bridge resumes right after it: nothing lost, nothing delivered
    /// twice (but for a kill between the local send and this file's update, a few
    /// instructions). Empty: at least once (the message in flight at a crash may come twice).
    std::string state_file;
    /// Write each publication to the server at once instead of letting libnats batch them
    /// (its flusher coalesces for about a millisecond): lower latency, more system calls.
    bool low_latency = false;
    /// When set, the bridge keeps a status file in this directory (its pid, FROM, TO and the
    /// counters per direction, refreshed every 100 ms, removed when run() returns or the Bridge
    /// is destroyed) for other processes: list_bridges() (bridge_status.hpp), `ipckit bridges`.
    /// A directory or file that cannot be made is reported and the bridge runs without it.
    std::string status_dir;
    std::optional<Permissions> mode;  ///< permissions of a created local object (default 0600)
    Ownership ownership;              ///< whose existing local objects are accepted
    /// Called (from the bridge's threads) with one line for each event a user must see: drops,
    /// gaps, disconnects and reconnects. Unset: nothing is printed (the counters still count).
    std::function<void(const std::string&)> report;
};

/// Counters of a running bridge (all directions together).
struct IPCKIT_API BridgeStats {
    std::uint64_t relayed = 0;     ///< messages delivered to the far side
    std::uint64_t dropped = 0;     ///< dropped by this bridge (Drop policy, libnats slow consumer)
    std::uint64_t gaps = 0;        ///< missing from the sequence numbers the messages carry
    std::uint64_t reconnects = 0;  ///< NATS reconnections after a lost connection
};

/// A relay from FROM to TO (and back with `both`). Either side is any message endpoint URI or
/// nats://HOST:PORT/SUBJECT; a wildcard subject ('*', '>') may only be a FROM side, and every
/// matching subject goes to the one local endpoint.
///
/// Metadata crosses NATS in one header, `Ipckit: o=ORIGIN;s=SEQ;p=PID;P=PRIO;t=TYPE;l=LANE`, and
/// is restored where the far endpoint supports it: mq priority (P), SysV type (t); the channel
/// publisher lane (l) and the sender pid (p) are carried for the receiver to see. Every message
/// the bridge publishes carries its origin (this bridge's random id) and sequence (1, 2, ...): a
/// receiving bridge counts what is missing as gaps.
///
/// Ownership: the bridge owns its endpoints and its NATS connection. Thread-safety: run() on one
/// thread; stop() and stats() from any thread (stop() also from a signal handler).
///
/// @code
///   auto b = Bridge::open(Uri::parse("chan:ticks").value(),
///                         Uri::parse("nats://127.0.0.1:4222/ticks").value()).value();
///   std::jthread t([&] { b.run().value(); });
///   ...
///   b.stop();
/// @endcode
class IPCKIT_API Bridge {
public:
    /// Opens both sides (connecting to NATS with retries). Errors: invalid_argument for a bad
    /// pair (wildcard on the sending side, both sides NATS, --both without a channel),
    /// connection_refused when the server never answered, and the local endpoint's own errors.
    static Result<Bridge> open(const Uri& from, const Uri& to, const BridgeOptions& options = {});

    /// Relays until stop() (then Ok) or an error that ends the bridge: the local endpoint
    /// removed (identifier_removed), the NATS connection lost for good (not_connected), a
    /// message the far side can never take (message_size).
    Result<void> run();
    /// Makes run() return within about 100 ms. Async-signal-safe.
    void stop() noexcept;
    [[nodiscard]] BridgeStats stats() const noexcept;

    struct Impl;
    explicit Bridge(std::unique_ptr<Impl> impl) noexcept;
    Bridge(const Bridge&) = delete;
    Bridge& operator=(const Bridge&) = delete;
    Bridge(Bridge&& other) noexcept;
    Bridge& operator=(Bridge&& other) noexcept;
    ~Bridge();

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace ipckit
