// SPDX-License-Identifier: MIT
// The client half of the FIFO client/server (fifo_server.hpp): one request FIFO shared by all
// clients, one reply FIFO per client named by its pid.
#pragma once

#include <string>
#include <string_view>

#include "ipckit/core/deadline.hpp"
#include "ipckit/core/result.hpp"
#include "ipckit/stream/fifo.hpp"
#include "ipckit/stream/fifo_server.hpp"
#include "ipckit/stream/pipe.hpp"

namespace ipckit {

/// A client of a FifoServer. Owns its reply FIFO (FifoServer::client_fifo_path(server, getpid()),
/// mode 0600, unlinked on destruction) and holds it open read-write, so the server can always
/// open it while this client lives, and it is ENXIO to the server once the client is gone.
/// A stale FIFO of a dead process that had our pid is replaced. Thread-safety: one call at a
/// time. Fork: a forked child must make its own FifoClient (the reply FIFO is named by pid).
///
/// @code
///   auto client = FifoClient::connect("/tmp/app.fifo").value();
///   std::string answer = client.call("hello", Deadline::after(2s)).value();
/// @endcode
class FifoClient {
public:
    /// errc::no_such_device_or_address (detail "no server is reading") when the server FIFO
    /// exists but nobody serves it; errc::no_such_file_or_directory when it does not exist.
    static Result<FifoClient> connect(const std::string& server_path);

    /// Sends one request (at most FifoFrame::kMaxRequest bytes: errc::message_size otherwise)
    /// and waits until `deadline` for the reply. errc::timed_out if none came; errc::broken_pipe
    /// if the server went away.
    Result<std::string> call(std::string_view request, Deadline deadline = Deadline::never());

    [[nodiscard]] const std::string& reply_path() const noexcept { return reply_fifo_.path(); }

private:
    FifoClient(Fifo reply_fifo, PipeReader replies, PipeWriter server)
        : reply_fifo_(std::move(reply_fifo)), replies_(std::move(replies)), server_(std::move(server)) {}
    Fifo reply_fifo_;
    PipeReader replies_;
    PipeWriter server_;
};

}  // namespace ipckit
