// SPDX-License-Identifier: MIT
// Client of a request/reply service: one request lane, its own response channel, the ids in
// flight in local memory, and the server's pidfd (design/patterns.md, "Request/reply").
#include "ipckit/service/client.hpp"

#include "service/service_files.hpp"
#include "service/service_wait.hpp"
#include "sys/syscall.hpp"

#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <thread>
#include <vector>

namespace ipckit {

namespace detail {

namespace {

/// Responses queued for a request nobody is receiving yet, at most (more are dropped, counted).
constexpr std::size_t kMaxQueued = 64;
/// Polls between clock reads of a busy-polling client.
constexpr std::uint32_t kSpinBurst = 256;
/// try_receive looks at the server's pidfd at most this often (coarse clock): a system call on
/// every empty poll would slow a busy-polling loop.
constexpr std::uint64_t kServerCheckNs = 2'000'000;

Result<std::uint64_t> random_token() {
    std::uint64_t t = 0;
    IPCKIT_TRY(sys::call("getrandom", "", [&] { return ::getrandom(&t, sizeof t, 0); }));
    return t;
}

}  // namespace

struct ClientImpl {
    struct Flight {
        RequestId id = 0;
        Deadline deadline = Deadline::never();
        std::vector<Response> queued;  // (vector: Flight must move noexcept)
        std::optional<Error> failed;
        bool final_seen = false;  ///< its final response is queued: later ones are dropped
    };

    ServiceNames names;
    UniqueFd record_fd;
    ClientOptions options;
    ServerRecord server{};
    UniqueFd server_pidfd;
    bool server_dead = false;
    std::optional<Publisher> requests;
    std::optional<Subscriber> responses;
    std::uint64_t token = 0;
    pid_t pid = 0;  ///< ours, read once (getpid is a system call; a Client does not cross fork)
    RequestId next_id = 1;
    std::vector<Flight> flights;
    std::uint64_t dropped = 0;
    std::size_t max_response = 0;
    // Last, off the lines the call path reads:
    std::uint64_t server_epoch = 0;       ///< bumped at each resolve (a WaitSet re-reads the pidfd)
    std::uint64_t server_checked_ns = 0;  ///< try_receive's last look at the pidfd

    Error error(std::errc code, const char* op, std::string detail) const {
        return {code, op, names.uri(), std::move(detail)};
    }

    /// One look at the record: true once it names a live server consistently (the process
    /// exists and the record did not change while we took its pidfd, so a reused pid or a server
    /// restarting under us is not taken for the server).
    Result<bool> resolve_once() {
        IPCKIT_TRY_ASSIGN(auto before, read_record(record_fd.get(), names));
        if (!before) {
            return false;
        }
        IPCKIT_TRY_ASSIGN(auto fd, open_pidfd(before->pid));
        IPCKIT_TRY_ASSIGN(auto after, read_record(record_fd.get(), names));
        IPCKIT_TRY_ASSIGN(auto still, record_locked(record_fd.get(), names));
        if (!fd || !after || !still || std::memcmp(&*before, &*after, sizeof *after) != 0) {
            return false;
        }
        IPCKIT_TRY_ASSIGN(auto ended, process_ended(fd->get()));
        if (ended) {
            return false;
        }
        server = *after;
        server_pidfd = std::move(*fd);
        ++server_epoch;
        server_dead = false;
        return true;
    }

    /// Reads the record until it names a live server (bounded by init_wait).
    Result<void> resolve() {
        const Deadline give_up = Deadline::after(options.options.init_wait);
        for (;;) {
            IPCKIT_TRY_ASSIGN(auto locked, record_locked(record_fd.get(), names));
            if (!locked) {
                return error(std::errc::connection_refused, "srv connect", "no server is running");
            }
            IPCKIT_TRY_ASSIGN(auto settled, resolve_once());
            if (settled) {
                return {};
            }
            if (give_up.expired()) {
                return error(std::errc::connection_refused,
                             "srv connect",
                             "the server record did not settle (server starting or dying)");
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
    }

    Flight* find(RequestId id) {
        auto it = std::find_if(
            flights.begin(), flights.end(), [&](const Flight& f) { return f.id == id; });
        return it == flights.end() ? nullptr : &*it;
    }

    void forget(RequestId id) {
        std::erase_if(flights, [&](const Flight& f) { return f.id == id; });
    }

    /// Every request in flight fails: the server died.
    void server_died() {
        server_dead = true;
        const Error e = error(std::errc::connection_reset,
                              "srv call",
                              "server (pid " + std::to_string(server.pid) + ") died with " +
                                  std::to_string(flights.size()) + " requests in flight");
        for (Flight& f : flights) {
            if (!f.failed && !f.final_seen) {
                f.failed = e;
            }
        }
    }

    /// Files one sample from the response channel. Returns the response when it is the next one
    /// for `wanted`, an Error when `wanted` failed; otherwise queues or drops it.
    Result<std::optional<Response>> dispatch(Sample s, RequestId wanted) {
        const auto bytes = s.bytes();
        if (bytes.size() < kResponseEnvelope) {
            ++dropped;
            return std::optional<Response>();
        }
        ResponseEnvelope env{};
        std::memcpy(&env, bytes.data(), sizeof env);  // once: shared memory may change under us
        Flight* f = env.token == static_cast<std::uint32_t>(token) ? find(env.id) : nullptr;
        if (f == nullptr || f->final_seen || f->failed ||
            (f->id != wanted && f->deadline.expired()) || f->queued.size() >= kMaxQueued) {
            ++dropped;  // unknown, finished, expired or another client's token
            return std::optional<Response>();
        }
        const std::size_t n = bytes.size() - kResponseEnvelope;
        if (n > max_response) {
            f->failed = error(std::errc::message_size,
                              "srv receive",
                              "response of " + std::to_string(n) + " bytes > the client's limit " +
                                  std::to_string(max_response));
            if (f->id == wanted) {
                Error e = *f->failed;
                forget(wanted);
                return e;
            }
            return std::optional<Response>();
        }
        Response r;
        r.id_ = env.id;
        r.final_ = (env.flags & kFinal) != 0;
        r.error_ = (env.flags & kError) != 0;
        if (env.id == wanted && f->queued.empty()) {
            r.sample_.emplace(std::move(s));
            if (r.final_) {
                forget(wanted);
            }
            return std::optional<Response>(std::move(r));
        }
        const auto payload = bytes.subspan(kResponseEnvelope);
        r.copy_.assign(payload.begin(), payload.end());
        f->final_seen = r.final_;
        f->queued.push_back(std::move(r));
        return std::optional<Response>();
    }

    /// Up to kSpinBurst polls of the response channel.
    Result<std::optional<Sample>> spin_once() {
        for (std::uint32_t i = 0; i < kSpinBurst; ++i) {
            IPCKIT_TRY_ASSIGN(auto s, responses->try_receive());
            if (s) {
                return s;
            }
        }
        return std::optional<Sample>();
    }

    /// The next sample, waiting at most until `until`.
    Result<std::optional<Sample>> next_sample(Deadline until) {
        if (!options.busy_poll) {
            return responses->receive_until(until);
        }
        for (std::uint32_t spins = 0;; ++spins) {
            IPCKIT_TRY_ASSIGN(auto s, responses->try_receive());
            if (s || ((spins & 255U) == 255U && until.expired())) {
                return s;
            }
        }
    }

    /// What the flight already holds for the caller: a queued response, its error, or nothing.
    Result<std::optional<Response>> ready(RequestId id) {
        Flight* f = find(id);
        if (f == nullptr) {
            return error(std::errc::invalid_argument,
                         "srv receive",
                         "request " + std::to_string(id) + " is not in flight");
        }
        if (!f->queued.empty()) {
            Response r = std::move(f->queued.front());
            f->queued.erase(f->queued.begin());
            if (r.final_) {
                forget(id);
            }
            return std::optional<Response>(std::move(r));
        }
        if (f->failed) {
            Error e = *f->failed;
            forget(id);
            return e;
        }
        return std::optional<Response>();
    }

    /// One sample: a burst of polls first when busy-polling, then a wait of at most one
    /// liveness slice (or to the deadline). Empty at once if the deadline has passed.
    Result<std::optional<Sample>> wait_sample(Deadline deadline) {
        if (options.busy_poll) {  // no clock read before the burst
            IPCKIT_TRY_ASSIGN(auto got, spin_once());
            if (got) {
                return got;
            }
        }
        if (deadline.expired()) {
            return std::optional<Sample>();
        }
        Deadline slice = Deadline::after(options.liveness_slice);
        if (deadline < slice) {
            slice = deadline;
        }
        return next_sample(slice);
    }

    /// The server is gone: file what it wrote before dying, then fail every request in flight.
    Result<std::optional<Response>> after_server_death(RequestId id) {
        for (;;) {
            IPCKIT_TRY_ASSIGN(auto late, responses->try_receive());
            if (!late) {
                break;
            }
            IPCKIT_TRY_ASSIGN(auto r, dispatch(std::move(*late), id));
            if (r) {
                return r;
            }
        }
        server_died();
        return std::optional<Response>();
    }

    Result<Response> receive(RequestId id, Deadline deadline) {
        for (;;) {
            IPCKIT_TRY_ASSIGN(auto held, ready(id));
            if (held) {
                return std::move(*held);
            }
            IPCKIT_TRY_ASSIGN(auto s, wait_sample(deadline));
            if (s) {
                IPCKIT_TRY_ASSIGN(auto mine, dispatch(std::move(*s), id));
                if (mine) {
                    return std::move(*mine);
                }
                continue;
            }
            IPCKIT_TRY_ASSIGN(auto last, nothing_arrived(id, deadline));
            if (last) {
                return std::move(*last);
            }
        }
    }

    /// A wait for `id` ended empty: the deadline, or a look at the server's liveness.
    Result<std::optional<Response>> nothing_arrived(RequestId id, Deadline deadline) {
        // Past the deadline the outcome is the timeout, whatever the server did meanwhile.
        if (deadline.expired()) {
            forget(id);
            return error(std::errc::timed_out,
                         "srv receive",
                         "no response to request " + std::to_string(id) + " by its deadline");
        }
        IPCKIT_TRY_ASSIGN(auto ended, process_ended(server_pidfd.get()));
        if (!ended) {
            return std::optional<Response>();
        }
        return after_server_death(id);
    }

    /// The next response to `id` without waiting; empty when none is there yet.
    Result<std::optional<Response>> try_receive(RequestId id) {
        IPCKIT_TRY_ASSIGN(auto held, ready(id));
        if (held) {
            return held;
        }
        for (;;) {
            IPCKIT_TRY_ASSIGN(auto s, responses->try_receive());
            if (!s) {
                break;
            }
            IPCKIT_TRY_ASSIGN(auto mine, dispatch(std::move(*s), id));
            if (mine) {
                return mine;
            }
        }
        const Flight* f = find(id);
        if (f == nullptr) {  // dispatch forgot it (not expected: ready() found it in flight)
            return ready(id);
        }
        if (!f->deadline.is_never() && f->deadline.expired()) {
            return nothing_arrived(id, f->deadline);
        }
        const std::uint64_t now = coarse_monotonic_ns();
        if (server_dead || now - server_checked_ns < kServerCheckNs) {
            return std::optional<Response>();
        }
        server_checked_ns = now;
        IPCKIT_TRY_ASSIGN(auto dead, check_server());
        if (!dead) {
            return std::optional<Response>();
        }
        return ready(id);  // the response it wrote before dying, or connection_reset
    }

    /// One look at the server's pidfd; when it has ended: file what it wrote, fail the flights.
    Result<bool> check_server() {
        if (server_dead) {
            return true;
        }
        IPCKIT_TRY_ASSIGN(auto ended, process_ended(server_pidfd.get()));
        if (!ended) {
            return false;
        }
        IPCKIT_TRY(after_server_death(0));  // id 0 is never in flight: everything is filed
        return true;
    }

    Result<RequestLoan> loan(std::size_t n, Deadline deadline) {
        if (server_dead) {
            IPCKIT_TRY(resolve());
        }
        if (n > server.max_request) {
            return error(std::errc::message_size,
                         "srv send",
                         "request of " + std::to_string(n) + " bytes > max_request_size " +
                             std::to_string(server.max_request));
        }
        if (deadline.is_never()) {  // the channel's fast path: no deadline to carry
            IPCKIT_TRY_ASSIGN(auto l, requests->loan(n + kRequestEnvelope));
            return RequestLoan(std::move(l));
        }
        IPCKIT_TRY_ASSIGN(auto l, requests->loan_until(n + kRequestEnvelope, deadline));
        if (!l) {
            return error(std::errc::timed_out,
                         "srv send",
                         "no room in the request lane by the deadline (server not reading)");
        }
        return RequestLoan(std::move(*l));
    }

    Result<RequestId> send(RequestLoan&& loan, Deadline deadline) {
        if (flights.size() >= options.max_in_flight) {
            return error(std::errc::resource_unavailable_try_again,
                         "srv send",
                         "max_in_flight=" + std::to_string(options.max_in_flight) +
                             " requests already in flight");
        }
        const RequestId id = next_id++;
        const std::uint64_t deadline_ns =
            deadline.is_never() ? 0
                                : static_cast<std::uint64_t>(std::max<std::int64_t>(
                                      1,
                                      std::chrono::duration_cast<std::chrono::nanoseconds>(
                                          deadline.time_point().time_since_epoch())
                                          .count()));
        const RequestEnvelope env{
            id, token, deadline_ns, static_cast<std::uint32_t>(server.generation), pid};
        std::memcpy(loan.loan_.data(), &env, sizeof env);
        IPCKIT_TRY(requests->publish(std::move(loan.loan_)));
        flights.push_back(Flight{id, deadline, {}, {}, false});
        return id;
    }
};

Subscriber& client_responses(ClientImpl& c) noexcept {
    return *c.responses;
}
bool client_has_filed(const ClientImpl& c) noexcept {
    return std::any_of(c.flights.begin(), c.flights.end(), [](const ClientImpl::Flight& f) {
        return !f.queued.empty() || f.failed.has_value();
    });
}
int client_server_pidfd(const ClientImpl& c) noexcept {
    return c.server_dead ? -1 : c.server_pidfd.get();
}
std::uint64_t client_server_epoch(const ClientImpl& c) noexcept {
    return c.server_epoch;
}
Result<bool> client_check_server(ClientImpl& c) {
    return c.check_server();
}

}  // namespace detail

std::span<const std::byte> Response::bytes() const noexcept {
    if (sample_) {
        return sample_->bytes().subspan(detail::kResponseEnvelope);
    }
    return copy_;
}

std::byte* RequestLoan::data() const noexcept {
    return loan_.data() + detail::kRequestEnvelope;
}
std::size_t RequestLoan::size() const noexcept {
    return loan_.size() - detail::kRequestEnvelope;
}
void RequestLoan::resize(std::size_t n) noexcept {
    loan_.resize(n + detail::kRequestEnvelope);
}

Result<Client> Client::connect(std::string_view name, const ClientOptions& options) {
    auto impl = std::make_unique<detail::ClientImpl>();
    impl->options = options;
    if (impl->options.max_in_flight == 0) {
        impl->options.max_in_flight = 1;
    }
    UniqueFd dir;
    IPCKIT_TRY_ASSIGN(impl->names, detail::service_names(name, options.options, &dir));
    auto fd = detail::open_record(dir.get(), impl->names, false);
    if (!fd) {
        if (fd.error().code() == std::errc::no_such_file_or_directory) {
            return impl->error(std::errc::connection_refused,
                               "srv connect",
                               "no such service (no server ever ran)");
        }
        return std::move(fd).error();
    }
    impl->record_fd = std::move(*fd);
    IPCKIT_TRY(impl->resolve());
    IPCKIT_TRY_ASSIGN(auto pub, Publisher::open(impl->names.requests, options.options));
    impl->requests.emplace(std::move(pub));
    IPCKIT_TRY_ASSIGN(auto sub,
                      Subscriber::open_or_create(impl->names.responses(impl->requests->lane()),
                                                 detail::response_channel_config(
                                                     impl->server.max_response, options.options)));
    impl->responses.emplace(std::move(sub));
    IPCKIT_TRY_ASSIGN(impl->token, detail::random_token());
    impl->pid = ::getpid();
    impl->max_response = static_cast<std::size_t>(impl->server.max_response);
    if (options.max_response_size != 0 && options.max_response_size < impl->max_response) {
        impl->max_response = options.max_response_size;
    }
    return Client(std::move(impl));
}

Client::Client(std::unique_ptr<detail::ClientImpl> impl) noexcept : impl_(std::move(impl)) {}
Client::Client(Client&&) noexcept = default;
Client& Client::operator=(Client&&) noexcept = default;
Client::~Client() = default;

Result<Response> Client::call(std::span<const std::byte> request, Deadline deadline) {
    IPCKIT_TRY_ASSIGN(auto id, send(request, deadline));
    return impl_->receive(id, deadline);
}

Result<RequestLoan> Client::loan(std::size_t n, Deadline deadline) {
    return impl_->loan(n, deadline);
}

Result<RequestId> Client::send(RequestLoan&& loan, Deadline deadline) {
    return impl_->send(std::move(loan), deadline);
}

Result<RequestId> Client::send(std::span<const std::byte> request, Deadline deadline) {
    IPCKIT_TRY_ASSIGN(auto l, impl_->loan(request.size(), deadline));
    if (!request.empty()) {
        std::memcpy(l.data(), request.data(), request.size());
    }
    return impl_->send(std::move(l), deadline);
}

Result<Response> Client::receive(RequestId id, Deadline deadline) {
    return impl_->receive(id, deadline);
}

Result<std::optional<Response>> Client::try_receive(RequestId id) {
    return impl_->try_receive(id);
}

void Client::cancel(RequestId id) noexcept {
    impl_->forget(id);
}
std::size_t Client::in_flight() const noexcept {
    return impl_->flights.size();
}
std::uint64_t Client::dropped_responses() const noexcept {
    return impl_->dropped;
}
pid_t Client::server_pid() const noexcept {
    return impl_->server.pid;
}
std::uint64_t Client::server_generation() const noexcept {
    return impl_->server.generation;
}
std::uint32_t Client::slot() const noexcept {
    return impl_->requests->lane();
}

}  // namespace ipckit
