// SPDX-License-Identifier: MIT
// The common half of the byte-stream transports (anonymous pipes, FIFOs), through ipckit's
// PipeWriter/PipeReader: each role writes on one pipe and reads on the other. attach() keeps this
// role's ends and closes the peer's, so a dead peer shows up as end of file or EPIPE instead of a
// hang. Reads carry the phase deadline (read_exact polls until it, then reads).
#pragma once

#include "engine/transport.hpp"
#include "engine/wait.hpp"
#include "ipckit/stream/pipe.hpp"

#include <string>

namespace ipckit::bench {

class PipePairTransport : public Transport {
public:
    Result<void> attach(Role role, int /*peer_pid*/) override {
        IPCKIT_TRY(open_ends(role));
        const bool leader = role == Role::Leader;
        out_ = std::move(leader ? leader_out_ : follower_out_);
        in_ = std::move(leader ? leader_in_ : follower_in_);
        close_spare_ends();
        return {};
    }

    Result<void> send(std::span<const std::byte> message) override {
        return out_.write_all(message, phase_deadline());
    }

    Result<std::size_t> receive(std::span<std::byte> buffer) override {
        IPCKIT_TRY_ASSIGN(const std::size_t n, in_.read_exact(buffer, phase_deadline()));
        if (n < buffer.size()) {
            return Error(
                std::errc::connection_reset, "read", in_.object(), "the peer closed its end");
        }
        return n;
    }

    void teardown() noexcept override {
        close_spare_ends();
        out_.close();
        in_.close();
    }

protected:
    /// The ends of both roles: the leader writes `leader_out` (the follower reads it as
    /// `follower_in`) and reads `leader_in`.
    void set_ends(PipeWriter leader_out,
                  PipeReader leader_in,
                  PipeWriter follower_out,
                  PipeReader follower_in) {
        leader_out_ = std::move(leader_out);
        leader_in_ = std::move(leader_in);
        follower_out_ = std::move(follower_out);
        follower_in_ = std::move(follower_in);
    }
    /// For FIFOs, which are opened in the children rather than the supervisor: calls set_ends().
    virtual Result<void> open_ends(Role /*role*/) { return {}; }

private:
    void close_spare_ends() noexcept {
        leader_out_.close();
        leader_in_.close();
        follower_out_.close();
        follower_in_.close();
    }
    PipeWriter leader_out_;
    PipeReader leader_in_;
    PipeWriter follower_out_;
    PipeReader follower_in_;
    PipeWriter out_;  // this role's, after attach()
    PipeReader in_;
};

}  // namespace ipckit::bench
