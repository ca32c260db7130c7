// SPDX-License-Identifier: MIT
// The common half of the socket transports (Unix stream/datagram/seqpacket pairs, TCP and UDP over
// loopback), through ipckit::Socket: the supervisor makes one connected socket per role before
// fork; attach() keeps this role's and closes the peer's, so a dead peer shows up as end of file
// or EPIPE instead of a hang. Every send and receive carries the phase deadline.
#pragma once

#include "engine/transport.hpp"
#include "engine/wait.hpp"
#include "ipckit/socket/socket.hpp"

#include <optional>

namespace ipckit::bench {

class SocketPairTransport : public Transport {
public:
    [[nodiscard]] std::size_t max_message_size() const override { return max_; }

    Result<void> attach(Role role, int /*peer_pid*/) override {
        auto& mine = role == Role::Leader ? leader_ : follower_;
        auto& theirs = role == Role::Leader ? follower_ : leader_;
        socket_ = std::move(mine);
        theirs.reset();
        mine.reset();
        return {};
    }

    Result<void> send(std::span<const std::byte> message) override {
        return socket_->send(message, phase_deadline());
    }

    /// Streams read exactly buffer.size() bytes; records return the one message (a truncated
    /// record is the wrapper's errc::message_size).
    Result<std::size_t> receive(std::span<std::byte> buffer) override {
        std::size_t done = 0;
        do {
            IPCKIT_TRY_ASSIGN(auto n, socket_->receive(buffer.subspan(done), phase_deadline()));
            if (!n) {
                return timed_out("recv", socket_->name());
            }
            if (socket_->type() != SocketType::Stream) {
                return *n;
            }
            if (*n == 0) {
                return Error(std::errc::connection_reset,
                             "recv",
                             socket_->name(),
                             "the peer closed its end");
            }
            done += *n;
        } while (done < buffer.size());
        return done;
    }

    void teardown() noexcept override {
        leader_.reset();
        follower_.reset();
        socket_.reset();
    }

protected:
    /// The connected pair, and the largest message it carries (SIZE_MAX for streams).
    void set_sockets(Socket leader, Socket follower, std::size_t max_message_size = SIZE_MAX) {
        leader_.emplace(std::move(leader));
        follower_.emplace(std::move(follower));
        max_ = max_message_size;
    }

private:
    std::optional<Socket> leader_;
    std::optional<Socket> follower_;
    std::optional<Socket> socket_;  // this role's, after attach()
    std::size_t max_ = SIZE_MAX;
};

/// Raises SO_SNDBUF/SO_RCVBUF towards `bytes` (the kernel caps it at wmem_max/rmem_max) and
/// returns the largest record the send buffer then admits.
std::size_t grow_socket_buffers(const Socket& socket, std::size_t bytes);

}  // namespace ipckit::bench
