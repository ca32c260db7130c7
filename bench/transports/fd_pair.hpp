// SPDX-License-Identifier: MIT
// The common half of the file-descriptor transports (pipes, FIFOs, sockets): each role owns one
// descriptor to send on and one to receive on (the same one for a socket). The supervisor
// creates all of them before fork; attach() closes the peer's, so a dead peer shows up as EOF or
// EPIPE instead of a hang.
#pragma once

#include "engine/transport.hpp"
#include "engine/wait.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <string>

namespace ipckit::bench {

class FdPairTransport : public Transport {
public:
    /// Byte streams frame by length (the reader reads exactly the buffer); records keep
    /// boundaries (datagrams, seqpacket).
    enum class Framing { Stream, Record };

    FdPairTransport(Framing framing, bool socket) : framing_(framing), socket_(socket) {}
    FdPairTransport(const FdPairTransport&) = delete;
    FdPairTransport& operator=(const FdPairTransport&) = delete;
    FdPairTransport(FdPairTransport&&) = delete;
    FdPairTransport& operator=(FdPairTransport&&) = delete;
    ~FdPairTransport() override { close_all(); }

    Result<void> attach(Role role, int /*peer_pid*/) override {
        if (auto r = open_ends(role); !r) {
            return r;
        }
        const std::size_t mine = role == Role::Leader ? 0 : 2;
        const std::size_t theirs = role == Role::Leader ? 2 : 0;
        send_fd_ = fds_[mine];
        recv_fd_ = fds_[mine + 1];
        for (std::size_t i = theirs; i < theirs + 2; ++i) {
            if (fds_[i] >= 0 && fds_[i] != send_fd_ && fds_[i] != recv_fd_) {
                ::close(fds_[i]);
            }
        }
        return {};
    }

    Result<void> send(std::span<const std::byte> message) override {
        if (framing_ == Framing::Stream) {
            return write_all(send_fd_, message, object_, socket_);
        }
        return send_record(send_fd_, message, object_);
    }

    Result<std::size_t> receive(std::span<std::byte> buffer) override {
        if (framing_ == Framing::Stream) {
            if (auto r = read_exact(recv_fd_, buffer, object_); !r) {
                return r.error();
            }
            return buffer.size();
        }
        return recv_record(recv_fd_, buffer, object_);
    }

    void teardown() noexcept override { close_all(); }

protected:
    /// Slots: [0] leader sends, [1] leader receives, [2] follower sends, [3] follower receives.
    void set_fds(int leader_send, int leader_recv, int follower_send, int follower_recv) {
        fds_ = {leader_send, leader_recv, follower_send, follower_recv};
    }
    void set_object(std::string object) { object_ = std::move(object); }
    /// For FIFOs, which are opened in the children rather than the supervisor.
    virtual Result<void> open_ends(Role /*role*/) { return {}; }

private:
    void close_all() noexcept {
        std::array<int, 4> closed{-1, -1, -1, -1};
        for (std::size_t i = 0; i < fds_.size(); ++i) {
            if (fds_[i] >= 0 && std::find(closed.begin(), closed.end(), fds_[i]) == closed.end()) {
                ::close(fds_[i]);
                closed[i] = fds_[i];
            }
            fds_[i] = -1;
        }
    }
    Framing framing_;
    bool socket_;
    std::array<int, 4> fds_{-1, -1, -1, -1};
    int send_fd_ = -1;
    int recv_fd_ = -1;
    std::string object_ = "fd";
};

/// Raises SO_SNDBUF/SO_RCVBUF towards `bytes` (the kernel caps it at wmem_max/rmem_max) and
/// returns the largest record the send buffer then admits.
std::size_t grow_socket_buffers(int fd, std::size_t bytes);

}  // namespace ipckit::bench
