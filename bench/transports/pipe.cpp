// SPDX-License-Identifier: MIT
// Anonymous pipes (pipe2(2)): one per direction, inherited by fork. (Switches to ipckit's Pipe
// when that wrapper lands.)
#include "transports/fd_pair.hpp"
#include "transports/registry.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace ipckit::bench {
namespace {

class PipeTransport final : public FdPairTransport {
public:
    PipeTransport() : FdPairTransport(Framing::Stream, false) {}
    Result<void> setup(const SetupParams& /*p*/) override {
        int ping[2];
        int pong[2];
        if (::pipe2(ping, O_CLOEXEC) != 0) {
            return Error::from_errno(errno, "pipe2", "ping");
        }
        if (::pipe2(pong, O_CLOEXEC) != 0) {
            const int err = errno;
            ::close(ping[0]);
            ::close(ping[1]);
            return Error::from_errno(err, "pipe2", "pong");
        }
        set_fds(ping[1], pong[0], pong[1], ping[0]);
        set_object("pipe");
        return {};
    }
};

}  // namespace

std::unique_ptr<Transport> make_pipe() {
    return std::make_unique<PipeTransport>();
}

}  // namespace ipckit::bench
