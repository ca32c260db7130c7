// SPDX-License-Identifier: MIT
#include "ipckit/stream/fifo_server.hpp"

#include "sys/syscall.hpp"

#include <dirent.h>
#include <signal.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <vector>

namespace ipckit {

namespace {

// The request magic as it lies in the FIFO (native byte order, like the whole frame).
std::string_view request_magic_bytes() {
    static constexpr std::uint32_t kMagic = FifoFrame::kRequestMagic;
    return {reinterpret_cast<const char*>(&kMagic), sizeof kMagic};  // NOLINT: object bytes
}

// How many bytes a resync may read while looking for the next request: a writer that floods the
// FIFO with garbage costs the server a bounded amount of work per receive().
constexpr std::size_t kResyncLimit = std::size_t{64} * 4096;

}  // namespace

std::string FifoServer::client_fifo_path(const std::string& server_path, pid_t pid) {
    return server_path + ".client." + std::to_string(pid);
}

Result<FifoServer> FifoServer::create(std::string path, Permissions perms) {
    IPCKIT_TRY_ASSIGN(auto fifo, Fifo::create(std::move(path), perms));
    // Read-write: we are a writer too, so reads block (never see end of file) when no client is
    // connected, and clients can always open the write end while we live.
    IPCKIT_TRY_ASSIGN(auto in, fifo.open_read_write(/*nonblocking_io=*/true));
    return FifoServer(std::move(fifo), std::move(in));
}

std::size_t FifoServer::take_carried(std::span<std::byte> out) {
    const std::size_t n = std::min(out.size(), carry_.size());
    std::memcpy(out.data(), carry_.data(), n);
    carry_.erase(0, n);
    return n;
}

Result<std::size_t> FifoServer::read_now(std::span<std::byte> out) {
    std::size_t got = take_carried(out);
    while (got < out.size()) {
        IPCKIT_TRY_ASSIGN(auto n, in_.try_read(out.subspan(got)));
        if (!n.has_value() || *n == 0) {
            break;  // nothing more in the FIFO now
        }
        got += *n;
    }
    return got;
}

Result<void> FifoServer::resync(std::span<const std::byte> consumed) {
    // The bad frame began at consumed[0]; the next request may begin anywhere after that: in what
    // was consumed, in what an earlier resync kept, or in what is still waiting in the FIFO.
    std::string window;
    if (!consumed.empty()) {
        window.assign(reinterpret_cast<const char*>(consumed.data()) + 1,  // NOLINT: bytes
                      consumed.size() - 1);
    }
    window += carry_;
    carry_.clear();
    char chunk[4096];
    while (window.size() < kResyncLimit) {
        IPCKIT_TRY_ASSIGN(auto n, in_.try_read(std::as_writable_bytes(std::span(chunk))));
        if (!n.has_value() || *n == 0) {
            break;
        }
        window.append(chunk, *n);
    }
    if (const auto at = window.find(request_magic_bytes()); at != std::string::npos) {
        carry_ = window.substr(at);
    }
    return {};
}

Result<std::optional<FifoRequest>> FifoServer::receive(Deadline deadline) {
    FifoFrame frame{};
    auto head = std::as_writable_bytes(std::span(&frame, 1));
    std::size_t got = take_carried(head);
    if (got == 0) {
        IPCKIT_TRY_ASSIGN(auto first, in_.read_until(head, deadline));
        if (!first.has_value()) {
            return std::optional<FifoRequest>();
        }
        got = *first;
    }
    // A request is one atomic write, so all of it is in the FIFO once any of it is: whatever is
    // missing now was never sent, and nothing here waits for it.
    IPCKIT_TRY_ASSIGN(auto rest, read_now(head.subspan(got)));
    got += rest;
    const bool whole_header = got == head.size();
    if (!whole_header || frame.magic != FifoFrame::kRequestMagic ||
        frame.length > FifoFrame::kMaxRequest || frame.pid <= 0) {
        IPCKIT_TRY(resync(head.first(got)));
        return Error(std::errc::bad_message,
                     "receive",
                     fifo_.path(),
                     whole_header ? "malformed request (magic " + std::to_string(frame.magic) +
                                        ", length " + std::to_string(frame.length) + ")"
                                  : "truncated request header (" + std::to_string(got) + " bytes)");
    }
    FifoRequest req;
    req.client = frame.pid;
    req.seq = frame.seq;
    req.body.resize(frame.length);
    auto body = std::as_writable_bytes(std::span(req.body.data(), req.body.size()));
    IPCKIT_TRY_ASSIGN(auto n, read_now(body));
    if (n < body.size()) {
        return Error(std::errc::bad_message,
                     "receive",
                     fifo_.path(),
                     "truncated request: " + std::to_string(n) + " of " +
                         std::to_string(body.size()) + " body bytes");
    }
    return std::optional<FifoRequest>(std::move(req));
}

Result<bool> FifoServer::reply(const FifoRequest& request,
                               std::string_view body,
                               Deadline deadline) {
    if (body.size() > FifoFrame::kMaxReply) {
        return Error(std::errc::message_size,
                     "reply",
                     fifo_.path(),
                     std::to_string(body.size()) + " bytes > kMaxReply");
    }
    const std::string path = client_fifo_path(fifo_.path(), request.client);
    // Any owner: the client made this FIFO (exclusively, refusing a squatted path itself), and
    // with a shared server FIFO the client may be another user.
    auto fifo = Fifo::open(path, Ownership::any());
    if (!fifo) {
        if (fifo.error() == std::errc::no_such_file_or_directory) {
            return false;  // the client is gone and cleaned up after itself
        }
        return std::move(fifo).error();
    }
    IPCKIT_TRY_ASSIGN(auto writer, fifo->try_open_writer(/*nonblocking_io=*/true));
    if (!writer.has_value()) {
        (void)Fifo::unlink(path);  // ENXIO: nobody reads it: the client died; remove its FIFO
        return false;
    }
    const FifoFrame frame{FifoFrame::kReplyMagic,
                          request.client,
                          request.seq,
                          static_cast<std::uint32_t>(body.size())};
    std::string wire(sizeof frame + body.size(), '\0');
    std::memcpy(wire.data(), &frame, sizeof frame);
    std::memcpy(wire.data() + sizeof frame, body.data(), body.size());
    auto sent = writer->write_all(wire, deadline);
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
    const std::string dir =
        slash == std::string::npos ? "." : (slash == 0 ? "/" : server.substr(0, slash));
    const std::string prefix =
        server.substr(slash == std::string::npos ? 0 : slash + 1) + ".client.";
    IPCKIT_TRY_ASSIGN(auto d, sys::call_ptr("opendir", dir, static_cast<DIR*>(nullptr), [&] {
                          return ::opendir(dir.c_str());
                      }));
    std::vector<pid_t> stale;
    while (const dirent* e = ::readdir(d)) {  // NOLINT(concurrency-mt-unsafe): private DIR
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
    ::closedir(d);
    std::size_t removed = 0;
    for (pid_t pid : stale) {
        if (Fifo::unlink(client_fifo_path(server, pid))) {
            ++removed;
        }
    }
    return removed;
}

}  // namespace ipckit
