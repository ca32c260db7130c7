// SPDX-License-Identifier: MIT
// Unix stream sockets: a connected socketpair(2) (AF_UNIX, SOCK_STREAM), one end per role. The data
// path is the same as for a pair connected through a path; the pair just has no name to clean up.
// (Switches to ipckit's Unix socket type when that wrapper lands.)
#include "transports/fd_pair.hpp"
#include "transports/registry.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace ipckit::bench {
namespace {

class UnixStream final : public FdPairTransport {
public:
    UnixStream() : FdPairTransport(Framing::Stream, true) {}
    Result<void> setup(const SetupParams& p) override {
        int sv[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
            return Error::from_errno(errno, "socketpair", "AF_UNIX SOCK_STREAM");
        }
        set_fds(sv[0], sv[0], sv[1], sv[1]);
        set_object("unix stream socket");
        (void)p;
        return {};
    }
};

}  // namespace

std::unique_ptr<Transport> make_unix_stream() {
    return std::make_unique<UnixStream>();
}

}  // namespace ipckit::bench
