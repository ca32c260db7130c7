// SPDX-License-Identifier: MIT
// WaitSet in one process: membership, plain descriptors, the deadline, the no-system-call fast
// path (counted by the test-hooks build), the doorbell ringing once per arming, hostile doorbell
// tables, and slots of dead WaitSets taken over.
#include "ipckit/event/wait_set.hpp"

#include "event/doorbell.hpp"
#include "event/event_file.hpp"
#include "event/wait_set_hooks.hpp"
#include "event_test_util.hpp"

#include <fcntl.h>
#include <mqueue.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace ipckit {
namespace {

using namespace std::chrono_literals;
using test::as_bytes;
using test::chan_name;
using test::event_name;
using test::small_config;
using Keys = std::vector<WaitSet::Key>;
using Clock = std::chrono::steady_clock;

Keys keys(std::span<const WaitSet::Key> s) {
    return {s.begin(), s.end()};
}

/// The event file's doorbell table, mapped as any same-uid process could.
struct RawEvent {
    UniqueFd fd;
    Mapping map;
    explicit RawEvent(const std::string& name) {
        fd = UniqueFd(::open(test::event_path(name).c_str(), O_RDWR | O_CLOEXEC));
        map =
            Mapping::map(fd.get(), 4096, 0, Protection::ReadWrite, Sharing::Shared, "raw").value();
    }
    detail::DoorbellTable& table() {
        return detail::doorbell_table_at(const_cast<std::byte*>(map.data()),  // NOLINT
                                         detail::kEventDoorbellOffset);
    }
};

/// A datagram socket bound to the abstract doorbell name of `addr`: a stand-in victim.
UniqueFd bind_victim(const std::uint64_t (&addr)[2], int rcvbuf = 0) {
    UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (rcvbuf != 0) {
        (void)::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    }
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::string name = "ipckit-bell-";
    char hex[33];
    std::snprintf(hex,
                  sizeof hex,
                  "%016llx%016llx",
                  static_cast<unsigned long long>(addr[0]),
                  static_cast<unsigned long long>(addr[1]));
    name += hex;
    std::memcpy(sa.sun_path + 1, name.data(), name.size());
    const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
    EXPECT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), len), 0) << std::strerror(errno);
    return fd;
}

int datagrams(int fd) {
    int n = 0;
    char b[16];
    while (::recv(fd, b, sizeof b, MSG_DONTWAIT) >= 0) {
        ++n;
    }
    return n;
}

TEST(WaitSet, ReadyListenerIsReportedWithoutASystemCall) {
    const auto name = event_name();
    auto l = EventListener::create(name).value();
    auto n = EventNotifier::open(name).value();
    auto ws = WaitSet::create().value();
    const auto k = ws.add(l).value();
    ASSERT_TRUE(n.notify(1));
    const auto before = detail::g_wait_set_syscalls.load();
    const Keys got = keys(ws.wait(Deadline::after(5s)).value());
    EXPECT_EQ(detail::g_wait_set_syscalls.load(), before) << "the fast path made a system call";
    EXPECT_EQ(got, Keys{k});
    EXPECT_EQ(l.take().value().size(), 1U);
    ASSERT_TRUE(Event::remove(name));
}

TEST(WaitSet, ReadySubscriberIsReportedWithoutASystemCall) {
    const auto name = chan_name();
    auto pub = Publisher::create(name, small_config()).value();
    auto sub = Subscriber::open(name).value();
    auto ws = WaitSet::create().value();
    const auto k = ws.add(sub).value();
    ASSERT_TRUE(pub.send(as_bytes("hi")));
    const auto before = detail::g_wait_set_syscalls.load();
    const Keys got = keys(ws.wait(Deadline::never()).value());
    EXPECT_EQ(detail::g_wait_set_syscalls.load(), before) << "the fast path made a system call";
    EXPECT_EQ(got, Keys{k});
    ASSERT_TRUE(sub.try_receive().value().has_value());
    ASSERT_TRUE(Channel::remove(name));
}

TEST(WaitSet, NothingReadySleepsAndTheCounterSeesIt) {
    // The counter the fast-path tests rely on does count the sleep path.
    const auto name = event_name();
    auto l = EventListener::create(name).value();
    auto ws = WaitSet::create().value();
    (void)ws.add(l).value();
    const auto before = detail::g_wait_set_syscalls.load();
    EXPECT_TRUE(ws.wait(Deadline::after(5ms)).value().empty());
    EXPECT_GT(detail::g_wait_set_syscalls.load(), before);
    ASSERT_TRUE(Event::remove(name));
}

TEST(WaitSet, DeadlinePassesWithNothingReady) {
    const auto name = event_name();
    auto l = EventListener::create(name).value();
    const int efd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    auto ws = WaitSet::create().value();
    (void)ws.add(l).value();
    (void)ws.add_fd(efd).value();
    const auto t0 = Clock::now();
    EXPECT_TRUE(ws.wait(Deadline::after(120ms)).value().empty());
    const auto took = Clock::now() - t0;
    EXPECT_GE(took, 120ms);
    EXPECT_LT(took, 3s);
    const auto t1 = Clock::now();
    EXPECT_TRUE(ws.wait(Deadline::now()).value().empty());
    EXPECT_LT(Clock::now() - t1, 1s) << "an expired deadline does not sleep";
    ::close(efd);
    ASSERT_TRUE(Event::remove(name));
}

TEST(WaitSet, PlainDescriptorsEventfdTimerfdSignalfdMqAndSocket) {
    auto ws = WaitSet::create().value();
    const int efd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    const int tfd = ::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR2);
    sigset_t old;
    ASSERT_EQ(::pthread_sigmask(SIG_BLOCK, &set, &old), 0);
    const int sfd = ::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    const auto mq_name = test::unique_mq_name("ws");
    mq_attr attr{};
    attr.mq_maxmsg = 4;
    attr.mq_msgsize = 16;
    const mqd_t mq =
        ::mq_open(mq_name.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NONBLOCK, 0600, &attr);
    int sv[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    ASSERT_GE(efd, 0);
    ASSERT_GE(tfd, 0);
    ASSERT_GE(sfd, 0);
    ASSERT_NE(mq, static_cast<mqd_t>(-1));
    const auto ke = ws.add_fd(efd).value();
    const auto kt = ws.add_fd(tfd).value();
    const auto ks = ws.add_fd(sfd).value();
    const auto km = ws.add_fd(mq).value();
    const auto kso = ws.add_fd(sv[0]).value();
    const auto kw = ws.add_fd(sv[0], WaitSet::Interest::Writable).value_or(0);
    EXPECT_EQ(kw, 0U) << "one descriptor is one member (epoll refuses a second add)";
    EXPECT_TRUE(ws.wait(Deadline::after(20ms)).value().empty());

    itimerspec its{};
    its.it_value.tv_nsec = 30'000'000;
    ASSERT_EQ(::timerfd_settime(tfd, 0, &its, nullptr), 0);
    EXPECT_EQ(keys(ws.wait(Deadline::after(5s)).value()), Keys{kt});
    std::uint64_t v = 0;
    ASSERT_EQ(::read(tfd, &v, sizeof v), 8);

    v = 1;
    ASSERT_EQ(::write(efd, &v, sizeof v), 8);
    ASSERT_EQ(::mq_send(mq, "x", 1, 0), 0);
    ASSERT_EQ(::write(sv[1], "y", 1), 1);
    ASSERT_EQ(::kill(::getpid(), SIGUSR2), 0);
    Keys all;
    const Deadline until = Deadline::after(5s);
    while (all.size() < 4 && !until.expired()) {
        const auto ready = ws.wait(until).value();
        for (auto k : ready) {
            if (std::find(all.begin(), all.end(), k) == all.end()) {
                all.push_back(k);
            }
        }
    }
    std::sort(all.begin(), all.end());
    EXPECT_EQ(all, (Keys{ke, ks, km, kso}));

    signalfd_siginfo si{};
    EXPECT_EQ(::read(sfd, &si, sizeof si), static_cast<ssize_t>(sizeof si));
    ASSERT_EQ(::pthread_sigmask(SIG_SETMASK, &old, nullptr), 0);
    ::close(efd);
    ::close(tfd);
    ::close(sfd);
    ::mq_close(mq);
    ::mq_unlink(mq_name.c_str());
    ::close(sv[0]);
    ::close(sv[1]);
}

TEST(WaitSet, RemovedMembersAreNotReportedAndUnknownKeysAreErrors) {
    const auto name = event_name();
    auto l = EventListener::create(name).value();
    auto n = EventNotifier::open(name).value();
    const int efd = ::eventfd(1, EFD_CLOEXEC | EFD_NONBLOCK);  // readable from the start
    auto ws = WaitSet::create().value();
    const auto kl = ws.add(l).value();
    const auto ke = ws.add_fd(efd).value();
    EXPECT_EQ(keys(ws.wait(Deadline::after(1s)).value()), Keys{ke});
    ASSERT_TRUE(ws.remove(ke));
    ASSERT_TRUE(ws.remove(kl));
    EXPECT_EQ(ws.size(), 0U);
    ASSERT_TRUE(n.notify(0));
    EXPECT_TRUE(ws.wait(Deadline::after(30ms)).value().empty());
    auto again = ws.remove(kl);
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code(), std::errc::invalid_argument);
    // Its slot was given back: the table shows no owner of ours and no armed bit.
    RawEvent raw(name);
    EXPECT_EQ(raw.table().armed.load(), 0U);
    for (const auto& s : raw.table().slots) {
        EXPECT_EQ(s.token.load(), 0U);
    }
    ::close(efd);
    ASSERT_TRUE(Event::remove(name));
}

TEST(WaitSet, NotifierWakesASleepingWaitSetThroughTheDoorbellOnce) {
    const auto name = event_name();
    auto l = EventListener::create(name).value();
    auto n = EventNotifier::open(name).value();
    auto ws = WaitSet::create().value();
    const auto k = ws.add(l).value();
    RawEvent raw(name);
    EXPECT_EQ(raw.table().armed.load(), 0U) << "adding arms nothing: notifiers pay nothing";
    EXPECT_TRUE(ws.wait(Deadline::now()).value().empty());  // arms
    EXPECT_NE(raw.table().armed.load(), 0U);
    const auto rings = detail::g_wait_set_rings.load();
    for (int i = 0; i < 5; ++i) {
        ASSERT_TRUE(n.notify(2));
    }
    EXPECT_EQ(raw.table().armed.load(), 0U) << "the first notify took the armed bits";
    pollfd p{ws.fd(), POLLIN, 0};
    ASSERT_EQ(::poll(&p, 1, 5000), 1) << "fd() turns readable for an outside loop";
    EXPECT_EQ(keys(ws.wait(Deadline::now()).value()), Keys{k});
    // The drain happens on the next sleep path: take the counts first so it sleeps.
    EXPECT_EQ(l.take().value(), (std::vector<EventCount>{{2, 5}}));
    EXPECT_TRUE(ws.wait(Deadline::now()).value().empty());
    EXPECT_EQ(detail::g_wait_set_rings.load() - rings, 1U) << "one ring per arming";
    ASSERT_TRUE(Event::remove(name));
}

TEST(WaitSet, ForgedDoorbellAddressGetsAtMostOneByteAndNeverBlocksTheNotifier) {
    const auto name = event_name();
    auto n = EventNotifier::create(name).value();
    RawEvent raw(name);
    const std::uint64_t addr[2] = {0x1111, 0x2222};
    auto victim = bind_victim(addr, 1);  // smallest receive buffer: full after a few bytes
    auto& t = raw.table();
    // Every slot forged at the victim, all armed, repeatedly: each notify sends at most one byte
    // per armed slot and returns at once even when the victim's buffer is full.
    for (auto& s : t.slots) {
        s.token.store(77);
        s.addr[0].store(addr[0]);
        s.addr[1].store(addr[1]);
    }
    const auto t0 = Clock::now();
    int sent_rounds = 0;
    for (int round = 0; round < 200; ++round) {
        t.armed.store(~0U);
        ASSERT_TRUE(n.notify(0));
        ++sent_rounds;
    }
    EXPECT_LT(Clock::now() - t0, 5s);
    const int got = datagrams(victim.get());
    EXPECT_GE(got, 1);
    EXPECT_LE(got, sent_rounds * 32);
    // Armed once, notified many times: exactly one byte.
    t.armed.store(1U);
    for (int i = 0; i < 10; ++i) {
        ASSERT_TRUE(n.notify(0));
    }
    EXPECT_EQ(datagrams(victim.get()), 1);
    // An address nobody is bound to: the error is ignored.
    t.slots[0].addr[0].store(0xdead);
    t.armed.store(1U);
    EXPECT_TRUE(n.notify(0));
    ASSERT_TRUE(Event::remove(name));
}

TEST(WaitSet, AForgedDisarmDelaysAWakeUpByAtMostOneSlice) {
    const auto name = event_name();
    auto l = EventListener::create(name).value();
    auto n = EventNotifier::open(name).value();
    RawEvent raw(name);
    auto ws = WaitSet::create().value();
    const auto k = ws.add(l).value();
    std::thread peer([&] {
        std::this_thread::sleep_for(100ms);
        raw.table().armed.store(0);          // a hostile peer clears every bit
        for (auto& s : raw.table().slots) {  // and points the slots elsewhere
            s.addr[0].store(1);
        }
        (void)n.notify(4);  // rings nobody
    });
    const auto t0 = Clock::now();
    const Keys got = keys(ws.wait(Deadline::after(20s)).value());
    const auto took = Clock::now() - t0;
    peer.join();
    EXPECT_EQ(got, Keys{k});
    EXPECT_LT(took, 5s) << "woken by the slice, not the deadline";
    // The next wait re-claims its slot (its address was overwritten) and is rung again.
    ASSERT_EQ(l.take().value().size(), 1U);
    std::thread again([&] {
        std::this_thread::sleep_for(50ms);
        (void)n.notify(5);
    });
    const auto rings = detail::g_wait_set_rings.load();
    EXPECT_EQ(keys(ws.wait(Deadline::after(20s)).value()), Keys{k});
    again.join();
    EXPECT_TRUE(ws.wait(Deadline::now()).value().size() == 1);
    (void)l.take();
    EXPECT_TRUE(ws.wait(Deadline::now()).value().empty());
    EXPECT_GE(detail::g_wait_set_rings.load() - rings, 1U) << "the re-claimed slot rang";
    ASSERT_TRUE(Event::remove(name));
}

TEST(WaitSet, FullDoorbellTableIsBusyUntilAnOwnerDies) {
    const auto name = event_name();
    auto l = EventListener::create(name).value();
    std::vector<WaitSet> sets;
    for (std::uint32_t i = 0; i < detail::kDoorbellSlots; ++i) {
        sets.push_back(WaitSet::create().value());
        ASSERT_TRUE(sets.back().add(l));
    }
    auto extra = WaitSet::create().value();
    auto busy = extra.add(l);
    ASSERT_FALSE(busy);
    EXPECT_EQ(busy.error().code(), std::errc::device_or_resource_busy);
    // A WaitSet that vanishes without giving its slot back (as if SIGKILLed): its socket is gone,
    // so its slot is taken over.
    RawEvent raw(name);
    const std::uint64_t token = raw.table().slots[5].token.load();
    raw.table().slots[5].addr[0].store(0xfeed);  // now names a socket nobody holds
    EXPECT_TRUE(extra.add(l));
    EXPECT_NE(raw.table().slots[5].token.load(), token);
    sets.clear();
    ASSERT_TRUE(Event::remove(name));
}

}  // namespace
}  // namespace ipckit
