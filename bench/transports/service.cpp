// SPDX-License-Identifier: MIT
// ipckit request/reply (include/ipckit/service/): the leader is a Client, the follower the
// Server; a round trip is one call (request out, response back), so, like ZeroMQ REQ/REP beside
// it, the row measures round trips only. Compare with the channel rows: a service is two channels
// plus a 32-byte request and a 16-byte response envelope (docs/design/patterns.md).
//
//   srv-spin   the client busy-polls (ClientOptions::busy_poll), the server polls receive()
//              with `pause`: compare with channel-spin.
//   srv-block  both sides use the service's own waits (spin, then futex): compare with
//              channel-block and the raw futex floor.
//
// The server record and its channels live in $IPCKIT_SHM_DIR or /dev/shm; the server creates them
// in the follower, the supervisor removes them (Service::remove) in teardown().
#include "engine/wait.hpp"
#include "ipckit/service/client.hpp"
#include "ipckit/service/server.hpp"
#include "ipckit/service/service.hpp"
#include "transports/registry.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <system_error>
#include <thread>

namespace ipckit::bench {
namespace {

class ServiceTransport final : public Transport {
public:
    explicit ServiceTransport(bool spin) : spin_(spin) {}

    Result<void> setup(const SetupParams& p) override {
        name_ = p.tag;
        max_ = std::max<std::size_t>(p.max_message_size, 64);
        const char* dir = std::getenv("IPCKIT_SHM_DIR");
        const std::string base = dir != nullptr && *dir != '\0' ? dir : "/dev/shm";
        ledger("path", base + "/" + name_ + ".srv");
        return {};
    }

    // A service carries what its channels' lanes hold; the bench's larger sizes are n/a.
    [[nodiscard]] std::size_t max_message_size() const override { return kMaxMessage; }

    Result<void> attach(Role role, int /*peer_pid*/) override {
        if (role == Role::Follower) {
            ServiceConfig c;
            c.max_request_size = max_;
            c.max_response_size = max_;
            c.max_clients = 1;
            if (spin_) {
                c.options.spin_polls = 0;  // never used: receive() is polled below
            }
            IPCKIT_TRY_ASSIGN(auto server, Server::create(name_, c));
            server_.emplace(std::move(server));
            return {};
        }
        ClientOptions o;
        o.busy_poll = spin_;
        // The follower attaches at the same time: wait for its server to appear.
        for (;;) {
            auto client = Client::connect(name_, o);
            if (client) {
                client_.emplace(std::move(*client));
                return {};
            }
            if (client.error().code() != std::errc::connection_refused &&
                client.error().code() != std::errc::no_such_file_or_directory) {
                return client.error();
            }
            if (phase_deadline().expired()) {
                return timed_out("connect to", "srv:" + name_);
            }
            std::this_thread::sleep_for(std::chrono::microseconds(100));
        }
    }

    Result<void> send(std::span<const std::byte> message) override {
        if (client_) {
            IPCKIT_TRY_ASSIGN(id_, client_->send(message, phase_deadline()));
            return {};
        }
        if (!request_) {
            return Error(std::errc::protocol_error, "respond", "srv:" + name_,
                         "the follower sends only answers");
        }
        auto r = server_->respond(*request_, message, true);
        request_.reset();
        return r;
    }

    Result<std::size_t> receive(std::span<std::byte> buffer) override {
        if (client_) {
            IPCKIT_TRY_ASSIGN(auto response, client_->receive(id_, phase_deadline()));
            return copy_out(response.bytes(), buffer);
        }
        IPCKIT_TRY_ASSIGN(auto request, take_request());
        request_.emplace(std::move(request));
        return copy_out(request_->payload(), buffer);
    }

    void detach() noexcept override {
        request_.reset();
        client_.reset();
        server_.reset();
    }

    void teardown() noexcept override {
        if (!name_.empty()) {
            (void)Service::remove(name_);
        }
    }

private:
    static constexpr std::size_t kMaxMessage = 4096;

    Result<std::size_t> copy_out(std::span<const std::byte> bytes, std::span<std::byte> buffer) {
        if (bytes.size() > buffer.size()) {
            return Error(std::errc::message_size, "receive", "srv:" + name_,
                         std::to_string(bytes.size()) + " bytes exceed the buffer");
        }
        std::memcpy(buffer.data(), bytes.data(), bytes.size());
        return bytes.size();
    }

    Result<Request> take_request() {
        if (!spin_) {
            IPCKIT_TRY_ASSIGN(auto request, server_->receive(phase_deadline()));
            if (!request) {
                return timed_out("receive", "srv:" + name_);
            }
            return std::move(*request);
        }
        for (unsigned turns = 1;; ++turns) {
            IPCKIT_TRY_ASSIGN(auto request, server_->receive(Deadline::now()));
            if (request) {
                return std::move(*request);
            }
            __builtin_ia32_pause();
            if (turns % 4096 == 0 && phase_deadline().expired()) {
                return timed_out("receive", "srv:" + name_);
            }
        }
    }

    bool spin_;
    std::string name_;
    std::size_t max_ = 64;
    std::optional<Server> server_;
    std::optional<Client> client_;
    std::optional<Request> request_;
    RequestId id_ = 0;
};

}  // namespace

std::unique_ptr<Transport> make_service_spin() {
    return std::make_unique<ServiceTransport>(true);
}

std::unique_ptr<Transport> make_service_block() {
    return std::make_unique<ServiceTransport>(false);
}

}  // namespace ipckit::bench
