// SPDX-License-Identifier: MIT
#include "ipckit/stream/fifo_client.hpp"

#include <unistd.h>

#include <cstring>

namespace ipckit {

Result<FifoClient> FifoClient::connect(const std::string& server_path) {
    auto server_fifo = Fifo::open(server_path);
    if (!server_fifo) {
        return std::move(server_fifo).error();
    }
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
    auto replies = reply_fifo->open_read_write(/*nonblocking_io=*/true);
    if (!replies) {
        return std::move(replies).error();
    }
    auto server = server_fifo->try_open_writer();
    if (!server) {
        return std::move(server).error();
    }
    if (!server->has_value()) {
        return Error(std::errc::no_such_device_or_address, "open(O_WRONLY|O_NONBLOCK)", server_path,
                     "no server is reading");
    }
    return FifoClient(std::move(*reply_fifo), std::move(*replies), std::move(**server));
}

Result<std::string> FifoClient::call(std::string_view request, Deadline deadline) {
    if (request.size() > FifoFrame::kMaxRequest) {
        return Error(std::errc::message_size, "call", server_.object(),
                     std::to_string(request.size()) + " bytes > " +
                         std::to_string(FifoFrame::kMaxRequest) + " (requests must fit PIPE_BUF)");
    }
    const FifoFrame frame{FifoFrame::kRequestMagic, static_cast<std::int32_t>(::getpid()),
                          static_cast<std::uint32_t>(request.size())};
    std::string wire(sizeof frame + request.size(), '\0');
    std::memcpy(wire.data(), &frame, sizeof frame);
    std::memcpy(wire.data() + sizeof frame, request.data(), request.size());
    IPCKIT_TRY(server_.write_all(wire, deadline));  // one write <= PIPE_BUF: atomic

    FifoFrame head{};
    auto n = replies_.read_exact(std::as_writable_bytes(std::span(&head, 1)), deadline);
    if (!n) {
        return std::move(n).error();
    }
    if (head.magic != FifoFrame::kReplyMagic || head.length > FifoFrame::kMaxReply) {
        return Error(std::errc::bad_message, "call", reply_fifo_.path(), "malformed reply header");
    }
    std::string body(head.length, '\0');
    auto m = replies_.read_exact(std::as_writable_bytes(std::span(body.data(), body.size())), deadline);
    if (!m) {
        return std::move(m).error();
    }
    return body;
}

}  // namespace ipckit
