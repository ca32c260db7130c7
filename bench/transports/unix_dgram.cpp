// SPDX-License-Identifier: MIT
// Unix datagram sockets: a connected socketpair(2) (AF_UNIX, SOCK_DGRAM), one end per role. The
// data path is the same as for a pair connected through a path; the pair just has no name to clean
// up. (Switches to ipckit's Unix socket type when that wrapper lands.)
#include "transports/fd_pair.hpp"
#include "transports/registry.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace ipckit::bench {
namespace {

class UnixDatagram final : public FdPairTransport {
public:
    UnixDatagram() : FdPairTransport(Framing::Record, true) {}
    Result<void> setup(const SetupParams& p) override {
        int sv[2];
        if (::socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv) != 0) {
            return Error::from_errno(errno, "socketpair", "AF_UNIX SOCK_DGRAM");
        }
        set_fds(sv[0], sv[0], sv[1], sv[1]);
        set_object("unix dgram socket");
        max_ = grow_socket_buffers(sv[0], 2 * p.max_message_size + 4096);
        grow_socket_buffers(sv[1], 2 * p.max_message_size + 4096);
        return {};
    }
    [[nodiscard]] std::size_t max_message_size() const override { return max_; }

private:
    std::size_t max_ = 0;
};

}  // namespace

std::unique_ptr<Transport> make_unix_dgram() {
    return std::make_unique<UnixDatagram>();
}

}  // namespace ipckit::bench
