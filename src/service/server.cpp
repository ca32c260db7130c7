// SPDX-License-Identifier: MIT
// Server of a request/reply service: the record lock, the request channel, one response
// publisher per client slot (design/patterns.md, "Request/reply").
#include "ipckit/service/server.hpp"

#include "channel/participant.hpp"
#include "service/service_files.hpp"
#include "service/service_wait.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace ipckit {

namespace detail {

/// How long a "client alive" answer from its pidfd is trusted (see client_alive); measured on
/// the coarse clock (a few ns to read, a tick of resolution).
constexpr std::uint64_t kLivenessPeriodNs = 2'000'000;

struct ServerImpl {
    /// What the server knows about the client on one request lane.
    struct Slot {
        std::uint64_t token = 0;
        bool known = false;
        bool dead = false;
        UniqueFd pidfd;
        std::uint64_t checked_ns = 0;  ///< when the pidfd last said "alive" (0: never)
        std::optional<Publisher> responses;
    };

    ServiceNames names;
    UniqueFd record_fd;
    ServiceConfig config;
    std::uint64_t generation = 0;
    std::optional<Subscriber> requests;
    std::vector<Slot> slots;
    ServerCounters counters;

    Error error(std::errc code, const char* op, std::string detail) const {
        return {code, op, names.uri(), std::move(detail)};
    }

    /// A request from a token we have not seen on this lane is a new client: take its pidfd once.
    Result<void> note_client(std::uint32_t lane, const RequestEnvelope& env) {
        Slot& s = slots[lane];
        if (s.known && s.token == env.token) {
            return {};
        }
        s.known = true;
        s.token = env.token;
        IPCKIT_TRY_ASSIGN(auto fd, open_pidfd(env.pid));
        s.dead = !fd.has_value();
        s.pidfd = fd ? std::move(*fd) : UniqueFd();
        s.checked_ns = 0;
        return {};
    }

    /// False when the client that sent `r` is gone (dead, or its slot taken by another client).
    /// The pidfd is polled at most once per kLivenessPeriodNs per slot: a system call on every
    /// response would double a busy-polled round trip. A response to a client that died within
    /// that period is published unread (never blocking us: a dead subscriber's lock is free) and
    /// not counted as dropped.
    Result<bool> client_alive(const Request& r) {
        Slot& s = slots[r.lane_];
        if (s.token != r.token_ || s.dead) {
            return false;
        }
        const std::uint64_t now = coarse_monotonic_ns();
        if (s.checked_ns != 0 && now - s.checked_ns < kLivenessPeriodNs) {
            return true;
        }
        IPCKIT_TRY_ASSIGN(auto ended, process_ended(s.pidfd.get()));
        s.dead = ended;
        s.checked_ns = now;
        return !ended;
    }

    Result<Publisher*> publisher(std::uint32_t lane) {
        Slot& s = slots[lane];
        if (!s.responses) {
            IPCKIT_TRY_ASSIGN(auto p, Publisher::open(names.responses(lane), config.options));
            s.responses.emplace(std::move(p));
        }
        return &*s.responses;
    }

    /// The next record of the request channel. The spin phase polls through try_receive (the
    /// channel's fast path) and reads the clock only every 256 polls; then the channel's own
    /// wait (its futex) takes over.
    Result<std::optional<Sample>> take(Deadline deadline) {
        if (deadline == kImmediately) {
            return requests->try_receive();
        }
        const std::uint32_t spin = config.options.spin_polls;
        for (std::uint32_t i = 0; i < spin; ++i) {
            IPCKIT_TRY_ASSIGN(auto s, requests->try_receive());
            if (s) {
                return s;
            }
            if ((i & 255U) == 255U && deadline.expired()) {
                return std::optional<Sample>();
            }
            cpu_relax();
        }
        return requests->receive_until(deadline);
    }

    Result<std::optional<Request>> next(Deadline deadline) {
        for (;;) {
            IPCKIT_TRY_ASSIGN(auto got, take(deadline));
            if (!got) {
                return std::optional<Request>();
            }
            Request r(std::move(*got));
            const auto bytes = r.sample_.bytes();
            if (bytes.size() < kRequestEnvelope || r.sample_.publisher() >= slots.size()) {
                ++counters.corrupt_requests;
                continue;
            }
            RequestEnvelope env{};
            std::memcpy(&env, bytes.data(), sizeof env);  // once: the client may still write
            if (env.pid <= 0) {
                ++counters.corrupt_requests;
                continue;
            }
            if (env.generation != static_cast<std::uint32_t>(generation)) {
                ++counters.stale_requests;
                continue;
            }
            if (env.deadline_ns != 0 && env.deadline_ns <= monotonic_ns()) {
                ++counters.expired_requests;
                continue;
            }
            r.id_ = env.id;
            r.token_ = env.token;
            r.pid_ = env.pid;
            r.lane_ = r.sample_.publisher();
            r.deadline_ = env.deadline_ns == 0
                              ? Deadline::never()
                              : Deadline::at(Deadline::Clock::time_point(std::chrono::nanoseconds(
                                    static_cast<std::int64_t>(std::min<std::uint64_t>(
                                        env.deadline_ns, static_cast<std::uint64_t>(INT64_MAX))))));
            IPCKIT_TRY(note_client(r.lane_, env));
            ++counters.received;
            return std::optional<Request>(std::move(r));
        }
    }

    Result<ResponseLoan> loan(Request& r, std::size_t n) {
        if (r.finished_) {
            return error(std::errc::invalid_argument,
                         "srv loan",
                         "request " + std::to_string(r.id_) + " already had its final response");
        }
        if (n > config.max_response_size) {
            return error(std::errc::message_size,
                         "srv loan",
                         "response of " + std::to_string(n) + " bytes > max_response_size " +
                             std::to_string(config.max_response_size));
        }
        IPCKIT_TRY_ASSIGN(auto* pub, publisher(r.lane_));
        IPCKIT_TRY_ASSIGN(auto l,
                          pub->try_loan(n + kResponseEnvelope));  // no clock when there is room
        if (!l) {
            Deadline until = Deadline::after(config.response_wait);
            if (r.deadline_ < until) {
                until = r.deadline_;
            }
            IPCKIT_TRY_ASSIGN(l, pub->loan_until(n + kResponseEnvelope, until));
        }
        if (!l) {
            return error(std::errc::timed_out,
                         "srv respond",
                         "client pid " + std::to_string(r.pid_) +
                             " did not read its responses by the request's deadline");
        }
        return ResponseLoan(std::move(*l));
    }

    Result<void> respond(Request& r, ResponseLoan&& loan, std::uint32_t flags) {
        if (r.finished_) {
            return error(std::errc::invalid_argument,
                         "srv respond",
                         "request " + std::to_string(r.id_) + " already had its final response");
        }
        if ((flags & kFinal) != 0) {
            r.finished_ = true;
        }
        IPCKIT_TRY_ASSIGN(auto alive, client_alive(r));
        if (!alive) {
            ++counters.dropped_responses;
            return {};  // the loan is dropped unpublished
        }
        const ResponseEnvelope env{r.id_, static_cast<std::uint32_t>(r.token_), flags};
        std::memcpy(loan.loan_.data(), &env, sizeof env);
        IPCKIT_TRY(slots[r.lane_].responses->publish(std::move(loan.loan_)));
        ++counters.responses;
        return {};
    }

    Result<void> respond_copy(Request& r, std::span<const std::byte> bytes, std::uint32_t flags) {
        IPCKIT_TRY_ASSIGN(auto l, loan(r, bytes.size()));
        if (!bytes.empty()) {
            std::memcpy(l.data(), bytes.data(), bytes.size());
        }
        return respond(r, std::move(l), flags);
    }
};

Subscriber& server_requests(ServerImpl& s) noexcept {
    return *s.requests;
}

}  // namespace detail

std::span<const std::byte> Request::payload() const noexcept {
    return sample_.bytes().subspan(detail::kRequestEnvelope);
}

std::byte* ResponseLoan::data() const noexcept {
    return loan_.data() + detail::kResponseEnvelope;
}
std::size_t ResponseLoan::size() const noexcept {
    return loan_.size() - detail::kResponseEnvelope;
}
void ResponseLoan::resize(std::size_t n) noexcept {
    loan_.resize(n + detail::kResponseEnvelope);
}

Result<Server> Server::create(std::string_view name, const ServiceConfig& config) {
    auto impl = std::make_unique<detail::ServerImpl>();
    UniqueFd dir;
    IPCKIT_TRY_ASSIGN(impl->names, detail::service_names(name, config.options, &dir));
    if (config.max_clients == 0 || config.max_clients > detail::kMaxClients ||
        config.max_request_size == 0 || config.max_request_size > detail::kMaxPayload ||
        config.max_response_size == 0 || config.max_response_size > detail::kMaxPayload) {
        return impl->error(std::errc::invalid_argument,
                           "srv create",
                           "max_clients must be 1..256 and sizes 1..64 MiB");
    }
    impl->config = config;
    IPCKIT_TRY_ASSIGN(impl->record_fd, detail::open_record(dir.get(), impl->names, true));
    IPCKIT_TRY_ASSIGN(auto locked, detail::try_lock_record(impl->record_fd.get(), impl->names));
    IPCKIT_TRY_ASSIGN(auto old, detail::read_record(impl->record_fd.get(), impl->names));
    if (!locked) {
        return impl->error(std::errc::address_in_use,
                           "srv create",
                           "a live server holds it (pid " +
                               (old ? std::to_string(old->pid) : std::string("unknown")) + ")");
    }
    impl->generation = old ? old->generation + 1 : 1;
    // Subscribe before publishing our pid: a client that sees the new record finds us reading.
    IPCKIT_TRY_ASSIGN(auto sub,
                      Subscriber::open_or_create(
                          impl->names.requests,
                          detail::request_channel_config(
                              config.max_request_size, config.max_clients, config.options)));
    impl->requests.emplace(std::move(sub));
    impl->slots.resize(config.max_clients);
    const detail::ServerRecord rec{detail::kRecordMagic,
                                   impl->generation,
                                   config.max_request_size,
                                   config.max_response_size,
                                   ::getpid(),
                                   config.max_clients};
    IPCKIT_TRY(detail::write_record(impl->record_fd.get(), impl->names, rec));
    return Server(std::move(impl));
}

Server::Server(std::unique_ptr<detail::ServerImpl> impl) noexcept : impl_(std::move(impl)) {}
Server::Server(Server&&) noexcept = default;
Server& Server::operator=(Server&&) noexcept = default;
Server::~Server() = default;

Result<std::optional<Request>> Server::receive(Deadline deadline) {
    return impl_->next(deadline);
}

Result<std::optional<Request>> Server::try_receive() {
    return impl_->next(detail::kImmediately);
}

Result<ResponseLoan> Server::loan(Request& request, std::size_t n) {
    return impl_->loan(request, n);
}

Result<void> Server::respond(Request& request, ResponseLoan&& loan, bool final) {
    return impl_->respond(request, std::move(loan), final ? detail::kFinal : 0);
}

Result<void> Server::respond(Request& request, std::span<const std::byte> bytes, bool final) {
    return impl_->respond_copy(request, bytes, final ? detail::kFinal : 0);
}

Result<void> Server::respond_error(Request& request, std::string_view text) {
    return impl_->respond_copy(request,
                               std::as_bytes(std::span(text.data(), text.size())),
                               detail::kFinal | detail::kError);
}

ServerCounters Server::counters() const noexcept {
    return impl_->counters;
}
std::uint64_t Server::generation() const noexcept {
    return impl_->generation;
}
const std::string& Server::name() const noexcept {
    return impl_->names.name;
}

}  // namespace ipckit
