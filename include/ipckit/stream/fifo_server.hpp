// SPDX-License-Identifier: MIT
// The classic FIFO client/server (seed 003, "Client-Server Communication Using a FIFO"): clients
// write requests into one well-known FIFO; the server answers each through a per-client FIFO
// named after the client's pid. FifoClient is the other half (fifo_client.hpp).
#pragma once

#include "ipckit/core/deadline.hpp"
#include "ipckit/core/open_mode.hpp"
#include "ipckit/core/result.hpp"
#include "ipckit/export.hpp"
#include "ipckit/stream/fifo.hpp"
#include "ipckit/stream/pipe.hpp"

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace ipckit {

/// Wire format shared by FifoServer and FifoClient, version 2 (native byte order: both ends are
/// on one host). Every message is a 16-byte header followed by `length` body bytes:
///
///   offset 0   u32 magic    kRequestMagic "IK2Q" (client -> server) or kReplyMagic "IK2R"
///   offset 4   i32 pid      the client's pid (names its reply FIFO)
///   offset 8   u32 seq      request number chosen by the client; the reply echoes it
///   offset 12  u32 length   body bytes that follow
///
/// A request is one write of header + body, at most kPipeBuf in total, so concurrent clients'
/// requests never interleave (F19). A reply (any length up to kMaxReply) goes to the client's
/// own FIFO, which has a single writer. The seq ties a reply to its request: a client whose call
/// timed out may later find that call's late reply in its FIFO and discards it by seq. Version 1
/// (12-byte header without seq, magics "IKFQ"/"IKFR") is refused as a malformed frame.
struct IPCKIT_API FifoFrame {
    std::uint32_t magic;
    std::int32_t pid;
    std::uint32_t seq;
    std::uint32_t length;
    static constexpr std::uint32_t kRequestMagic =
        0x51324b49;  // bytes "IK2Q" on a little-endian host
    static constexpr std::uint32_t kReplyMagic = 0x52324b49;  // "IK2R"
    static constexpr std::size_t kHeaderSize = 16;
    static constexpr std::size_t kMaxRequest = kPipeBuf - kHeaderSize;
    static constexpr std::size_t kMaxReply = std::size_t{1} << 20;
};
static_assert(sizeof(FifoFrame) == FifoFrame::kHeaderSize);

/// One request read by the server.
struct IPCKIT_API FifoRequest {
    pid_t client = 0;       ///< the pid the client claims (names its reply FIFO)
    std::uint32_t seq = 0;  ///< the client's request number; reply() echoes it
    std::string body;
};

/// The server side: owns the well-known FIFO (created 0600 by default, unlinked on destruction)
/// and holds it open read-write, so its reads never see end of file between clients.
///
/// Robustness: a client that vanished before its reply (no reader on its FIFO: ENXIO, or EPIPE
/// mid-reply) makes reply() return false and remove the client's FIFO; SIGPIPE is never raised.
/// A client that stops reading cannot stall the server past reply()'s deadline. A malformed
/// request (bad magic, length over kMaxRequest, a header or body cut short) is errc::bad_message;
/// the server then resynchronises on the next request magic, so well-formed requests queued
/// behind the bad one are still served. receive() never waits for the rest of a request: each
/// is one atomic write, so one that arrives partial was written partial. A forged header with a
/// plausible length can still swallow the bytes behind it (a FIFO keeps no write boundaries);
/// only a hostile writer sends one. remove_stale_clients() unlinks reply FIFOs whose pid no
/// longer exists (the seed's "FIFOs left in the system" by crashed clients).
///
/// Trust: as in the classic design, the pid in a request is the client's claim; anyone who can
/// write the server FIFO can ask for a reply to another pid's FIFO. Keep the mode 0600 (same
/// user) or authenticate in the body. Thread-safety: one thread at a time. Fork/exec: CLOEXEC.
///
/// @code
///   auto server = FifoServer::create("/tmp/app.fifo").value();
///   for (;;) {
///       auto req = server.receive(Deadline::never()).value();
///       if (req) server.reply(*req, "echo: " + req->body).value();
///   }
/// @endcode
class IPCKIT_API FifoServer {
public:
    static Result<FifoServer> create(std::string path, Permissions perms = Permissions());

    /// Waits until `deadline` for a request; empty optional if none came.
    Result<std::optional<FifoRequest>> receive(Deadline deadline);
    /// Sends `body` to the client's reply FIFO, tagged with request.seq. true: delivered; false:
    /// the client is gone (its FIFO is removed). errc::timed_out if the client does not drain it
    /// before `deadline`.
    Result<bool> reply(const FifoRequest& request,
                       std::string_view body,
                       Deadline deadline = Deadline::after(std::chrono::seconds(1)));
    /// Removes reply FIFOs of clients whose process no longer exists; returns how many.
    Result<std::size_t> remove_stale_clients();

    /// "<server path>.client.<pid>": where client `pid` waits for its reply.
    static std::string client_fifo_path(const std::string& server_path, pid_t pid);
    [[nodiscard]] const std::string& path() const noexcept { return fifo_.path(); }

private:
    FifoServer(Fifo fifo, PipeReader in) : fifo_(std::move(fifo)), in_(std::move(in)) {}
    /// Moves up to out.size() of the bytes resync() kept into `out`; returns how many.
    std::size_t take_carried(std::span<std::byte> out);
    /// Fills `out` from the kept bytes, then from what is in the FIFO now; never waits.
    Result<std::size_t> read_now(std::span<std::byte> out);
    /// After a bad frame whose bytes were `consumed`: keeps everything from the next request
    /// magic on (reading at most kResyncLimit bytes), drops what comes before it.
    Result<void> resync(std::span<const std::byte> consumed);

    Fifo fifo_;
    PipeReader in_;
    std::string carry_;  ///< bytes read past a bad frame, starting with a request magic
};

}  // namespace ipckit
