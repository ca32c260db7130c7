// SPDX-License-Identifier: MIT
// Endpoint: a parsed Uri opened as a message endpoint with one send/receive interface over every
// message-carrying scheme (fifo, mq, sysvmq, unix, unix-dgram, unix-seqpacket, tcp, udp, chan,
// nats).
#pragma once

#include "ipckit/core/deadline.hpp"
#include "ipckit/core/open_mode.hpp"
#include "ipckit/core/ownership.hpp"
#include "ipckit/core/result.hpp"
#include "ipckit/endpoint/uri.hpp"
#include "ipckit/export.hpp"
#include "ipckit/socket/credentials.hpp"

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace ipckit {

/// Which side of the conversation an endpoint is. On socket schemes a Receiver binds/listens (a
/// server) and a Sender connects; on queues and FIFOs both just open the object.
enum class EndpointRole { Sender, Receiver };

/// How Endpoint::open treats the object. Values given here override the URI's own options.
struct IPCKIT_API EndpointOptions {
    bool create = false;                    ///< create the object if missing (mq, sysvmq, fifo, chan)
    std::optional<Permissions> mode;        ///< permissions when created (default 0600)
    std::optional<bool> raw;                ///< stream schemes: newline-delimited lines, no framing
    Deadline deadline = Deadline::never();  ///< bounds a blocking open (fifo writer, connect)
    /// Whose existing objects (mq, sysvmq, fifo, chan) are accepted: by default only the caller's
    /// own; another owner is refused with is_untrusted_owner (a squatter, D14).
    Ownership ownership;
};

/// Per-message send options. Unset fields fall back to the URI's `?prio=` / `?type=` (and then
/// to priority 0 / type 1).
struct IPCKIT_API SendOptions {
    std::optional<unsigned> priority;  ///< mq only, [0, 32767]
    std::optional<long> type;          ///< sysvmq only, >= 1
    Deadline deadline = Deadline::never();
};

/// A received message with what the facility tells about it.
struct IPCKIT_API EndpointMessage {
    std::vector<std::byte> data;
    std::optional<unsigned> priority;        ///< mq
    std::optional<long> type;                ///< sysvmq
    std::optional<std::string> sender;       ///< sockets: the peer's address when it has one
    std::optional<Credentials> credentials;  ///< unix sockets: the sender's pid/uid/gid
    /// chan: messages this subscriber lost just before this one (overwrite policy lapped it, or
    /// a publisher died mid-message); 0 when none.
    std::optional<std::uint64_t> lost;
    std::optional<std::string> subject;  ///< nats: the subject it was published on
    std::optional<pid_t> sender_pid;     ///< nats: the sender's Ipckit-Pid header, when valid
};

/// One message endpoint. Byte-stream schemes (fifo, unix, tcp) carry each message as a frame of
/// stream/framing.hpp (4-byte big-endian length + payload), or with `raw` as one line ended by
/// '\n' (a message must then not contain '\n'). Message schemes keep boundaries natively. A
/// zero-length message works on every scheme (A05): on unix-seqpacket the receiver turns on
/// SO_PASSCRED so an empty record (which carries credentials) is told apart from end of stream.
///
/// A stream Receiver accepts one connection at a time (fifo: opens the FIFO read-write so it
/// never sees EOF); when a peer closes between messages it waits for the next one. shm/sem
/// schemes are not message endpoints (errc::invalid_argument).
///
/// `chan:` opens a channel Publisher (Sender) or Subscriber (Receiver); with `create` a missing
/// channel is created from the URI's capacity/msgsize/policy. Pub/sub semantics: a subscriber
/// starts at the head and only sees messages published after it joined. A block-policy send
/// waits for the slowest live subscriber (errc::timed_out at the deadline, naming it); with
/// policy=overwrite a lapped subscriber's loss is reported in EndpointMessage::lost.
///
/// Ownership: the endpoint owns its descriptors and, for a Receiver bound to a socket path, the
/// socket file (removed on destruction). Queues it creates stay (kernel-persistent).
/// Thread-safety: none; use one endpoint per thread. Fork: do not use from both processes.
///
/// @code
///   auto uri = Uri::parse("mq:/jobs").value();
///   EndpointOptions opts;
///   opts.create = true;
///   auto tx = Endpoint::open(uri, EndpointRole::Sender, opts).value();
///   SendOptions high;
///   high.priority = 5;
///   tx.send(std::as_bytes(std::span("hi", 2)), high).value();
///   auto rx = Endpoint::open(uri, EndpointRole::Receiver).value();
///   auto m = rx.receive(Deadline::after(1s)).value();   // m->priority == 5
/// @endcode
class IPCKIT_API Endpoint {
public:
    static Result<Endpoint> open(const Uri& uri,
                                 EndpointRole role,
                                 const EndpointOptions& options = {});

    /// Sends one message (all or nothing on message schemes; never a partial frame on streams).
    /// errc::message_size if it can never fit (the detail names the limit).
    Result<void> send(std::span<const std::byte> message, SendOptions options = {});
    /// The next message, or an empty optional when `deadline` passed first (Deadline::now():
    /// poll once).
    Result<std::optional<EndpointMessage>> receive(Deadline deadline = Deadline::never());

    /// The largest message this endpoint can carry (mq msgsize, frame limit, ...).
    [[nodiscard]] std::size_t max_message_size() const noexcept;
    /// The object as errors name it ("mq:/jobs", "unix:/run/app.sock").
    [[nodiscard]] const std::string& name() const noexcept;
    /// The resolved SysV id (sysvmq) or -1; useful after opening "sysvmq:private".
    [[nodiscard]] int sysv_id() const noexcept;

    struct Impl;  // per scheme family (src/endpoint/endpoint_impl.hpp)
    explicit Endpoint(std::unique_ptr<Impl> impl) noexcept;
    Endpoint(const Endpoint&) = delete;
    Endpoint& operator=(const Endpoint&) = delete;
    Endpoint(Endpoint&& other) noexcept;
    Endpoint& operator=(Endpoint&& other) noexcept;
    ~Endpoint();

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace ipckit
