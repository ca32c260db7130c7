// SPDX-License-Identifier: MIT
// Fuzz target: the FIFO client/server wire decoders (FifoServer::receive for requests,
// FifoClient::call for replies; include/ipckit/stream/fifo_server.hpp), over real FIFOs in a
// private directory. Both decoders are reachable only through a FIFO.
//
// Input: bytes 0-1 (little-endian) say how many of the following bytes are the request stream;
// the rest is the reply stream.
//  1. A fresh FifoServer; the request stream is written into its FIFO (never more than the FIFO
//     holds, so nothing blocks), then receive(Deadline::now()) is called until the FIFO is
//     empty. Each request received is replied to: no reply FIFO exists yet, so reply() must
//     report the client gone.
//  2. A FifoClient of that server: one call times out (no reply), the server receives it and so
//     learns the client's seq. The reply stream is written into the client's reply FIFO, with
//     the seq of every "IK2R" header there made relative to that call (seq 0 answers the next
//     call, 1 the one after), then up to 8 calls with Deadline::now() read it.
// Properties: receive() and call() never wait with a deadline of now, fail only with
// bad_message (a malformed frame) or timed_out, and each malformed byte is consumed (the
// server's resynchronisation ends); requests and replies respect kMaxRequest and kMaxReply.
#include "fuzz_target.hpp"
#include "ipckit/core/deadline.hpp"
#include "ipckit/stream/fifo.hpp"
#include "ipckit/stream/fifo_client.hpp"
#include "ipckit/stream/fifo_server.hpp"
#include "scratch_dir.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

namespace {

using ipckit::Deadline;
using ipckit::FifoFrame;

constexpr std::size_t kMaxReplyStream = 60000;  // below the 64 KiB FIFO buffer, with room for calls

bool expected_failure(const ipckit::Error& e) {
    return e == std::errc::bad_message || e == std::errc::timed_out;
}

/// Writes `bytes` into the FIFO at `path` through a writer of our own (a reader is always there).
void feed(const std::string& path, std::span<const std::byte> bytes) {
    if (bytes.empty()) {
        return;
    }
    auto fifo = ipckit::Fifo::open(path);
    FUZZ_CHECK(fifo.has_value());
    auto writer = fifo->try_open_writer(/*nonblocking_io=*/true);
    FUZZ_CHECK(writer.has_value() && writer->has_value());
    FUZZ_CHECK((*writer)->write_all(bytes, Deadline::now()).has_value());
}

/// Receives until the FIFO is empty; each call must consume something.
void drain(ipckit::FifoServer& server, std::size_t bytes_in_fifo) {
    for (std::size_t i = 0; i <= bytes_in_fifo + 1; ++i) {
        auto r = server.receive(Deadline::now());
        if (!r) {
            FUZZ_CHECK(r.error() == std::errc::bad_message);
            continue;
        }
        if (!*r) {
            return;
        }
        const ipckit::FifoRequest& req = **r;
        FUZZ_CHECK(req.client > 0 && req.body.size() <= FifoFrame::kMaxRequest);
        // No client FIFO exists yet (the client comes in step 2): reply() finds nobody.
        auto sent = server.reply(req, req.body, Deadline::now());
        FUZZ_CHECK(sent.has_value() && !*sent);
    }
    ipckit::fuzz::violated(
        __FILE__, __LINE__, "receive() kept returning without consuming the FIFO");
}

/// The reply stream with each "IK2R" header's seq made relative to `first_seq`.
std::vector<std::byte> with_live_seqs(std::span<const std::uint8_t> in, std::uint32_t first_seq) {
    std::vector<std::byte> out(in.size());
    if (!in.empty()) {
        std::memcpy(out.data(), in.data(), in.size());
    }
    const std::uint32_t magic = FifoFrame::kReplyMagic;
    for (std::size_t i = 0; i + FifoFrame::kHeaderSize <= out.size(); ++i) {
        if (std::memcmp(out.data() + i, &magic, sizeof magic) != 0) {
            continue;
        }
        std::uint32_t seq = 0;
        std::memcpy(&seq, out.data() + i + 8, sizeof seq);
        seq += first_seq;
        std::memcpy(out.data() + i + 8, &seq, sizeof seq);
    }
    return out;
}

}  // namespace

IPCKIT_FUZZ_TARGET(fifo_reply) {
    if (size < 2) {
        return 0;
    }
    const std::size_t split =
        std::min(std::size_t{data[0]} | (std::size_t{data[1]} << 8U), size - 2);
    const std::span<const std::uint8_t> requests(data + 2, std::min(split, kMaxReplyStream));
    const std::span<const std::uint8_t> replies(data + 2 + split,
                                                std::min(size - 2 - split, kMaxReplyStream));
    const std::string path = ipckit::fuzz::scratch_dir() + "/server.fifo";

    auto server = ipckit::FifoServer::create(path);
    FUZZ_CHECK(server.has_value());

    // 1. The request decoder.
    feed(path, std::as_bytes(requests));
    drain(*server, requests.size());

    // 2. The reply decoder.
    auto client = ipckit::FifoClient::connect(path);
    FUZZ_CHECK(client.has_value());
    auto probe = client->call("probe", Deadline::now());
    FUZZ_CHECK(!probe && probe.error() == std::errc::timed_out);
    auto req = server->receive(Deadline::now());
    FUZZ_CHECK(req.has_value() && req->has_value() && (*req)->client == ::getpid());
    feed(client->reply_path(), with_live_seqs(replies, (*req)->seq + 1));
    for (int call = 0; call < 8; ++call) {
        auto reply = client->call("q", Deadline::now());
        if (reply) {
            FUZZ_CHECK(reply->size() <= FifoFrame::kMaxReply);
        } else {
            FUZZ_CHECK(expected_failure(reply.error()));
        }
        auto r = server->receive(Deadline::now());  // the call's request: keep the FIFO empty
        FUZZ_CHECK(r.has_value() && r->has_value());
    }
    return 0;
}
