// SPDX-License-Identifier: MIT
// The client half of the FIFO client/server (fifo_server.hpp): one request FIFO shared by all
// clients, one reply FIFO per client named by its pid.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "ipckit/core/deadline.hpp"
#include "ipckit/core/result.hpp"
#include "ipckit/export.hpp"
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
/// Replies are matched to requests: each call() sends the next FifoFrame::seq (one more than the
/// previous call's, starting from a random value, so a recycled pid's late replies do not match
/// either) and accepts only the reply carrying it. The late reply of an earlier call that timed
/// out is read and discarded (at most kMaxDiscardedReplies per call, never past the deadline).
/// A call that times out in the middle of a reply keeps its progress in the client, so the next
/// call finishes (and drops) that frame instead of parsing its tail as a header. A reply header
/// with a bad magic or a length over FifoFrame::kMaxReply is errc::bad_message: nothing is
/// allocated for it, and the bytes then waiting in the FIFO are discarded to resynchronise.
///
/// @code
///   auto client = FifoClient::connect("/tmp/app.fifo").value();
///   std::string answer = client.call("hello", Deadline::after(2s)).value();
/// @endcode
class IPCKIT_API FifoClient {
public:
    /// errc::no_such_device_or_address (detail "no server is reading") when the server FIFO
    /// exists but nobody serves it; errc::no_such_file_or_directory when it does not exist; a
    /// server FIFO whose owner `ownership` does not trust (by default: anyone but us) is refused
    /// (is_untrusted_owner), as Fifo::open does. Trust the server's user to reach a server run by
    /// another user.
    static Result<FifoClient> connect(const std::string& server_path,
                                      const Ownership& ownership = {});

    /// Sends one request (at most FifoFrame::kMaxRequest bytes: errc::message_size otherwise)
    /// and waits until `deadline` for its own reply. errc::timed_out if none came (detail says how
    /// much of a reply frame had arrived); errc::broken_pipe if the server went away;
    /// errc::bad_message for a malformed reply header or more than kMaxDiscardedReplies replies
    /// to other requests.
    Result<std::string> call(std::string_view request, Deadline deadline = Deadline::never());

    /// Replies to earlier (timed-out) requests one call() will skip before it gives up.
    static constexpr std::size_t kMaxDiscardedReplies = 64;

    [[nodiscard]] const std::string& reply_path() const noexcept { return reply_fifo_.path(); }

private:
    FifoClient(Fifo reply_fifo, PipeReader replies, PipeWriter server, std::uint32_t first_seq)
        : reply_fifo_(std::move(reply_fifo)),
          replies_(std::move(replies)),
          server_(std::move(server)),
          next_seq_(first_seq) {}
    /// Reads (or continues) one reply frame. true: it was the reply to `seq` (now in body_);
    /// false: it answered another request and was discarded.
    Result<bool> read_frame(std::uint32_t seq, Deadline deadline);

    Fifo reply_fifo_;
    PipeReader replies_;
    PipeWriter server_;
    std::uint32_t next_seq_;
    // Progress through the reply frame being read; it survives a call that timed out.
    std::array<std::byte, FifoFrame::kHeaderSize> head_{};
    std::size_t head_got_ = 0;
    bool in_body_ = false;
    FifoFrame frame_{};         // the decoded header while in_body_
    std::size_t body_got_ = 0;
    std::string body_;          // sized to frame_.length only when frame_ answers the current call
};

}  // namespace ipckit
