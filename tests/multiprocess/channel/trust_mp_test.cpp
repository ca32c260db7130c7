// SPDX-License-Identifier: MIT
// Issue 16 (trust): the channel defects a hostile or careless peer could exploit, each as the test
// that failed before its fix. Sizes read from the file are validated with overflow-safe
// arithmetic; nothing is allocated from them; a forged sequence number cannot silence a lane;
// overwrite mode counts every loss; truncation and holes give errors, not SIGBUS; and the
// shipped binary ignores the test-only fault-point variable.
#include "../../unit/channel/channel_test_util.hpp"
#include "../cli/cli_support.hpp"
#include "channel/layout.hpp"
#include "eventually.hpp"
#include "forked_child.hpp"
#include "ipckit/core/mapping.hpp"
#include "ipckit/endpoint/endpoint.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace ipckit {
namespace {

using namespace std::chrono_literals;
using detail::Header;
using detail::PubRecord;
using detail::RecordHeader;
using test::as_bytes;
using test::as_string;
using test::chan_name;
using test::ForkedChild;
using test::small_config;

/// A read/write mapping of the whole channel file, as a hostile same-uid peer would make it.
class RawFile {
public:
    explicit RawFile(const std::string& name)
        : fd_(::open(test::chan_path(name).c_str(), O_RDWR | O_CLOEXEC)) {
        size_ = static_cast<std::size_t>(::lseek(fd_, 0, SEEK_END));
        base_ = static_cast<std::byte*>(
            ::mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0));
    }
    ~RawFile() {
        ::munmap(base_, size_);
        ::close(fd_);
    }
    RawFile(const RawFile&) = delete;
    RawFile& operator=(const RawFile&) = delete;
    [[nodiscard]] Header& header() const { return *reinterpret_cast<Header*>(base_); }  // NOLINT
    [[nodiscard]] RecordHeader& record(std::uint32_t lane, std::uint64_t pos) const {
        const std::uint64_t lane_bytes = header().lane_bytes.load();
        return *reinterpret_cast<RecordHeader*>(  // NOLINT
            base_ + header().lanes_off.load() + lane * lane_bytes + (pos & (lane_bytes - 1)));
    }
    [[nodiscard]] int fd() const { return fd_; }

private:
    int fd_;
    std::size_t size_ = 0;
    std::byte* base_ = nullptr;
};

/// A page of shared atomics for parent/child hand-offs.
struct SharedFlags {
    Mapping map = Mapping::map_anonymous(4096).value();
    std::atomic<std::uint32_t>& at(int i) {
        return *reinterpret_cast<std::atomic<std::uint32_t>*>(map.data() + 64 * i);  // NOLINT
    }
    /// Waits (10 s at most) until flag i reaches v, naming `what` on a timeout.
    ::testing::AssertionResult wait_for(int i, std::uint32_t v, std::string_view what) {
        return test::eventually(10s, what, [&] { return at(i).load() >= v; });
    }
};

/// Resident set size of this process, in bytes (VmRSS of /proc/self/status).
std::size_t resident_bytes() {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("VmRSS:", 0) == 0) {
            return static_cast<std::size_t>(std::stoull(line.substr(6))) * 1024;
        }
    }
    return 0;
}

// ---- defect 1: one header field must not corrupt the heap

TEST(ChannelTrust, CreateRefusesAMaxMessageWhoseRecordSizeOverflows) {
    for (std::size_t bad : {~std::size_t{0},
                            ~std::size_t{0} - 15,
                            std::size_t{1} << 63,
                            (std::size_t{1} << 32) + 16}) {
        auto c = small_config();
        c.lane_bytes = std::size_t{1} << 34;  // large enough for 2 x 2^32 on paper
        c.max_message_size = bad;
        auto r = Channel::create(chan_name(), c);
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error(), std::errc::invalid_argument) << bad;
        EXPECT_NE(r.error().message().find("max_message_size"), std::string::npos)
            << r.error().message();
    }
}

TEST(ChannelTrust, AForgedMaxMessageInTheHeaderIsRefusedAtOpen) {
    const auto name = chan_name();
    ASSERT_TRUE(Channel::create(name, small_config()));
    {
        RawFile raw(name);
        raw.header().max_message_size.store(~std::uint64_t{0});
    }
    ChannelOptions o;
    o.init_wait = 0ms;
    for (int role = 0; role < 3; ++role) {
        Result<void> r = role == 0   ? Publisher::open(name, o).transform([](auto&&) {})
                         : role == 1 ? Subscriber::open(name, o).transform([](auto&&) {})
                                     : Channel::inspect(name, o).transform([](auto&&) {});
        ASSERT_FALSE(r) << role;
        EXPECT_EQ(r.error(), std::errc::bad_message) << role;
        EXPECT_NE(r.error().message().find("max_message_size"), std::string::npos)
            << r.error().message();
    }
    // The whole path the issue took: a send of 1.2 MB through the endpoint fails cleanly.
    auto uri = Uri::parse("chan:" + name).value();
    auto tx = Endpoint::open(uri, EndpointRole::Sender);
    ASSERT_FALSE(tx);
    EXPECT_EQ(tx.error(), std::errc::bad_message);
    auto rx = Endpoint::open(uri, EndpointRole::Receiver);
    ASSERT_FALSE(rx);
    EXPECT_EQ(rx.error(), std::errc::bad_message);
}

// ---- defect 2: nothing is allocated from a size the file gives

TEST(ChannelTrust, AReceivingEndpointDoesNotAllocateMaxMessageUpFront) {
    const auto name = chan_name();
    auto c = small_config();
    c.max_publishers = 1;
    c.max_subscribers = 1;
    c.lane_bytes = std::size_t{64} << 20;
    c.max_message_size = c.lane_bytes / 2 - 16;  // 32 MiB messages allowed
    auto created = Channel::create(name, c);
    ASSERT_TRUE(created) << created.error().message();
    auto uri = Uri::parse("chan:" + name).value();
    const std::size_t before = resident_bytes();
    auto rx = Endpoint::open(uri, EndpointRole::Receiver);
    ASSERT_TRUE(rx) << rx.error().message();
    auto tx = Endpoint::open(uri, EndpointRole::Sender).value();
    ASSERT_TRUE(tx.send(as_bytes("small")));
    auto m = rx->receive(Deadline::after(5s));
    ASSERT_TRUE(m && *m);
    EXPECT_EQ(as_string((*m)->data), "small");
    const std::size_t after = resident_bytes();
    EXPECT_LT(after, before + (std::size_t{8} << 20))
        << "receiving 5 bytes grew the process by " << (after - before) << " bytes";
    // A big message still arrives whole.
    std::vector<std::byte> big(std::size_t{3} << 20, std::byte{0x5a});
    ASSERT_TRUE(tx.send(big));
    auto b = rx->receive(Deadline::after(5s));
    ASSERT_TRUE(b && *b);
    EXPECT_EQ((*b)->data, big);
}

// ---- defect 3: a forged sequence number must not silence a lane

TEST(ChannelTrust, AForgedForwardSequenceNumberSkipsOneRecordAndTheLaneGoesOn) {
    for (std::uint32_t jump : {std::uint32_t{1} << 30, std::uint32_t{1}, std::uint32_t{1000}}) {
        SCOPED_TRACE("jump " + std::to_string(jump));
        const auto name = chan_name();
        auto sub = Subscriber::create(name, small_config()).value();
        auto pub = Publisher::open(name).value();
        for (int i = 0; i < 3; ++i) {
            ASSERT_TRUE(pub.send(as_bytes("msg" + std::to_string(i))));
            auto s = sub.try_receive().value();
            ASSERT_TRUE(s);
        }
        ASSERT_TRUE(pub.send(as_bytes("msg3")));
        {
            RawFile raw(name);
            auto& seq = raw.record(pub.lane(), 3 * 32).seq;  // records of 16 + 4 bytes take 32
            seq.store(seq.load() + jump);
        }
        for (int i = 4; i < 10; ++i) {
            ASSERT_TRUE(pub.send(as_bytes("msg" + std::to_string(i))));
        }
        std::vector<std::string> got;
        for (int i = 0; i < 3000; ++i) {
            auto s = sub.try_receive();
            ASSERT_TRUE(s) << s.error().message();
            if (*s) {
                got.push_back(as_string((*s)->bytes()));
            }
        }
        EXPECT_EQ(got, (std::vector<std::string>{"msg4", "msg5", "msg6", "msg7", "msg8", "msg9"}));
        EXPECT_EQ(sub.corrupt_count(), 1U);
        EXPECT_EQ(sub.lost_count(), 1U) << "the forged record is counted as lost";
        EXPECT_EQ(sub.received_count() + sub.lost_count(), pub.published_count());
    }
}

// ---- defect 4: overwrite mode counts every loss and resumes at the oldest intact record

/// One subscriber lapped by a burst: received + lost == published exactly, the newest message is
/// received, and (records dividing the lane) every record still intact is received.
void check_lapped_subscriber(std::size_t len, std::uint64_t burst, std::uint64_t before) {
    SCOPED_TRACE("len " + std::to_string(len) + " burst " + std::to_string(burst) + " before " +
                 std::to_string(before));
    const auto name = chan_name();
    auto c = small_config(ChannelPolicy::Overwrite);
    auto sub = Subscriber::create(name, c).value();
    auto pub = Publisher::open(name).value();
    std::uint64_t seq = 0;
    std::array<std::byte, 1024> buf{};
    for (; seq < before; ++seq) {  // some messages received before the pause
        auto l = pub.try_loan(len).value();
        ASSERT_TRUE(l);
        test::fill_message(l->bytes(), seq);
        ASSERT_TRUE(pub.publish(std::move(*l)));
        auto r = sub.try_receive(buf).value();
        ASSERT_TRUE(r);
    }
    for (std::uint64_t i = 0; i < burst; ++i, ++seq) {  // the subscriber is paused
        auto l = pub.try_loan(len).value();
        ASSERT_TRUE(l);
        test::fill_message(l->bytes(), seq);
        ASSERT_TRUE(pub.publish(std::move(*l)));
    }
    std::uint64_t received = 0;
    std::uint64_t lost = 0;
    std::uint64_t last = ~std::uint64_t{0};
    for (int i = 0; i < 4000; ++i) {
        auto r = sub.try_receive(buf);
        ASSERT_TRUE(r) << r.error().message();
        if (!*r) {
            continue;
        }
        std::uint64_t s = 0;
        ASSERT_TRUE(test::check_message(std::span(buf).first((*r)->size), &s));
        ASSERT_EQ(s, before + received + lost + (*r)->lost_before) << "order and loss count";
        lost += (*r)->lost_before;
        ++received;
        last = s;
    }
    EXPECT_EQ(received + lost, burst) << "every message received or counted lost";
    EXPECT_EQ(sub.received_count() + sub.lost_count(), pub.published_count());
    EXPECT_EQ(sub.corrupt_count(), 0U);
    if (burst > 0) {
        EXPECT_EQ(last, seq - 1) << "the newest message is received";
    }
    const std::uint64_t record = detail::record_bytes(len);
    if (c.lane_bytes % record == 0) {
        EXPECT_EQ(received, std::min<std::uint64_t>(burst, c.lane_bytes / record))
            << "every record still intact is received (resume at the oldest)";
    }
}

TEST(ChannelTrust, OverwriteModeCountsEveryLossAtBurstsAroundTheRingSize) {
    // 4 KiB lane; records of 32, 64, 128 bytes (dividing the lane) and 48, 112 (with pads).
    for (std::size_t len :
         {std::size_t{16}, std::size_t{48}, std::size_t{100}, std::size_t{32}, std::size_t{96}}) {
        const std::uint64_t cap = 4096 / detail::record_bytes(len);
        for (std::uint64_t burst : {std::uint64_t{1},
                                    cap - 1,
                                    cap,
                                    cap + 1,
                                    2 * cap - 1,
                                    2 * cap,
                                    2 * cap + 1,
                                    3 * cap + 7,
                                    std::uint64_t{300}}) {
            for (std::uint64_t before : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{5}}) {
                check_lapped_subscriber(len, burst, before);
                if (HasFatalFailure()) {
                    return;
                }
            }
        }
    }
}

TEST(ChannelTrust, OverwriteModeAccountsExactlyAcrossProcessesWithPauses) {
    const auto name = chan_name();
    auto c = small_config(ChannelPolicy::Overwrite);
    ASSERT_TRUE(Channel::create(name, c));
    auto sub = Subscriber::open(name).value();
    constexpr std::uint64_t kMessages = 200000;
    SharedFlags done;
    auto publisher = ForkedChild::spawn([&] {
        auto pub = Publisher::open(name);
        CHILD_CHECK(pub);
        for (std::uint64_t i = 0; i < kMessages; ++i) {
            auto l = pub->try_loan(8 + i % 61);
            CHILD_CHECK(l && *l);
            test::fill_message((*l)->bytes(), i);
            CHILD_CHECK(pub->publish(std::move(**l)));
        }
        done.at(0).store(1);
        return 0;
    });
    std::mt19937 rng(7);
    std::array<std::byte, 1024> buf{};
    std::uint64_t received = 0;
    std::uint64_t lost = 0;
    std::uint64_t last = 0;
    const auto until = std::chrono::steady_clock::now() + 20s;
    int empty_after_done = 0;
    while (std::chrono::steady_clock::now() < until) {
        if (rng() % 64 == 0) {
            std::this_thread::sleep_for(std::chrono::microseconds(rng() % 200));  // lapped
        }
        auto r = sub.receive_until(buf, Deadline::after(50ms));
        ASSERT_TRUE(r) << r.error().message();
        if (!*r) {
            if (done.at(0).load() != 0 && ++empty_after_done == 2) {
                break;  // the publisher is done and everything was drained
            }
            continue;
        }
        std::uint64_t s = 0;
        ASSERT_TRUE(test::check_message(std::span(buf).first((*r)->size), &s));
        ASSERT_EQ(s, received + lost + (*r)->lost_before) << "no uncounted gap, order kept";
        lost += (*r)->lost_before;
        ++received;
        last = s;
    }
    EXPECT_CHILD_OK(publisher.wait_for(10s));
    EXPECT_EQ(received + lost, kMessages);
    EXPECT_EQ(last, kMessages - 1) << "the newest message is received";
    EXPECT_EQ(sub.corrupt_count(), 0U);
    std::printf("[ overwrite] %llu received, %llu lost (counted), of %llu\n",
                static_cast<unsigned long long>(received),
                static_cast<unsigned long long>(lost),
                static_cast<unsigned long long>(kMessages));
}

TEST(ChannelTrust, ASubscriberJoiningAtAPadCountsNoFalseLoss) {
    // Found by the chaos soak: a subscriber that joins while the tail sits on a committed pad
    // (a loan that did not fit before the ring's end is out) took the pad's seq (0) as the
    // lane's message number, and its first message showed a false loss, or a "forged" skip.
    for (auto policy : {ChannelPolicy::Block, ChannelPolicy::Overwrite}) {
        const auto name = chan_name();
        ASSERT_TRUE(Channel::create(name, small_config(policy)));
        auto pub = Publisher::open(name).value();
        for (int i = 0; i < 4; ++i) {  // 4 x 1008 bytes: 4032 of the 4096-byte lane
            auto l = pub.try_loan(992).value();
            ASSERT_TRUE(l);
            ASSERT_TRUE(pub.publish(std::move(*l)));
        }
        auto l = pub.try_loan(1000).value();  // does not fit before the end: a pad first
        ASSERT_TRUE(l);
        auto sub = Subscriber::open(name).value();  // joins with the pad at the tail
        std::memcpy(l->data(), "after the pad", 13);
        l->resize(13);
        ASSERT_TRUE(pub.publish(std::move(*l)));
        auto s = sub.try_receive().value();
        ASSERT_TRUE(s) << "policy " << static_cast<int>(policy);
        EXPECT_EQ(as_string(s->bytes()), "after the pad");
        EXPECT_EQ(s->lost_before(), 0U) << "policy " << static_cast<int>(policy);
        EXPECT_EQ(sub.corrupt_count(), 0U) << "policy " << static_cast<int>(policy);
    }
}

// ---- defect 8: truncation and holes give errors, never SIGBUS

TEST(ChannelTrust, TruncatingALiveChannelFileGivesErrorsNotSigbus) {
    for (off_t length : {off_t{0}, off_t{4096}}) {
        SCOPED_TRACE("truncated to " + std::to_string(length));
        const auto name = chan_name();
        ASSERT_TRUE(Channel::create(name, small_config()));
        SharedFlags flags;
        auto subscriber = ForkedChild::spawn([&] {
            auto sub = Subscriber::open(name);
            CHILD_CHECK(sub);
            flags.at(0).fetch_add(1);
            std::array<std::byte, 1024> buf{};
            for (;;) {  // until the truncation makes a call fail
                auto r = sub->receive_until(buf, Deadline::after(10s));
                if (!r) {
                    return 0;
                }
                CHILD_CHECK(*r);
            }
        });
        auto publisher = ForkedChild::spawn([&] {
            auto pub = Publisher::open(name);
            CHILD_CHECK(pub);
            flags.at(0).fetch_add(1);
            for (std::uint64_t i = 0;; ++i) {
                auto l = pub->loan_for(8 + i % 100, 10s);
                if (!l) {
                    return 0;
                }
                CHILD_CHECK(*l);
                test::fill_message((*l)->bytes(), i);
                if (!pub->publish(std::move(**l))) {
                    return 0;
                }
                if (i % 64 == 0) {
                    std::this_thread::sleep_for(100us);
                }
            }
        });
        ASSERT_TRUE(flags.wait_for(0, 2, "the subscriber and the publisher joined"));
        std::this_thread::sleep_for(50ms);
        ASSERT_EQ(::truncate(test::chan_path(name).c_str(), length), 0);
        EXPECT_CHILD_OK(subscriber.wait_for(20s));
        EXPECT_CHILD_OK(publisher.wait_for(20s));
        // A call made after the truncation in a fresh participant fails cleanly too.
        ChannelOptions o;
        o.init_wait = 0ms;
        EXPECT_FALSE(Subscriber::open(name, o));
        ASSERT_TRUE(Channel::remove(name));
    }
}

TEST(ChannelTrust, AChannelWhoseLanesAreHolesIsRefusedAtOpen) {
    const auto name = chan_name();
    auto c = small_config();
    ASSERT_TRUE(Channel::create(name, c));
    {
        RawFile raw(name);
        const auto lanes_off = static_cast<off_t>(raw.header().lanes_off.load());
        const auto lanes_len = static_cast<off_t>(c.lane_bytes * c.max_publishers);
        ASSERT_EQ(
            ::fallocate(raw.fd(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, lanes_off, lanes_len),
            0)
            << std::strerror(errno);
    }
    ChannelOptions o;
    o.init_wait = 0ms;
    auto sub = Subscriber::open(name, o);
    ASSERT_FALSE(sub);
    EXPECT_NE(sub.error().message().find("not allocated"), std::string::npos)
        << sub.error().message();
    EXPECT_FALSE(Publisher::open(name, o));
}

// ---- defect 7: the shipped binary ignores the test-only fault-point variable

TEST(ChannelTrust, TheShippedBinaryIgnoresFaultPointVariables) {
    const auto name = chan_name();
    for (const char* spec : {"chan.create.after_open:kill",
                             "chan.create.before_publish:exit",
                             "chan.publish.after_claim:stop"}) {
        SCOPED_TRACE(spec);
        test::RunOptions o;
        o.env = {std::string("IPCKIT_FAULT_POINT=") + spec};
        o.timeout = 10s;
        test::RunResult r = test::ipckit({"send", "--create", "chan:" + name, "hi"}, o);
        EXPECT_TRUE(r.exited && r.exit_code == 0) << r.describe();
        EXPECT_TRUE(Channel::inspect(name)) << "the channel was created completely";
        ASSERT_TRUE(Channel::remove(name));
    }
}

}  // namespace
}  // namespace ipckit
