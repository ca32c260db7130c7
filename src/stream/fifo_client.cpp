// SPDX-License-Identifier: MIT
#include "ipckit/stream/fifo_client.hpp"

#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <utility>

namespace ipckit {

namespace {

// A random first seq: a client that inherits a dead process's pid (and so its FIFO name) must
// not accept a late reply meant for that process. getrandom without GRND_NONBLOCK could block
// at early boot; the fallback only needs to differ between processes, not be secret.
std::uint32_t first_seq() noexcept {
    std::uint32_t v = 0;
    if (::getrandom(&v, sizeof v, GRND_NONBLOCK) != static_cast<ssize_t>(sizeof v)) {
        const auto now = std::chrono::steady_clock::now().time_since_epoch().count();
        v = static_cast<std::uint32_t>(now) ^ (static_cast<std::uint32_t>(::getpid()) * 2654435761U);
    }
    return v;
}

// Drops what is waiting in the (non-blocking) reply FIFO after a malformed header; returns the
// count. Bounded: a server that keeps writing cannot keep us here.
std::size_t discard_pending(PipeReader& in) {
    std::byte junk[4096];
    std::size_t total = 0;
    for (int i = 0; i < 512; ++i) {
        auto n = in.try_read(junk);
        if (!n || !n->has_value() || **n == 0) {
            break;
        }
        total += **n;
    }
    return total;
}

}  // namespace

Result<FifoClient> FifoClient::connect(const std::string& server_path, const Ownership& ownership) {
    IPCKIT_TRY_ASSIGN(auto server_fifo, Fifo::open(server_path, ownership));
    const std::string mine = FifoServer::client_fifo_path(server_path, ::getpid());
    auto reply_fifo = Fifo::create(mine);
    if (!reply_fifo && reply_fifo.error() == std::errc::file_exists && reply_fifo.error().detail().empty()) {
        // A FIFO with our pid already exists: left by a dead process that had our pid (we are
        // alive, so it cannot be a live client's). Replace it.
        IPCKIT_TRY(Fifo::unlink(mine));
        reply_fifo = Fifo::create(mine);
    }
    if (!reply_fifo) {
        return std::move(reply_fifo).error();
    }
    // Read-write: the server's non-blocking writer open succeeds while we live (and fails with
    // ENXIO once we are gone), and our reads never see a spurious end of file between replies.
    IPCKIT_TRY_ASSIGN(auto replies, reply_fifo->open_read_write(/*nonblocking_io=*/true));
    IPCKIT_TRY_ASSIGN(auto server, server_fifo.try_open_writer());
    if (!server.has_value()) {
        return Error(std::errc::no_such_device_or_address, "open(O_WRONLY|O_NONBLOCK)", server_path,
                     "no server is reading");
    }
    return FifoClient(std::move(*reply_fifo), std::move(replies), std::move(*server), first_seq());
}

Result<std::string> FifoClient::call(std::string_view request, Deadline deadline) {
    if (request.size() > FifoFrame::kMaxRequest) {
        return Error(std::errc::message_size, "call", server_.object(),
                     std::to_string(request.size()) + " bytes > " +
                         std::to_string(FifoFrame::kMaxRequest) + " (requests must fit PIPE_BUF)");
    }
    const std::uint32_t seq = next_seq_++;
    const FifoFrame frame{FifoFrame::kRequestMagic, static_cast<std::int32_t>(::getpid()), seq,
                          static_cast<std::uint32_t>(request.size())};
    std::string wire(sizeof frame + request.size(), '\0');
    std::memcpy(wire.data(), &frame, sizeof frame);
    std::memcpy(wire.data() + sizeof frame, request.data(), request.size());
    IPCKIT_TRY(server_.write_all(wire, deadline));  // one write <= PIPE_BUF: atomic

    // Replies come in request order, so anything before ours answers an earlier call that gave
    // up (possibly a frame that call had started reading): finish and drop it.
    for (std::size_t discarded = 0;; ++discarded) {
        if (discarded > kMaxDiscardedReplies) {
            return Error(std::errc::bad_message, "call", reply_fifo_.path(),
                         "more than " + std::to_string(kMaxDiscardedReplies) +
                             " replies to other requests before the reply to request " +
                             std::to_string(seq));
        }
        IPCKIT_TRY_ASSIGN(auto ours, read_frame(seq, deadline));
        if (ours) {
            return std::exchange(body_, {});
        }
    }
}

namespace {
/// Untrusted: a wrong magic or length means the stream is not ours to parse any more.
bool sane_reply_header(const FifoFrame& f) noexcept {
    return f.magic == FifoFrame::kReplyMagic && f.length <= FifoFrame::kMaxReply;
}
}  // namespace

Result<bool> FifoClient::read_frame(std::uint32_t seq, Deadline deadline) {
    const auto waiting = [&](std::size_t got, std::size_t of, const char* what) {
        return "waiting for the reply to request " + std::to_string(seq) + ": received " +
               std::to_string(got) + " of " + std::to_string(of) + " " + what +
               " (progress kept for the next call)";
    };
    while (!in_body_) {
        IPCKIT_TRY_ASSIGN(auto n,
                          replies_.read_until(std::span(head_).subspan(head_got_), deadline));
        if (!n.has_value()) {
            return Error(std::errc::timed_out, "call", reply_fifo_.path(),
                         waiting(head_got_, head_.size(), "header bytes"));
        }
        if (*n == 0) {  // we hold the FIFO open for writing too: should not happen
            return Error(std::errc::connection_aborted, "call", reply_fifo_.path(),
                         "end of file on the reply FIFO");
        }
        head_got_ += *n;
        if (head_got_ < head_.size()) {
            continue;
        }
        head_got_ = 0;
        std::memcpy(&frame_, head_.data(), sizeof frame_);
        if (!sane_reply_header(frame_)) {
            const std::size_t dropped = discard_pending(replies_);
            return Error(std::errc::bad_message, "call", reply_fifo_.path(),
                         "malformed reply header (magic " + std::to_string(frame_.magic) +
                             ", length " + std::to_string(frame_.length) + ", max " +
                             std::to_string(FifoFrame::kMaxReply) + "); " +
                             std::to_string(dropped) + " pending bytes discarded");
        }
        in_body_ = true;
        body_got_ = 0;
        body_.assign(frame_.seq == seq ? frame_.length : 0, '\0');  // a stale reply is not kept
    }
    // Decided per chunk: a frame begun by an earlier call is dropped by this one.
    const bool ours = frame_.seq == seq && body_.size() == frame_.length;
    const char* const what = ours ? "reply bytes" : "bytes of a stale reply";
    std::byte scratch[4096];
    while (body_got_ < frame_.length) {
        const std::size_t want = frame_.length - body_got_;
        const std::span<std::byte> into =
            ours ? std::as_writable_bytes(std::span(body_.data() + body_got_, want))
                 : std::span(scratch, std::min(want, sizeof scratch));
        IPCKIT_TRY_ASSIGN(auto n, replies_.read_until(into, deadline));
        if (!n.has_value()) {
            return Error(std::errc::timed_out, "call", reply_fifo_.path(),
                         waiting(body_got_, frame_.length, what));
        }
        if (*n == 0) {
            return Error(std::errc::connection_aborted, "call", reply_fifo_.path(),
                         "end of file on the reply FIFO");
        }
        body_got_ += *n;
    }
    in_body_ = false;
    if (!ours) {
        body_.clear();
    }
    return ours;
}

}  // namespace ipckit
