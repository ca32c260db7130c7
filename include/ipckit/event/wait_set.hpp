// SPDX-License-Identifier: MIT
// WaitSet: one wait, with a deadline, on channel subscribers, event listeners, servers, clients,
// group consumers and plain descriptors (docs/design/patterns.md, "The WaitSet and the doorbell").
#pragma once

#include "ipckit/export.hpp"
#include "ipckit/core/deadline.hpp"
#include "ipckit/core/result.hpp"

#include <cstdint>
#include <memory>
#include <span>

namespace ipckit {

class Subscriber;
class EventListener;
class Server;
class Client;
class GroupConsumer;

namespace detail {
struct WaitSetImpl;
}  // namespace detail

/// Says which of its members are ready. Shared-memory members (Subscriber, EventListener, Server,
/// Client, GroupConsumer) are checked first with plain loads: when one is ready, wait() makes no
/// system call. Otherwise it arms a doorbell in each of their files (their publishers and notifiers
/// then send it one byte) and sleeps in epoll on the doorbell and the plain descriptors, so no
/// helper thread is needed and a writer pays nothing while nobody waits.
///
/// Members are referenced, not owned: remove a member (or destroy the WaitSet) before destroying
/// or closing it. Moving a member's handle keeps its membership.
/// Ready means "look now": the caller then calls the member's try_receive()/take()/read(), which
/// may find nothing (a spurious wake-up) or report the member's error.
/// Thread-safety: one thread at a time. Fork: descriptors are CLOEXEC; use it in one process.
///
/// @code
///   auto ws = WaitSet::create().value();
///   auto k_sub = ws.add(sub).value();
///   auto k_sock = ws.add_fd(sock.fd()).value();
///   const auto ready = ws.wait(Deadline::after(1s)).value();  // bind it: a span into ws
///   for (WaitSet::Key k : ready) { ... }
/// @endcode
///
/// An outside event loop polls fd() (readable): call wait(Deadline::now()) (it arms the
/// doorbells and returns what is ready without sleeping); when it returns nothing, poll fd().
class IPCKIT_API WaitSet {
public:
    /// Identifies a member; never reused within one WaitSet.
    using Key = std::uint32_t;
    enum class Interest : std::uint8_t { Readable, Writable, Either };

    static Result<WaitSet> create();

    /// A channel subscriber: ready when a publisher's lane holds something it has not taken.
    /// errc::device_or_resource_busy when the channel's doorbell slots (32) are all held by live
    /// WaitSets.
    Result<Key> add(Subscriber& subscriber);
    /// An event listener: ready when a counter moved since its last take().
    Result<Key> add(EventListener& listener);
    /// A request/reply server: ready when a request may be received (then Server::try_receive).
    Result<Key> add(Server& server);
    /// A client: ready when a response to one of its requests in flight may be there, or its
    /// server died (seen through the server's pidfd, polled in the same epoll: the requests in
    /// flight then fail at once with errc::connection_reset naming the server). Then call
    /// Client::try_receive(id) for the ids in flight. A restarted server is watched from the
    /// client's next send on.
    Result<Key> add(Client& client);
    /// A work-queue consumer: ready when a message may be claimed or one a dead member of its
    /// group held was adopted (then GroupConsumer::try_receive; another member may claim first).
    Result<Key> add(GroupConsumer& consumer);
    /// A descriptor the caller keeps open (socket, mq, eventfd, signalfd, timerfd, pipe, ...).
    Result<Key> add_fd(int fd, Interest interest = Interest::Readable);
    /// errc::invalid_argument for a key that is not a member.
    Result<void> remove(Key key);

    /// The keys of the ready members (valid until the next call); empty when the deadline passed
    /// first. Sleeps in slices of at most 50 ms, re-checking the shared-memory members between
    /// slices, so a lost or forged doorbell delays a wake-up by at most one slice. Errors: a
    /// member's file removed or truncated (the error names it), epoll failures.
    Result<std::span<const Key>> wait(Deadline deadline);

    /// The epoll descriptor (owned): readable when wait() would find a plain descriptor ready or
    /// an armed doorbell rang.
    [[nodiscard]] int fd() const noexcept;
    [[nodiscard]] std::size_t size() const noexcept;

    WaitSet(WaitSet&& other) noexcept;
    WaitSet& operator=(WaitSet&& other) noexcept;
    WaitSet(const WaitSet&) = delete;
    WaitSet& operator=(const WaitSet&) = delete;
    ~WaitSet();

private:
    explicit WaitSet(std::unique_ptr<detail::WaitSetImpl> impl) noexcept;
    std::unique_ptr<detail::WaitSetImpl> impl_;
};

}  // namespace ipckit
