// SPDX-License-Identifier: MIT
// WaitSet: readiness by plain loads first, then doorbells + epoll (docs/design/patterns.md).
#include "ipckit/event/wait_set.hpp"

#include "channel/fault_point.hpp"
#include "channel/group_wait.hpp"
#include "channel/participant.hpp"
#include "event/doorbell.hpp"
#include "event/event_file.hpp"
#include "event/wait_set_hooks.hpp"
#include "ipckit/channel/group_consumer.hpp"
#include "ipckit/channel/subscriber.hpp"
#include "ipckit/core/assert.hpp"
#include "ipckit/core/unique_fd.hpp"
#include "ipckit/event/event_listener.hpp"
#include "ipckit/service/client.hpp"
#include "ipckit/service/server.hpp"
#include "service/service_wait.hpp"
#include "sync/fences.hpp"
#include "sys/syscall.hpp"

#include <fcntl.h>
#include <sys/epoll.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <span>
#include <string>
#include <vector>

namespace ipckit::detail {

std::atomic<std::uint64_t> g_wait_set_syscalls{0};
std::atomic<std::uint64_t> g_wait_set_rings{0};

namespace {

// Counts the system calls wait() makes and the rings it drained, in the test-hooks build only
// (the no-syscall fast path is a tested promise); nothing in the shipped library.
#if defined(IPCKIT_FAULT_POINTS) && IPCKIT_FAULT_POINTS
constexpr bool kHooks = true;
#else
constexpr bool kHooks = false;
#endif
inline void count_syscall() noexcept {
    if constexpr (kHooks) {
        g_wait_set_syscalls.fetch_add(1, std::memory_order_relaxed);
    }
}
inline void count_rings(std::uint32_t n) noexcept {
    if constexpr (kHooks) {
        g_wait_set_rings.fetch_add(n, std::memory_order_relaxed);
    }
}

/// The longest sleep between two looks at the shared-memory members: a lost or forged doorbell,
/// a removed or truncated file, wake nobody.
constexpr std::chrono::milliseconds kSlice{50};
/// When a doorbell slot could not be (re)claimed: sleep this long between looks instead.
constexpr std::chrono::milliseconds kUnarmedSlice{5};
/// Every this many fast returns in a row, the plain descriptors are looked at too.
constexpr std::uint32_t kFairness = 16;
constexpr std::uint64_t kDoorbellKey = ~std::uint64_t{0};
/// In an epoll event's data: a client's server pidfd (the key in the low 32 bits).
constexpr std::uint64_t kPidfdFlag = std::uint64_t{1} << 32;
constexpr int kMaxEvents = 64;
}  // namespace

struct WaitSetImpl {
    enum class Kind : std::uint8_t { Subscriber, Listener, Fd, Server, Client, Group };
    struct Member {
        WaitSet::Key key = 0;
        Kind kind = Kind::Fd;
        SubscriberImpl* sub = nullptr;  // Subscriber; Server: requests; Client: responses
        EventImpl* event = nullptr;
        ClientImpl* client = nullptr;
        GroupConsumerImpl* group = nullptr;
        int fd = -1;
        DoorbellTable* table = nullptr;
        std::uint32_t slot = 0;
        std::string object;
        UniqueFd pidfd;               // Client: our dup of its server's pidfd, in the epoll
        std::uint64_t epoch = ~0ULL;  // Client: the server resolution the dup belongs to
    };
    UniqueFd epoll;
    Doorbell bell;
    std::vector<Member> members;
    std::vector<WaitSet::Key> ready;
    WaitSet::Key next_key = 1;
    std::uint32_t fast_streak = 0;
    std::size_t fds = 0;

    explicit WaitSetImpl(Doorbell b) : bell(std::move(b)) {}
    WaitSetImpl(const WaitSetImpl&) = delete;
    WaitSetImpl& operator=(const WaitSetImpl&) = delete;
    WaitSetImpl(WaitSetImpl&&) = delete;
    WaitSetImpl& operator=(WaitSetImpl&&) = delete;
    ~WaitSetImpl() {
        for (const Member& m : members) {
            if (m.table != nullptr) {
                bell.release(*m.table, m.slot);
            }
        }
    }

    static bool subscriber_ready(const SubscriberImpl& s) noexcept {
        const auto& f = s.file;
        const std::uint32_t hw = std::min(f.header().lanes_hw.load(std::memory_order_acquire),
                                          f.geometry().max_publishers);
        for (std::uint32_t l = 0; l < hw; ++l) {
            if (f.pub(l).tail.load(std::memory_order_acquire) != s.lanes[l].cursor) {
                return true;
            }
        }
        return false;
    }
    static bool listener_ready(const EventImpl& e) noexcept {
        for (std::uint32_t id = 0; id < e.max_ids; ++id) {
            if (e.counter(id).load(std::memory_order_acquire) != e.seen[id]) {
                return true;
            }
        }
        return false;
    }

    static bool member_ready(const Member& m) noexcept {
        switch (m.kind) {
            case Kind::Subscriber:
            case Kind::Server:
                return subscriber_ready(*m.sub);
            case Kind::Client:
                return client_has_filed(*m.client) || subscriber_ready(*m.sub);
            case Kind::Group:
                return group_ready(*m.group);
            case Kind::Listener:
                return listener_ready(*m.event);
            case Kind::Fd:
                break;
        }
        return false;
    }

    /// Appends the ready shared-memory members (plain loads only); true if any.
    bool collect_shm() noexcept {
        bool any = false;
        for (const Member& m : members) {
            const bool r = member_ready(m);
            if (r) {
                ready.push_back(m.key);
                any = true;
            }
        }
        return any;
    }

    /// Sets our doorbell bit in each shared-memory member's file; a slot lost to a peer is
    /// claimed again. False if some member could not be armed (then sleep in short slices).
    bool arm_all() {
        bool all = true;
        for (Member& m : members) {
            if (m.table == nullptr || bell.arm(*m.table, m.slot)) {
                continue;
            }
            auto slot = bell.claim(*m.table, m.object);
            if (slot && bell.arm(*m.table, *slot)) {
                m.slot = *slot;
            } else {
                all = false;
            }
        }
        return all;
    }

    /// Takes a client's pidfd dup out of the epoll and closes it. (Closing alone is not enough:
    /// the dup shares its open file description with the client's pidfd, and epoll watches the
    /// description.)
    void drop_pidfd(Member& m) const noexcept {
        if (m.pidfd.valid()) {
            (void)::epoll_ctl(epoll.get(), EPOLL_CTL_DEL, m.pidfd.get(), nullptr);
            m.pidfd.reset();
        }
    }

    /// Keeps each client's server pidfd in the epoll: a dup of the pidfd of the server it
    /// resolved last, none once that server is known dead (a readable pidfd stays readable).
    Result<void> sync_pidfds() {
        for (Member& m : members) {
            if (m.kind != Kind::Client) {
                continue;
            }
            const int cur = client_server_pidfd(*m.client);
            const std::uint64_t epoch = client_server_epoch(*m.client);
            if (epoch == m.epoch && (cur >= 0) == m.pidfd.valid()) {
                continue;
            }
            drop_pidfd(m);
            m.epoch = epoch;
            if (cur < 0) {
                continue;
            }
            count_syscall();
            IPCKIT_TRY_ASSIGN(auto dup, sys::call("fcntl", m.object, [&] {
                                  return ::fcntl(cur, F_DUPFD_CLOEXEC, 0);
                              }));
            m.pidfd = UniqueFd(dup);
            epoll_event ev{};
            ev.events = EPOLLIN;
            ev.data.u64 = kPidfdFlag | m.key;
            count_syscall();
            IPCKIT_TRY(sys::call("epoll_ctl", m.object, [&] {
                return ::epoll_ctl(epoll.get(), EPOLL_CTL_ADD, m.pidfd.get(), &ev);
            }));
        }
        return {};
    }

    /// A client's server pidfd polled readable: the client fails its requests in flight now.
    Result<void> server_ended(WaitSet::Key key) {
        for (Member& m : members) {
            if (m.kind == Kind::Client && m.key == key) {
                count_syscall();
                IPCKIT_TRY_ASSIGN(const bool dead, client_check_server(*m.client));
                if (dead) {
                    drop_pidfd(m);
                    ready.push_back(key);
                }
            }
        }
        return {};
    }

    /// Before sleeping: group consumers adopt what dead members held.
    Result<void> before_sleep() {
        for (Member& m : members) {
            if (m.kind == Kind::Group) {
                count_syscall();
                IPCKIT_TRY(group_before_sleep(*m.group));
            }
        }
        return sync_pidfds();
    }

    /// One epoll_wait; appends the ready descriptors, drains the doorbell.
    Result<void> poll_fds(int timeout_ms) {
        std::array<epoll_event, kMaxEvents> evs{};
        count_syscall();
        IPCKIT_TRY_ASSIGN(auto n, sys::call("epoll_wait", "waitset", [&] {
                              return ::epoll_wait(epoll.get(), evs.data(), kMaxEvents, timeout_ms);
                          }));
        for (const epoll_event& ev : std::span(evs).first(static_cast<std::size_t>(n))) {
            const std::uint64_t k = ev.data.u64;
            if (k == kDoorbellKey) {
                count_syscall();
                count_rings(bell.drain());
            } else if ((k & kPidfdFlag) != 0) {
                IPCKIT_TRY(server_ended(static_cast<WaitSet::Key>(k)));
            } else if (std::any_of(members.begin(), members.end(), [&](const Member& m) {
                           return m.key == k;
                       })) {
                ready.push_back(static_cast<WaitSet::Key>(k));
            }
        }
        return {};
    }

    /// Between idle slices: a removed or truncated member file wakes nobody.
    Result<void> check_members() const {
        for (const Member& m : members) {
            Result<void> r;
            if (m.sub != nullptr) {
                count_syscall();
                r = m.sub->file.check_intact();
            } else if (m.group != nullptr) {
                count_syscall();
                r = group_file(*m.group).check_intact();
            } else if (m.kind == Kind::Listener) {
                count_syscall();
                r = m.event->check_intact("waitset wait");
            }
            if (!r) {
                return Error(r.error().code(),
                             "waitset wait",
                             m.object,
                             "member key " + std::to_string(m.key) + ": " + r.error().message());
            }
        }
        return {};
    }

    /// Arm, re-check, one epoll_wait of at most one slice. True when something is ready or the
    /// deadline passed; false: look again.
    Result<bool> sleep_once(Deadline deadline) {
        IPCKIT_TRY(before_sleep());
        IPCKIT_FAULT_POINT("waitset.before_arm");
        // Dekker pair with the writers' commit, fence, load `armed`: either we see their commit
        // here or they see our bit and ring.
        const bool armed = arm_all();
        full_fence();
        if (collect_shm()) {
            return true;
        }
        IPCKIT_FAULT_POINT("waitset.before_sleep");
        int timeout_ms = 0;
        if (!deadline.expired()) {
            const std::chrono::nanoseconds slice = armed ? kSlice : kUnarmedSlice;
            const auto left = deadline.is_never() ? slice : std::min(deadline.remaining(), slice);
            // Rounded up: a sub-millisecond remainder must not spin.
            timeout_ms = static_cast<int>(std::max<std::int64_t>(
                std::chrono::ceil<std::chrono::milliseconds>(left).count(), 0));
        }
        IPCKIT_TRY(poll_fds(timeout_ms));
        (void)collect_shm();
        if (!ready.empty() || timeout_ms == 0 || deadline.expired()) {
            return true;
        }
        IPCKIT_TRY(check_members());
        return false;
    }

    /// The ready keys, sorted, each once.
    std::span<const WaitSet::Key> result() {
        std::sort(ready.begin(), ready.end());
        ready.erase(std::unique(ready.begin(), ready.end()), ready.end());
        return ready;
    }

    /// A member that waits on a channel subscriber (m.sub): the channel header's doorbells.
    Result<WaitSet::Key> add_channel(Member m) {
        auto& table =
            detail::doorbell_table_at(&m.sub->file.header(), detail::kChannelDoorbellOffset);
        return add_shm(std::move(m), table);
    }

    Result<WaitSet::Key> add_shm(Member m, DoorbellTable& table) {
        IPCKIT_TRY_ASSIGN(m.slot, bell.claim(table, m.object));
        m.table = &table;
        m.key = next_key++;
        members.push_back(std::move(m));
        return members.back().key;
    }
};

}  // namespace ipckit::detail

namespace ipckit {

using detail::WaitSetImpl;

WaitSet::WaitSet(std::unique_ptr<WaitSetImpl> impl) noexcept : impl_(std::move(impl)) {}
WaitSet::WaitSet(WaitSet&& other) noexcept = default;
WaitSet& WaitSet::operator=(WaitSet&& other) noexcept = default;
WaitSet::~WaitSet() = default;

Result<WaitSet> WaitSet::create() {
    IPCKIT_TRY_ASSIGN(auto bell, detail::Doorbell::create());
    auto impl = std::make_unique<WaitSetImpl>(std::move(bell));
    IPCKIT_TRY_ASSIGN(auto ep, sys::call("epoll_create1", "waitset", [] {
                          return ::epoll_create1(EPOLL_CLOEXEC);
                      }));
    impl->epoll = UniqueFd(ep);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = detail::kDoorbellKey;
    IPCKIT_TRY(sys::call("epoll_ctl", impl->bell.name(), [&] {
        return ::epoll_ctl(impl->epoll.get(), EPOLL_CTL_ADD, impl->bell.fd(), &ev);
    }));
    return WaitSet(std::move(impl));
}

Result<WaitSet::Key> WaitSet::add(Subscriber& subscriber) {
    IPCKIT_ASSERT(impl_ != nullptr && subscriber.impl_ != nullptr, "use of a moved-from object");
    WaitSetImpl::Member m;
    m.kind = WaitSetImpl::Kind::Subscriber;
    m.sub = subscriber.impl_.get();
    m.object = "chan:" + m.sub->file.name();
    return impl_->add_channel(std::move(m));
}

Result<WaitSet::Key> WaitSet::add(EventListener& listener) {
    IPCKIT_ASSERT(impl_ != nullptr && listener.impl_ != nullptr, "use of a moved-from object");
    WaitSetImpl::Member m;
    m.kind = WaitSetImpl::Kind::Listener;
    m.event = listener.impl_.get();
    m.object = m.event->object();
    auto& table = m.event->doorbells();
    return impl_->add_shm(std::move(m), table);
}

Result<WaitSet::Key> WaitSet::add(Server& server) {
    IPCKIT_ASSERT(impl_ != nullptr && server.impl_ != nullptr, "use of a moved-from object");
    WaitSetImpl::Member m;
    m.kind = WaitSetImpl::Kind::Server;
    m.sub = detail::server_requests(*server.impl_).impl_.get();
    m.object = "srv:" + server.name();
    return impl_->add_channel(std::move(m));
}

Result<WaitSet::Key> WaitSet::add(Client& client) {
    IPCKIT_ASSERT(impl_ != nullptr && client.impl_ != nullptr, "use of a moved-from object");
    WaitSetImpl::Member m;
    m.kind = WaitSetImpl::Kind::Client;
    m.client = client.impl_.get();
    m.sub = detail::client_responses(*m.client).impl_.get();
    m.object = "srv client chan:" + m.sub->file.name();
    IPCKIT_TRY_ASSIGN(const Key key, impl_->add_channel(std::move(m)));
    if (auto r = impl_->sync_pidfds(); !r) {
        (void)remove(key);
        return std::move(r).error();
    }
    return key;
}

Result<WaitSet::Key> WaitSet::add(GroupConsumer& consumer) {
    IPCKIT_ASSERT(impl_ != nullptr && consumer.impl_ != nullptr, "use of a moved-from object");
    WaitSetImpl::Member m;
    m.kind = WaitSetImpl::Kind::Group;
    m.group = consumer.impl_.get();
    auto& file = detail::group_file(*m.group);
    m.object = "chan:" + file.name();
    auto& table = detail::doorbell_table_at(&file.header(), detail::kChannelDoorbellOffset);
    return impl_->add_shm(std::move(m), table);
}

Result<WaitSet::Key> WaitSet::add_fd(int fd, Interest interest) {
    IPCKIT_ASSERT(impl_ != nullptr, "use of a moved-from WaitSet");
    auto& w = *impl_;
    epoll_event ev{};
    ev.events = interest == Interest::Readable   ? EPOLLIN
                : interest == Interest::Writable ? EPOLLOUT
                                                 : (EPOLLIN | EPOLLOUT);
    const Key key = w.next_key;
    ev.data.u64 = key;
    IPCKIT_TRY(sys::call("epoll_ctl", "fd " + std::to_string(fd), [&] {
        return ::epoll_ctl(w.epoll.get(), EPOLL_CTL_ADD, fd, &ev);
    }));
    ++w.next_key;
    WaitSetImpl::Member m;
    m.key = key;
    m.fd = fd;
    m.object = "fd " + std::to_string(fd);
    w.members.push_back(std::move(m));
    ++w.fds;
    return key;
}

Result<void> WaitSet::remove(Key key) {
    IPCKIT_ASSERT(impl_ != nullptr, "use of a moved-from WaitSet");
    auto& w = *impl_;
    auto it = std::find_if(w.members.begin(), w.members.end(), [&](const WaitSetImpl::Member& m) {
        return m.key == key;
    });
    if (it == w.members.end()) {
        return Error(std::errc::invalid_argument,
                     "waitset remove",
                     "key " + std::to_string(key),
                     "not a member");
    }
    if (it->table != nullptr) {
        w.bell.release(*it->table, it->slot);
        w.drop_pidfd(*it);
    } else {
        // The caller may have closed it already (epoll then dropped it): nothing to undo.
        (void)::epoll_ctl(w.epoll.get(), EPOLL_CTL_DEL, it->fd, nullptr);
        --w.fds;
    }
    w.members.erase(it);
    return {};
}

Result<std::span<const WaitSet::Key>> WaitSet::wait(Deadline deadline) {
    IPCKIT_ASSERT(impl_ != nullptr, "use of a moved-from WaitSet");
    auto& w = *impl_;
    w.ready.clear();
    // Something already ready: no system call (but now and then a look at the descriptors, so
    // a busy channel cannot starve them).
    if (w.collect_shm()) {
        if (++w.fast_streak % detail::kFairness == 0 && w.fds != 0) {
            IPCKIT_TRY(w.poll_fds(0));
        }
        return w.result();
    }
    w.fast_streak = 0;
    for (;;) {
        IPCKIT_TRY_ASSIGN(const bool done, w.sleep_once(deadline));
        if (done) {
            return w.result();
        }
    }
}

int WaitSet::fd() const noexcept {
    return impl_->epoll.get();
}
std::size_t WaitSet::size() const noexcept {
    return impl_->members.size();
}

}  // namespace ipckit
