// SPDX-License-Identifier: MIT
// Client: calls a request/reply service (srv:NAME); several requests may be in flight.
#pragma once

#include "ipckit/channel/publisher.hpp"
#include "ipckit/channel/subscriber.hpp"
#include "ipckit/core/deadline.hpp"
#include "ipckit/core/result.hpp"
#include "ipckit/export.hpp"

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ipckit {

namespace detail {
struct ClientImpl;
}
class WaitSet;

/// How a client joins a service.
struct IPCKIT_API ClientOptions {
    ChannelOptions options{};          ///< directory and ownership, as for channels
    std::uint32_t max_in_flight = 16;  ///< requests sent and not finished, at most
    /// Largest response payload accepted; 0: the service's max_response_size. A larger response
    /// fails its request with errc::message_size.
    std::size_t max_response_size = 0;
    /// Spin on the response channel instead of sleeping (lowest latency; one CPU stays busy).
    bool busy_poll = false;
    /// A waiting client checks the server's pidfd at least this often: the bound on how late it
    /// learns of the server's death.
    std::chrono::milliseconds liveness_slice{10};
};

/// A request's number, valid for receive() until its final response.
using RequestId = std::uint64_t;

/// One response: zero-copy in the response channel when it was the one waited for, else a copy.
/// A client may hold at most 4 zero-copy Responses at once (the response channel's max_loans).
class IPCKIT_API Response {
public:
    [[nodiscard]] std::span<const std::byte> bytes() const noexcept;
    [[nodiscard]] RequestId id() const noexcept { return id_; }
    /// The last response of its request (a stream ends with one).
    [[nodiscard]] bool final() const noexcept { return final_; }
    /// The server answered with an error; bytes() is its text.
    [[nodiscard]] bool is_error() const noexcept { return error_; }
    [[nodiscard]] std::string_view text() const noexcept {
        const auto b = bytes();
        return {reinterpret_cast<const char*>(b.data()), b.size()};  // NOLINT
    }

private:
    friend struct detail::ClientImpl;
    Response() = default;
    std::optional<Sample> sample_;
    std::vector<std::byte> copy_;
    RequestId id_ = 0;
    bool final_ = false;
    bool error_ = false;
};

/// Writable space for one request payload in the client's own request lane.
class IPCKIT_API RequestLoan {
public:
    [[nodiscard]] std::byte* data() const noexcept;
    [[nodiscard]] std::size_t size() const noexcept;
    [[nodiscard]] std::span<std::byte> bytes() const noexcept { return {data(), size()}; }
    void resize(std::size_t n) noexcept;

private:
    friend struct detail::ClientImpl;
    friend class Client;
    explicit RequestLoan(Loan l) noexcept : loan_(std::move(l)) {}
    Loan loan_;
};

/// A client of service `srv:NAME`. Owns one lane of the request channel and a subscription to
/// that lane's response channel, so only it can receive its responses.
///
/// Errors a caller can act on: errc::connection_refused (no live server), errc::connection_reset
/// (the server died with requests in flight; the next send finds a restarted server),
/// errc::timed_out (the deadline passed; a late response is dropped and counted),
/// errc::message_size (a response larger than max_response_size).
///
/// Not thread-safe. Fork: connect after fork. Fds are CLOEXEC.
///
/// @code
///   auto c = Client::connect("srv:calc").value();
///   auto r = c.call(as_bytes("1+2"), Deadline::after(1s)).value();
/// @endcode
class IPCKIT_API Client {
public:
    static Result<Client> connect(std::string_view name, const ClientOptions& options = {});

    Client(Client&& other) noexcept;
    Client& operator=(Client&& other) noexcept;
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;
    ~Client();

    /// Sends a request and waits for its first response (the rest of a stream: receive(r.id())).
    Result<Response> call(std::span<const std::byte> request, Deadline deadline);
    /// Space for a request of n bytes (n <= the service's max_request_size).
    Result<RequestLoan> loan(std::size_t n, Deadline deadline = Deadline::never());
    /// Sends; `deadline` is the request's deadline (the server drops it after) and bounds the
    /// wait for space in the request lane.
    Result<RequestId> send(RequestLoan&& loan, Deadline deadline);
    Result<RequestId> send(std::span<const std::byte> request, Deadline deadline);
    /// The next response to `id`, waiting until `deadline` (then errc::timed_out and `id` is
    /// forgotten). errc::invalid_argument if `id` is not in flight.
    Result<Response> receive(RequestId id, Deadline deadline);
    /// The next response to `id` if one is there, without waiting: empty when none has arrived
    /// yet (`id` stays in flight). Fails as receive() does: errc::connection_reset once the
    /// server is known dead (a WaitSet holding this client learns it from the server's pidfd;
    /// otherwise this call looks at the pidfd at most every 2 ms), errc::timed_out once the
    /// request's deadline passed.
    Result<std::optional<Response>> try_receive(RequestId id);
    /// Forgets `id`: its later responses are dropped and counted.
    void cancel(RequestId id) noexcept;

    [[nodiscard]] std::size_t in_flight() const noexcept;
    /// Responses dropped: unknown, expired or finished id, another client's token, too short.
    [[nodiscard]] std::uint64_t dropped_responses() const noexcept;
    [[nodiscard]] pid_t server_pid() const noexcept;
    [[nodiscard]] std::uint64_t server_generation() const noexcept;
    /// Request lane (= response channel) this client holds.
    [[nodiscard]] std::uint32_t slot() const noexcept;

private:
    friend class WaitSet;  // readiness: response channel, filed responses, server pidfd
    explicit Client(std::unique_ptr<detail::ClientImpl> impl) noexcept;
    std::unique_ptr<detail::ClientImpl> impl_;
};

}  // namespace ipckit
