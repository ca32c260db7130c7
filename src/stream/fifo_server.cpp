// SPDX-License-Identifier: MIT
#include "ipckit/stream/fifo_server.hpp"

#include <dirent.h>
#include <signal.h>

#include <charconv>
#include <cstring>
#include <vector>

#include "sys/syscall.hpp"

namespace ipckit {

namespace {

void discard_pending(PipeReader& in) {
    std::byte junk[4096];
    for (int i = 0; i < 64; ++i) {
        auto n = in.try_read(junk);
        if (!n || !n->has_value() || **n == 0) {
            return;
        }
    }
}

}  // namespace

std::string FifoServer::client_fifo_path(const std::string& server_path, pid_t pid) {
    return server_path + ".client." + std::to_string(pid);
}

Result<FifoServer> FifoServer::create(std::string path, Permissions perms) {
    auto fifo = Fifo::create(std::move(path), perms);
    if (!fifo) {
        return std::move(fifo).error();
    }
    // Read-write: we are a writer too, so reads block (never see end of file) when no client is
    // connected, and clients can always open the write end while we live.
    auto in = fifo->open_read_write(/*nonblocking_io=*/true);
    if (!in) {
        return std::move(in).error();
    }
    return FifoServer(std::move(*fifo), std::move(*in));
}

Result<std::optional<FifoRequest>> FifoServer::receive(Deadline deadline) {
    FifoFrame frame{};
    auto head = std::as_writable_bytes(std::span(&frame, 1));
    auto first = in_.read_until(head, deadline);
    if (!first) {
        return std::move(first).error();
    }
    if (!first->has_value()) {
        return std::optional<FifoRequest>();
    }
    // A request is written atomically, so the rest of it is already in the FIFO.
    const auto soon = Deadline::after(std::chrono::seconds(1));
    if (**first < head.size()) {
        auto rest = in_.read_exact(head.subspan(**first), soon);
        if (!rest) {
            return std::move(rest).error();
        }
    }
    if (frame.magic != FifoFrame::kRequestMagic || frame.length > FifoFrame::kMaxRequest ||
        frame.pid <= 0) {
        discard_pending(in_);
        return Error(std::errc::bad_message, "receive", fifo_.path(),
                     "malformed request (magic " + std::to_string(frame.magic) + ", length " +
                         std::to_string(frame.length) + "); pending bytes discarded");
    }
    FifoRequest req;
    req.client = frame.pid;
    req.seq = frame.seq;
    req.body.resize(frame.length);
    auto body = std::as_writable_bytes(std::span(req.body.data(), req.body.size()));
    auto n = in_.read_exact(body, soon);
    if (!n) {
        return std::move(n).error();
    }
    return std::optional<FifoRequest>(std::move(req));
}

Result<bool> FifoServer::reply(const FifoRequest& request, std::string_view body, Deadline deadline) {
    if (body.size() > FifoFrame::kMaxReply) {
        return Error(std::errc::message_size, "reply", fifo_.path(),
                     std::to_string(body.size()) + " bytes > kMaxReply");
    }
    const std::string path = client_fifo_path(fifo_.path(), request.client);
    auto fifo = Fifo::open(path);
    if (!fifo) {
        if (fifo.error() == std::errc::no_such_file_or_directory) {
            return false;  // the client is gone and cleaned up after itself
        }
        return std::move(fifo).error();
    }
    auto writer = fifo->try_open_writer(/*nonblocking_io=*/true);
    if (!writer) {
        return std::move(writer).error();
    }
    if (!writer->has_value()) {
        (void)Fifo::unlink(path);  // ENXIO: nobody reads it: the client died; remove its FIFO
        return false;
    }
    const FifoFrame frame{FifoFrame::kReplyMagic, request.client, request.seq,
                          static_cast<std::uint32_t>(body.size())};
    std::string wire(sizeof frame + body.size(), '\0');
    std::memcpy(wire.data(), &frame, sizeof frame);
    std::memcpy(wire.data() + sizeof frame, body.data(), body.size());
    auto sent = (*writer)->write_all(wire, deadline);
    if (!sent) {
        if (sent.error() == std::errc::broken_pipe) {
            (void)Fifo::unlink(path);  // vanished mid-reply: EPIPE, never SIGPIPE
            return false;
        }
        return std::move(sent).error();
    }
    return true;
}

Result<std::size_t> FifoServer::remove_stale_clients() {
    const std::string& server = fifo_.path();
    const auto slash = server.rfind('/');
    const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : server.substr(0, slash));
    const std::string prefix = server.substr(slash == std::string::npos ? 0 : slash + 1) + ".client.";
    auto d = sys::call_ptr("opendir", dir, static_cast<DIR*>(nullptr), [&] { return ::opendir(dir.c_str()); });
    if (!d) {
        return std::move(d).error();
    }
    std::vector<pid_t> stale;
    while (const dirent* e = ::readdir(*d)) {  // NOLINT(concurrency-mt-unsafe): private DIR
        const std::string_view name(e->d_name);
        if (!name.starts_with(prefix)) {
            continue;
        }
        const std::string_view digits = name.substr(prefix.size());
        pid_t pid = 0;
        const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), pid);
        if (ec != std::errc() || end != digits.data() + digits.size() || pid <= 0) {
            continue;
        }
        if (::kill(pid, 0) != 0 && errno == ESRCH) {
            stale.push_back(pid);
        }
    }
    ::closedir(*d);
    std::size_t removed = 0;
    for (pid_t pid : stale) {
        if (Fifo::unlink(client_fifo_path(server, pid))) {
            ++removed;
        }
    }
    return removed;
}

}  // namespace ipckit
