// SPDX-License-Identifier: MIT
// Conformance of the message facilities: one set of typed tests over a POSIX queue, a System V
// queue, Unix datagram and seqpacket socket pairs and a channel, through the public API only.
// Boundaries preserved, the empty message (A05), the largest message accepted and one byte more
// refused, a short receive buffer reported and never a silent cut (A06), a try-receive on
// nothing as the empty outcome, order kept (also across processes), and no message that was
// never sent once the sender left (a known seqpacket defect is skipped with "defect:").
#include "conformance_util.hpp"
#include "forked_child.hpp"
#include "ipc_registry.hpp"
#include "ipckit/channel/channel.hpp"
#include "ipckit/channel/publisher.hpp"
#include "ipckit/channel/subscriber.hpp"
#include "ipckit/message/posix_mq.hpp"
#include "ipckit/message/sysv_msg_queue.hpp"
#include "ipckit/socket/socket.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include <gtest/gtest.h>

namespace ipckit {
namespace {

using namespace std::chrono_literals;

// ---- the implementations: send, receive_until (an expired deadline = a try), a sender for a
// forked child, cleanup. Traits: kFixedMax (the facility has a fixed largest message,
// max_size()), kTooLarge (what a message above the largest gets), kShortBuffer (what a receive
// into a buffer smaller than the message gets) and kShortBufferConsumes (whether that message
// is gone afterwards).

struct PosixMqImpl {
    static constexpr const char* kName = "PosixMq";
    static constexpr bool kFixedMax = true;
    static constexpr std::errc kTooLarge = std::errc::message_size;
    /// The kernel checks the buffer against the queue's msgsize, not the message (F4).
    static constexpr std::errc kShortBuffer = std::errc::message_size;
    static constexpr bool kShortBufferConsumes = false;
    static std::size_t max_size() { return 256; }
    /// Queues are in the kernel even where /dev/mqueue is not mounted (F31: the registry then
    /// tracks the names for the leak check); only a kernel without POSIX queues skips.
    static std::optional<std::string> unavailable() {
        auto name = PosixName::make(test::unique_mq_name("probe")).value();
        auto q = PosixMq::create(name);
        if (!q && q.error() == std::errc::function_not_supported) {
            return "this kernel has no POSIX message queues (CONFIG_POSIX_MQUEUE)";
        }
        (void)PosixMq::unlink(name);
        return std::nullopt;
    }

    std::optional<PosixName> name;
    std::optional<PosixMq> q;

    static PosixMqImpl make() {
        PosixMqImpl m;
        m.name.emplace(PosixName::make(test::unique_mq_name()).value());
        m.q.emplace(
            PosixMq::create(*m.name, {.max_messages = 10, .max_message_size = 256}).value());
        return m;
    }
    Result<void> send(std::span<const std::byte> b) { return q->send(b); }
    Result<std::optional<std::size_t>> receive_until(std::span<std::byte> b, Deadline d) {
        IPCKIT_TRY_ASSIGN(auto r, q->receive_until(b, d));
        return r ? std::optional<std::size_t>(r->size) : std::nullopt;
    }
    /// A forked child shares the queue's descriptor.
    Result<void> send_in_child(std::span<const std::byte> b) { return q->send(b); }
    /// A queue has no sender to close: the queue stays, messages are its only content.
    void close_sender() {}
    void cleanup() {
        if (name) {
            (void)PosixMq::unlink(*name);
        }
    }
};

/// System V: the largest message is /proc/sys/kernel/msgmax, and a larger one is EINVAL
/// (msgsnd(2)), not EMSGSIZE.
struct SysvMqImpl {
    static constexpr const char* kName = "SysvMq";
    static constexpr bool kFixedMax = true;
    static constexpr std::errc kTooLarge = std::errc::invalid_argument;
    /// E2BIG, and the message stays queued (F8).
    static constexpr std::errc kShortBuffer = std::errc::argument_list_too_long;
    static constexpr bool kShortBufferConsumes = false;
    static std::optional<std::string> unavailable() { return std::nullopt; }
    static std::size_t max_size() { return conformance::proc_number("/proc/sys/kernel/msgmax"); }

    std::optional<SysvMsgQueue> q;

    static SysvMqImpl make() {
        SysvMqImpl m;
        m.q.emplace(SysvMsgQueue::create(SysvKey::private_key()).value());
        test::track_sysv_id(test::IpcKind::SysvMsg, m.q->id());
        return m;
    }
    Result<void> send(std::span<const std::byte> b) { return q->send(1, b); }
    Result<std::optional<std::size_t>> receive_until(std::span<std::byte> b, Deadline d) {
        IPCKIT_TRY_ASSIGN(auto r, q->receive_until(b, 0, d));
        return r ? std::optional<std::size_t>(r->size) : std::nullopt;
    }
    Result<void> send_in_child(std::span<const std::byte> b) { return q->send(1, b); }
    void close_sender() {}
    void cleanup() {
        if (q) {
            (void)q->remove();
        }
    }
};

/// Unix message sockets have no fixed largest message: a message must fit the sending socket's
/// buffer (SO_SNDBUF), and a larger one is errc::message_size.
template <SocketType Type>
struct UnixMessageSocket {
    static constexpr const char* kName =
        Type == SocketType::Datagram ? "UnixDgram" : "UnixSeqPacket";
    static constexpr bool kFixedMax = false;
    static constexpr std::errc kTooLarge = std::errc::message_size;
    /// Reported ("datagram truncated"), and the kernel has consumed the message.
    static constexpr std::errc kShortBuffer = std::errc::message_size;
    static constexpr bool kShortBufferConsumes = true;
    static std::optional<std::string> unavailable() { return std::nullopt; }
    std::optional<Socket> sender;
    std::optional<Socket> receiver;
    std::size_t sndbuf = 0;

    static UnixMessageSocket make() {
        auto [a, b] = Socket::pair(Type).value();
        UnixMessageSocket m;
        m.sender.emplace(std::move(a));
        m.receiver.emplace(std::move(b));
        int size = 0;
        socklen_t len = sizeof size;
        if (::getsockopt(m.sender->native_handle(), SOL_SOCKET, SO_SNDBUF, &size, &len) != 0) {
            throw std::system_error(errno, std::generic_category(), "getsockopt(SO_SNDBUF)");
        }
        m.sndbuf = static_cast<std::size_t>(size);
        return m;
    }
    Result<void> send(std::span<const std::byte> b) {
        return sender->send(b, Deadline::after(10s));
    }
    Result<std::optional<std::size_t>> receive_until(std::span<std::byte> b, Deadline d) {
        return receiver->receive(b, d);
    }
    Result<void> send_in_child(std::span<const std::byte> b) { return send(b); }
    void close_sender() { sender->close(); }
    /// The send buffer's size as the kernel reported it at make().
    [[nodiscard]] std::size_t send_buffer() const { return sndbuf; }
    void cleanup() {}
};
using UnixDgramImpl = UnixMessageSocket<SocketType::Datagram>;
using UnixSeqPacketImpl = UnixMessageSocket<SocketType::SeqPacket>;

/// A channel: one publisher, one subscriber (which sees what is published after it joined).
/// A forked child joins as a publisher of its own (a publisher must not be shared across fork).
struct ChannelImpl {
    static constexpr const char* kName = "Channel";
    static constexpr bool kFixedMax = true;
    static constexpr std::errc kTooLarge = std::errc::message_size;
    /// A copying receive that does not fit consumes nothing.
    static constexpr std::errc kShortBuffer = std::errc::message_size;
    static constexpr bool kShortBufferConsumes = false;
    static std::size_t max_size() { return 1024; }
    static std::optional<std::string> unavailable() { return std::nullopt; }

    std::string name;
    std::optional<Publisher> pub;
    std::optional<Subscriber> sub;
    std::optional<Publisher> child_pub;  // set in a forked child only

    static ChannelImpl make() {
        ChannelImpl m;
        m.name = conformance::channel_name();
        ChannelConfig config;
        config.lane_bytes = 16 * 1024;
        config.max_message_size = max_size();
        config.max_publishers = 4;
        config.max_subscribers = 4;
        m.pub.emplace(Publisher::create(m.name, config).value());
        m.sub.emplace(Subscriber::open(m.name).value());
        return m;
    }
    Result<void> send(std::span<const std::byte> b) { return pub->send(b); }
    Result<std::optional<std::size_t>> receive_until(std::span<std::byte> b, Deadline d) {
        IPCKIT_TRY_ASSIGN(auto r, sub->receive_until(b, d));
        return r ? std::optional<std::size_t>(r->size) : std::nullopt;
    }
    Result<void> send_in_child(std::span<const std::byte> b) {
        if (!child_pub) {
            IPCKIT_TRY_ASSIGN(auto p, Publisher::open(name));
            child_pub.emplace(std::move(p));
        }
        return child_pub->send(b);
    }
    /// The publisher leaves the channel.
    void close_sender() { pub.reset(); }
    void cleanup() {
        sub.reset();
        pub.reset();
        if (!name.empty()) {
            (void)Channel::remove(name);
        }
    }
};

// ---- the tests

template <class M>
class MessageFacility : public ::testing::Test {
protected:
    void SetUp() override {
        if (auto why = M::unavailable()) {
            GTEST_SKIP() << *why;
        }
        m_.emplace(M::make());
    }
    void TearDown() override {
        if (m_) {
            m_->cleanup();
        }
    }
    M& m() { return *m_; }

    /// The largest message this instance takes (for sockets: a quarter of the send buffer).
    std::size_t largest() {
        if constexpr (M::kFixedMax) {
            return M::max_size();
        } else {
            return m().send_buffer() / 4;
        }
    }
    /// A buffer large enough for any message of the tests below.
    std::vector<std::byte> buffer() { return std::vector<std::byte>(largest() + 1); }

    /// Receives one message, waiting up to 10 s; fails the test if none comes.
    std::optional<std::vector<std::byte>> receive_one(Deadline d = Deadline::after(10s)) {
        auto buf = buffer();
        auto r = m().receive_until(buf, d);
        EXPECT_TRUE(r) << r.error().message();
        if (!r) {
            return std::nullopt;
        }
        EXPECT_TRUE(r->has_value()) << M::kName << ": no message before the deadline";
        if (!r->has_value()) {
            return std::nullopt;
        }
        buf.resize(**r);
        return buf;
    }

    std::optional<M> m_;
};

using Facilities =
    ::testing::Types<PosixMqImpl, SysvMqImpl, UnixDgramImpl, UnixSeqPacketImpl, ChannelImpl>;
TYPED_TEST_SUITE(MessageFacility, Facilities, conformance::ImplName);

TYPED_TEST(MessageFacility, EachSendIsReceivedAsOneWholeMessage) {
    const auto a = conformance::pattern(5, 1);
    const auto b = conformance::pattern(std::min<std::size_t>(300, this->largest()), 2);
    const auto c = conformance::pattern(1, 3);
    for (const auto* msg : {&a, &b, &c}) {
        ASSERT_TRUE(this->m().send(*msg));
    }
    for (const auto* msg : {&a, &b, &c}) {
        auto got = this->receive_one();
        ASSERT_TRUE(got);
        EXPECT_EQ(*got, *msg) << "boundaries are kept: neither merged nor split";
    }
}

TYPED_TEST(MessageFacility, AnEmptyMessageIsDeliveredAsOneEmptyMessage) {
    ASSERT_TRUE(this->m().send({}));
    const auto after = conformance::pattern(4, 4);
    ASSERT_TRUE(this->m().send(after));
    auto empty = this->receive_one();
    ASSERT_TRUE(empty);
    EXPECT_TRUE(empty->empty());
    auto next = this->receive_one();
    ASSERT_TRUE(next);
    EXPECT_EQ(*next, after);
}

TYPED_TEST(MessageFacility, TheLargestMessageIsAcceptedAndOneByteMoreIsRefused) {
    const std::size_t max = this->largest();
    const auto largest = conformance::pattern(max, 5);
    ASSERT_TRUE(this->m().send(largest));
    auto got = this->receive_one();
    ASSERT_TRUE(got);
    EXPECT_EQ(*got, largest);

    std::size_t too_large = max + 1;
    if constexpr (!TypeParam::kFixedMax) {
        too_large = this->m().send_buffer() + 1;  // no fixed largest: the send buffer bounds it
    }
    auto r = this->m().send(conformance::pattern(too_large, 6));
    ASSERT_FALSE(r) << too_large << " bytes were accepted";
    EXPECT_EQ(r.error(), TypeParam::kTooLarge) << r.error().message();
    // Refused whole: nothing of it arrives.
    auto buf = this->buffer();
    auto none = this->m().receive_until(buf, Deadline::now());
    ASSERT_TRUE(none) << none.error().message();
    EXPECT_FALSE(none->has_value());
}

TYPED_TEST(MessageFacility, AReceiveIntoAShortBufferIsReportedNeverSilentlyCut) {
    const auto message = conformance::pattern(64, 7);
    const auto after = conformance::pattern(3, 8);
    ASSERT_TRUE(this->m().send(message));
    ASSERT_TRUE(this->m().send(after));
    std::array<std::byte, 16> small{};
    auto r = this->m().receive_until(small, Deadline::after(10s));
    ASSERT_FALSE(r) << "a 64-byte message into 16 bytes was accepted";
    EXPECT_EQ(r.error(), TypeParam::kShortBuffer) << r.error().message();
    // A06: either the message is still there for a big enough buffer, or (sockets) it is gone,
    // as documented; never a silent cut, and the next message is intact.
    if (!TypeParam::kShortBufferConsumes) {
        auto again = this->receive_one();
        ASSERT_TRUE(again);
        EXPECT_EQ(*again, message);
    }
    auto next = this->receive_one();
    ASSERT_TRUE(next);
    EXPECT_EQ(*next, after);
}

TYPED_TEST(MessageFacility, NothingArrivesThatWasNotSentAfterTheSenderLeft) {
    const auto last = conformance::pattern(6, 9);
    ASSERT_TRUE(this->m().send(last));
    this->m().close_sender();
    auto got = this->receive_one();
    ASSERT_TRUE(got);
    EXPECT_EQ(*got, last);
    // No message is left: the receive times out, or fails naming the gone peer; it never
    // delivers a message nobody sent.
    auto buf = this->buffer();
    auto r = this->m().receive_until(buf, Deadline::after(50ms));
    if (r && r->has_value()) {
        ADD_FAILURE() << "a message of " << **r << " bytes that was never sent";
    }
}

TYPED_TEST(MessageFacility, ATryReceiveOnNothingIsTheEmptyOutcome) {
    auto buf = this->buffer();
    auto r = this->m().receive_until(buf, Deadline::now());
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_FALSE(r->has_value());
}

TYPED_TEST(MessageFacility, AReceiveWithADeadlineOnNothingTimesOutAsTheEmptyOutcome) {
    auto buf = this->buffer();
    const auto start = std::chrono::steady_clock::now();
    auto r = this->m().receive_until(buf, Deadline::after(50ms));
    const auto waited = std::chrono::steady_clock::now() - start;
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_FALSE(r->has_value());
    EXPECT_GE(waited, 50ms) << "never early";
}

TYPED_TEST(MessageFacility, OrderIsKept) {
    constexpr int kCount = 8;  // within every facility's queue limit (POSIX mq: 10)
    for (int i = 0; i < kCount; ++i) {
        ASSERT_TRUE(this->m().send(
            conformance::pattern(static_cast<std::size_t>(i + 1), static_cast<std::uint8_t>(i))));
    }
    for (int i = 0; i < kCount; ++i) {
        auto got = this->receive_one();
        ASSERT_TRUE(got);
        EXPECT_EQ(
            *got,
            conformance::pattern(static_cast<std::size_t>(i + 1), static_cast<std::uint8_t>(i)))
            << "message " << i;
    }
}

TYPED_TEST(MessageFacility, OrderIsKeptFromASenderInAnotherProcess) {
    constexpr int kCount = 200;  // more than any queue holds: the sender waits for the receiver
    auto child = test::ForkedChild::spawn([&] {
        for (int i = 0; i < kCount; ++i) {
            auto sent = this->m().send_in_child(conformance::pattern(
                static_cast<std::size_t>(i % 50 + 1), static_cast<std::uint8_t>(i)));
            if (!sent) {
                test::child_fail("send " + std::to_string(i) + ": " + sent.error().message());
            }
        }
        return 0;
    });
    for (int i = 0; i < kCount; ++i) {
        auto got = this->receive_one(Deadline::after(20s));
        ASSERT_TRUE(got) << "message " << i;
        ASSERT_EQ(*got,
                  conformance::pattern(static_cast<std::size_t>(i % 50 + 1),
                                       static_cast<std::uint8_t>(i)))
            << "message " << i;
    }
    EXPECT_CHILD_OK(child.wait_for(20s));
}

}  // namespace
}  // namespace ipckit
