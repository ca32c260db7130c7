// SPDX-License-Identifier: MIT
// Peers: ZeroMQ over ipc:// (a Unix socket plus libzmq's I/O thread) in three patterns: PAIR (one
// socket both ways), REQ/REP (the leader asks, the follower answers: round trips only) and
// PUSH/PULL (one pipeline each way, what a work queue is built on). The leader binds, the follower
// connects; each child makes its own context after fork, as libzmq requires. The supervisor
// removes the socket files.
#include "engine/wait.hpp"
#include "transports/registry.hpp"

#include <unistd.h>

#include <optional>
#include <zmq.hpp>

namespace ipckit::bench {
namespace {

enum class Pattern { Pair, ReqRep, PushPull };

class ZmqIpc final : public Transport {
public:
    explicit ZmqIpc(Pattern pattern) noexcept : pattern_(pattern) {}

    Result<void> setup(const SetupParams& p) override {
        path_ = p.temp_dir + "/" + p.tag + ".zmq";
        ledger("path", path_);
        if (pattern_ == Pattern::PushPull) {
            ledger("path", path_ + ".back");
        }
        return {};
    }
    Result<void> attach(Role role, int /*peer_pid*/) override {
        const bool leader = role == Role::Leader;
        try {
            context_.emplace(1);
            switch (pattern_) {
                case Pattern::Pair:
                    out_ = &open(out_socket_, zmq::socket_type::pair, leader, path_);
                    in_ = out_;
                    break;
                case Pattern::ReqRep:
                    out_ = &open(out_socket_, leader ? zmq::socket_type::req : zmq::socket_type::rep,
                                 leader, path_);
                    in_ = out_;
                    break;
                case Pattern::PushPull:
                    // The leader pushes on `path`, the follower on `path.back`.
                    out_ = &open(out_socket_, zmq::socket_type::push, leader,
                                 leader ? path_ : path_ + ".back");
                    in_ = &open(in_socket_, zmq::socket_type::pull, leader,
                                leader ? path_ + ".back" : path_);
                    break;
            }
        } catch (const zmq::error_t& e) {
            return Error::from_errno(e.num(), "zmq attach", path_, e.what());
        }
        return {};
    }
    Result<void> send(std::span<const std::byte> message) override {
        for (;;) {
            try {
                if (out_->send(zmq::const_buffer(message.data(), message.size()),
                               zmq::send_flags::none)) {
                    return {};
                }
            } catch (const zmq::error_t& e) {
                if (e.num() != EINTR) {
                    return Error::from_errno(e.num(), "zmq_send", path_);
                }
            }
            if (phase_deadline().expired()) {
                return timed_out("zmq_send", path_);
            }
        }
    }
    Result<std::size_t> receive(std::span<std::byte> buffer) override {
        for (;;) {
            try {
                auto r = in_->recv(zmq::mutable_buffer(buffer.data(), buffer.size()),
                                   zmq::recv_flags::none);
                if (r) {
                    if (r->truncated()) {
                        return Error(std::errc::message_size, "zmq_recv", path_);
                    }
                    return r->size;
                }
            } catch (const zmq::error_t& e) {
                if (e.num() != EINTR) {
                    return Error::from_errno(e.num(), "zmq_recv", path_);
                }
            }
            if (phase_deadline().expired()) {
                return timed_out("zmq_recv", path_);
            }
        }
    }
    void detach() noexcept override {
        out_ = nullptr;
        in_ = nullptr;
        out_socket_.reset();
        in_socket_.reset();
        context_.reset();
    }
    void teardown() noexcept override {
        if (!path_.empty()) {
            ::unlink(path_.c_str());
            if (pattern_ == Pattern::PushPull) {
                ::unlink((path_ + ".back").c_str());
            }
        }
    }

private:
    /// Makes `slot` a socket of `type` with the bench's timeouts, bound (leader) or connected.
    zmq::socket_t& open(std::optional<zmq::socket_t>& slot,
                        zmq::socket_type type,
                        bool bind,
                        const std::string& path) {
        slot.emplace(*context_, type);
        slot->set(zmq::sockopt::linger, 0);
        slot->set(zmq::sockopt::rcvtimeo, 200);  // re-checked against the phase deadline
        slot->set(zmq::sockopt::sndtimeo, 200);
        if (bind) {
            slot->bind("ipc://" + path);
        } else {
            slot->connect("ipc://" + path);
        }
        return *slot;
    }

    Pattern pattern_;
    std::string path_;
    std::optional<zmq::context_t> context_;
    std::optional<zmq::socket_t> out_socket_;
    std::optional<zmq::socket_t> in_socket_;
    zmq::socket_t* out_ = nullptr;
    zmq::socket_t* in_ = nullptr;
};

}  // namespace

std::unique_ptr<Transport> make_zmq_ipc() {
    return std::make_unique<ZmqIpc>(Pattern::Pair);
}

std::unique_ptr<Transport> make_zmq_reqrep() {
    return std::make_unique<ZmqIpc>(Pattern::ReqRep);
}

std::unique_ptr<Transport> make_zmq_pushpull() {
    return std::make_unique<ZmqIpc>(Pattern::PushPull);
}

}  // namespace ipckit::bench
