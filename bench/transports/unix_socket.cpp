// SPDX-License-Identifier: MIT
// Unix domain sockets (unix(7)) through ipckit::Socket::pair: a connected socketpair of stream,
// datagram or seqpacket type, one end per role. The data path is the same as for a pair connected
// through a path; the pair just has no name to clean up. The record types raise both socket
// buffers to hold the run's largest message twice, which bounds their "max" column.
#include "ipckit/socket/socket.hpp"
#include "transports/registry.hpp"
#include "transports/socket_pair.hpp"

namespace ipckit::bench {
namespace {

class UnixSocketPair final : public SocketPairTransport {
public:
    explicit UnixSocketPair(SocketType type) : type_(type) {}
    Result<void> setup(const SetupParams& p) override {
        IPCKIT_TRY_ASSIGN(auto pair, Socket::pair(type_));
        std::size_t max = SIZE_MAX;
        if (type_ != SocketType::Stream) {
            max = grow_socket_buffers(pair.first, 2 * p.max_message_size + 4096);
            grow_socket_buffers(pair.second, 2 * p.max_message_size + 4096);
        }
        set_sockets(std::move(pair.first), std::move(pair.second), max);
        return {};
    }

private:
    SocketType type_;
};

}  // namespace

std::unique_ptr<Transport> make_unix_stream() {
    return std::make_unique<UnixSocketPair>(SocketType::Stream);
}
std::unique_ptr<Transport> make_unix_dgram() {
    return std::make_unique<UnixSocketPair>(SocketType::Datagram);
}
std::unique_ptr<Transport> make_unix_seqpacket() {
    return std::make_unique<UnixSocketPair>(SocketType::SeqPacket);
}

}  // namespace ipckit::bench
