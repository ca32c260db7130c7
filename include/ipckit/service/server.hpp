// SPDX-License-Identifier: MIT
// Server: the one live server of a request/reply service (srv:NAME) on shared-memory channels.
#pragma once

#include "ipckit/channel/publisher.hpp"
#include "ipckit/channel/subscriber.hpp"
#include "ipckit/core/deadline.hpp"
#include "ipckit/core/result.hpp"
#include "ipckit/export.hpp"
#include "ipckit/service/service_config.hpp"

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace ipckit {

namespace detail {
struct ServerImpl;
}
class WaitSet;

/// One received request: its payload stays in shared memory (read-only) until the Request is
/// destroyed. Move-only; must not outlive its Server.
class IPCKIT_API Request {
public:
    [[nodiscard]] std::span<const std::byte> payload() const noexcept;
    [[nodiscard]] std::uint64_t id() const noexcept { return id_; }
    /// Request lane = the client's slot; its responses go to that slot's channel only.
    [[nodiscard]] std::uint32_t client() const noexcept { return lane_; }
    /// Pid the client wrote into its request (informational: a peer could forge it).
    [[nodiscard]] pid_t client_pid() const noexcept { return pid_; }
    [[nodiscard]] Deadline deadline() const noexcept { return deadline_; }
    /// True once a final response was sent (or dropped).
    [[nodiscard]] bool finished() const noexcept { return finished_; }

private:
    friend struct detail::ServerImpl;
    friend class Server;
    explicit Request(Sample s) noexcept : sample_(std::move(s)) {}
    Sample sample_;
    std::uint64_t id_ = 0;
    std::uint64_t token_ = 0;
    Deadline deadline_ = Deadline::never();
    pid_t pid_ = 0;
    std::uint32_t lane_ = 0;
    bool finished_ = false;
};

/// Writable space for one response payload in the client's response channel.
class IPCKIT_API ResponseLoan {
public:
    [[nodiscard]] std::byte* data() const noexcept;
    [[nodiscard]] std::size_t size() const noexcept;
    [[nodiscard]] std::span<std::byte> bytes() const noexcept { return {data(), size()}; }
    /// Sends only the first n bytes (n <= the size asked for).
    void resize(std::size_t n) noexcept;

private:
    friend struct detail::ServerImpl;
    friend class Server;
    explicit ResponseLoan(Loan l) noexcept : loan_(std::move(l)) {}
    Loan loan_;
};

/// What the server dropped and why (all counted, none an error to the server loop).
struct IPCKIT_API ServerCounters {
    std::uint64_t received = 0;
    std::uint64_t responses = 0;
    std::uint64_t dropped_responses = 0;  ///< to a client that was dead when we responded
    std::uint64_t expired_requests = 0;   ///< past their deadline when read
    std::uint64_t stale_requests = 0;     ///< addressed to another server generation
    std::uint64_t corrupt_requests = 0;   ///< shorter than the envelope, or a bad pid
};

/// The server of service `srv:NAME`: holds the service record's lock (one live server), reads
/// every client's requests from the request channel and writes each response into the asking
/// client's own response channel. Files live in the channel directory (ServiceConfig::options).
///
/// Not thread-safe. Fork: create after fork. Fds are CLOEXEC. The files stay after the server
/// ends (a restarted server reuses them); Service::remove() deletes them.
///
/// @code
///   auto srv = Server::create("srv:calc", {}).value();
///   while (auto req = srv.receive(Deadline::never()).value()) {
///       srv.respond(*req, req->payload(), true).value();   // echo
///   }
/// @endcode
class IPCKIT_API Server {
public:
    /// errc::address_in_use if a live server holds the service (its pid named).
    static Result<Server> create(std::string_view name, const ServiceConfig& config);

    Server(Server&& other) noexcept;
    Server& operator=(Server&& other) noexcept;
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;
    ~Server();

    /// The next request, or empty at the deadline. At most 8 Requests may be held at once (the
    /// request channel's max_loans); requests of another server generation, past their deadline
    /// or malformed are dropped and counted (counters()).
    Result<std::optional<Request>> receive(Deadline deadline);
    /// The next request if one is there, without waiting or spinning (for a WaitSet loop).
    Result<std::optional<Request>> try_receive();
    /// Space for a response of n payload bytes (n <= max_response_size).
    Result<ResponseLoan> loan(Request& request, std::size_t n);
    /// Sends a loaned response; `final` ends the request's stream. A dead client: the response is
    /// dropped and counted, not an error. errc::timed_out: a live client did not read by the
    /// request's deadline (or response_wait).
    Result<void> respond(Request& request, ResponseLoan&& loan, bool final = true);
    /// Copying form of loan + respond.
    Result<void> respond(Request& request, std::span<const std::byte> bytes, bool final = true);
    /// A final response flagged as an error, carrying `text`.
    Result<void> respond_error(Request& request, std::string_view text);

    [[nodiscard]] ServerCounters counters() const noexcept;
    [[nodiscard]] std::uint64_t generation() const noexcept;
    [[nodiscard]] const std::string& name() const noexcept;

private:
    friend class WaitSet;  // readiness of the request channel (event/wait_set.cpp)
    explicit Server(std::unique_ptr<detail::ServerImpl> impl) noexcept;
    std::unique_ptr<detail::ServerImpl> impl_;
};

}  // namespace ipckit
