// SPDX-License-Identifier: MIT
// Anonymous pipes (pipe(7)) through ipckit::Pipe: one per direction, created before fork and
// inherited.
#include "ipckit/stream/pipe.hpp"

#include "transports/pipe_pair.hpp"
#include "transports/registry.hpp"

namespace ipckit::bench {
namespace {

class PipeTransport final : public PipePairTransport {
public:
    Result<void> setup(const SetupParams& /*p*/) override {
        IPCKIT_TRY_ASSIGN(auto ping, Pipe::create());
        IPCKIT_TRY_ASSIGN(auto pong, Pipe::create());
        set_ends(std::move(ping.writer),
                 std::move(pong.reader),
                 std::move(pong.writer),
                 std::move(ping.reader));
        return {};
    }
};

}  // namespace

std::unique_ptr<Transport> make_pipe() {
    return std::make_unique<PipeTransport>();
}

}  // namespace ipckit::bench
