// SPDX-License-Identifier: MIT
// Peer: ZeroMQ PAIR sockets over ipc:// (a Unix socket plus libzmq's I/O thread). The leader
// binds, the follower connects; each child makes its own context after fork, as libzmq requires.
// The supervisor removes the socket file.
#include "engine/wait.hpp"
#include "transports/registry.hpp"

#include <unistd.h>

#include <optional>
#include <zmq.hpp>

namespace ipckit::bench {
namespace {

class ZmqIpc final : public Transport {
public:
    Result<void> setup(const SetupParams& p) override {
        path_ = p.temp_dir + "/" + p.tag + ".zmq";
        ledger("path", path_);
        return {};
    }
    Result<void> attach(Role role, int /*peer_pid*/) override {
        try {
            context_.emplace(1);
            socket_.emplace(*context_, zmq::socket_type::pair);
            socket_->set(zmq::sockopt::linger, 0);
            socket_->set(zmq::sockopt::rcvtimeo, 200);  // re-checked against the phase deadline
            socket_->set(zmq::sockopt::sndtimeo, 200);
            if (role == Role::Leader) {
                socket_->bind("ipc://" + path_);
            } else {
                socket_->connect("ipc://" + path_);
            }
        } catch (const zmq::error_t& e) {
            return Error::from_errno(e.num(), "zmq attach", path_, e.what());
        }
        return {};
    }
    Result<void> send(std::span<const std::byte> message) override {
        for (;;) {
            try {
                if (socket_->send(zmq::const_buffer(message.data(), message.size()),
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
                auto r = socket_->recv(zmq::mutable_buffer(buffer.data(), buffer.size()),
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
        socket_.reset();
        context_.reset();
    }
    void teardown() noexcept override {
        if (!path_.empty()) {
            ::unlink(path_.c_str());
        }
    }

private:
    std::string path_;
    std::optional<zmq::context_t> context_;
    std::optional<zmq::socket_t> socket_;
};

}  // namespace

std::unique_ptr<Transport> make_zmq_ipc() {
    return std::make_unique<ZmqIpc>();
}

}  // namespace ipckit::bench
