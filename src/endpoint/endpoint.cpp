// SPDX-License-Identifier: MIT
// Endpoint: opens a parsed Uri with the opener of its scheme family (endpoint_message.cpp,
// endpoint_stream.cpp, endpoint_socket.cpp, endpoint_channel.cpp, endpoint_nats.cpp;
// endpoint_impl.hpp between them) and forwards send/receive to it.
#include "ipckit/endpoint/endpoint.hpp"

#include "endpoint/endpoint_impl.hpp"
#include "ipckit/core/assert.hpp"

#include <utility>

namespace ipckit {

namespace detail {

Error wrong_role(const std::string& name, const char* what) {
    return {std::errc::operation_not_supported,
            what,
            name,
            "this endpoint was opened for the other direction"};
}

}  // namespace detail

Result<Endpoint> Endpoint::open(const Uri& uri, EndpointRole role, const EndpointOptions& options) {
    Result<std::unique_ptr<Impl>> impl = Error(std::errc::invalid_argument, "open", uri.text());
    switch (uri.scheme()) {
        case UriScheme::PosixMq:
            impl = detail::open_mq(*uri.get_if<PosixMqUri>(), role, options);
            break;
        case UriScheme::SysvMq:
            impl = detail::open_sysvmq(*uri.get_if<SysvMqUri>(), role, options);
            break;
        case UriScheme::Fifo:
            impl = detail::open_fifo(*uri.get_if<FifoUri>(), role, options);
            break;
        case UriScheme::Unix:
        case UriScheme::UnixDgram:
        case UriScheme::UnixSeqpacket:
        case UriScheme::Tcp:
        case UriScheme::Udp:
            impl = detail::open_socket(uri, role, options);
            break;
        case UriScheme::Chan:
            impl = detail::open_chan(*uri.get_if<ChanUri>(), role, options);
            break;
        case UriScheme::Nats:
            impl = detail::open_nats(*uri.get_if<NatsUri>(), role, options);
            break;
        case UriScheme::Srv:
            return Error(std::errc::invalid_argument,
                         "open",
                         uri.text(),
                         "srv: is a request/reply service, not a message endpoint (use "
                         "ipckit call / ipckit serve)");
        default:
            return Error(std::errc::invalid_argument,
                         "open",
                         uri.text(),
                         std::string(uri.scheme_name()) +
                             ": is not a message endpoint (use fifo, mq, sysvmq, unix, "
                             "unix-dgram, unix-seqpacket, tcp, udp, chan or nats)");
    }
    IPCKIT_TRY_ASSIGN(std::unique_ptr<Impl> opened, std::move(impl));
    opened->name = uri.object_string();
    return Endpoint(std::move(opened));
}

Endpoint::Endpoint(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
Endpoint::Endpoint(Endpoint&& other) noexcept = default;
Endpoint& Endpoint::operator=(Endpoint&& other) noexcept = default;
Endpoint::~Endpoint() = default;

Result<void> Endpoint::send(std::span<const std::byte> message, SendOptions options) {
    IPCKIT_ASSERT(impl_ != nullptr, "use of a moved-from Endpoint");
    return impl_->send(message, options);
}

Result<std::optional<EndpointMessage>> Endpoint::receive(Deadline deadline) {
    IPCKIT_ASSERT(impl_ != nullptr, "use of a moved-from Endpoint");
    return impl_->receive(deadline);
}

std::size_t Endpoint::max_message_size() const noexcept {
    return impl_->max_message_size();
}
const std::string& Endpoint::name() const noexcept {
    return impl_->name;
}
int Endpoint::sysv_id() const noexcept {
    return impl_->sysv_id();
}

}  // namespace ipckit
