// SPDX-License-Identifier: MIT
// Private to the endpoint (src/endpoint/endpoint*.cpp): the per-scheme implementation interface
// and one opener per scheme family. endpoint.cpp dispatches on the scheme; endpoint_message.cpp
// (mq, sysvmq), endpoint_stream.cpp (fifo, and the framing sockets share), endpoint_socket.cpp
// (unix*, tcp, udp), endpoint_channel.cpp (chan) and endpoint_nats.cpp (nats) implement them.
#pragma once

#include "ipckit/core/io.hpp"
#include "ipckit/endpoint/endpoint.hpp"
#include "ipckit/stream/framing.hpp"

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace ipckit {

struct Endpoint::Impl {
    Impl() = default;
    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;
    Impl(Impl&&) = delete;
    Impl& operator=(Impl&&) = delete;
    virtual ~Impl() = default;
    virtual Result<void> send(std::span<const std::byte> message, const SendOptions& options) = 0;
    virtual Result<std::optional<EndpointMessage>> receive(Deadline deadline) = 0;
    [[nodiscard]] virtual std::size_t max_message_size() const noexcept = 0;
    [[nodiscard]] virtual int sysv_id() const noexcept { return -1; }
    std::string name;
};

namespace detail {

using EndpointImplPtr = std::unique_ptr<Endpoint::Impl>;

/// Messages larger than this are refused on streams and sockets (a stray peer cannot make a
/// receiver allocate more).
inline constexpr std::size_t kStreamMaxMessage = FrameReader::kDefaultMaxFrameSize;

/// errc::operation_not_supported: `what` (send, receive) on an endpoint opened for the other one.
Error wrong_role(const std::string& name, const char* what);

/// Reads messages from a stream descriptor: frames, or raw lines.
class StreamReader {
public:
    StreamReader(int fd, bool raw, std::string object)
        : fd_(fd), raw_(raw), object_(object), frames_(fd, kStreamMaxMessage, std::move(object)) {}
    /// Empty optional: deadline passed. Ok(nullopt inside) handled by `eof`.
    Result<std::optional<std::vector<std::byte>>> read(Deadline deadline, bool& eof);

private:
    int fd_;
    bool raw_;
    std::string object_;
    FrameReader frames_;
    std::vector<std::byte> pending_;
};

/// Writes one message to a stream: a frame, or (raw) one line ended by '\n'.
Result<void> write_message(int fd,
                           std::span<const std::byte> message,
                           bool raw,
                           FdKind kind,
                           Deadline deadline,
                           const std::string& object);

// One opener per scheme family.
// endpoint_message.cpp
Result<EndpointImplPtr> open_mq(const PosixMqUri& u, EndpointRole role, const EndpointOptions& o);
Result<EndpointImplPtr> open_sysvmq(const SysvMqUri& u,
                                    EndpointRole role,
                                    const EndpointOptions& o);
// endpoint_stream.cpp
Result<EndpointImplPtr> open_fifo(const FifoUri& u, EndpointRole role, const EndpointOptions& o);
// endpoint_socket.cpp: unix, unix-dgram, unix-seqpacket, tcp, udp
Result<EndpointImplPtr> open_socket(const Uri& uri, EndpointRole role, const EndpointOptions& o);
// endpoint_channel.cpp
Result<EndpointImplPtr> open_chan(const ChanUri& u, EndpointRole role, const EndpointOptions& o);
// endpoint_nats.cpp
Result<EndpointImplPtr> open_nats(const NatsUri& u, EndpointRole role, const EndpointOptions& o);

}  // namespace detail
}  // namespace ipckit
