// SPDX-License-Identifier: MIT
// Single-process channel tests: names, creation and validation, zero-copy and copying paths,
// broadcast, both policies, loans, introspection. Several participants in one process each have
// their own open file description, so they behave like separate processes for liveness.
#include "channel_test_util.hpp"
#include "eventually.hpp"
#include "ipckit/core/mapping.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <random>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace ipckit {
namespace {

using namespace std::chrono_literals;
using test::as_bytes;
using test::as_string;
using test::chan_name;
using test::small_config;

TEST(ChannelName, RejectsTraversalAndJunkBeforeTouchingTheFileSystem) {
    for (std::string bad : {"../../etc/x", "a/b", ".", "..", "", ".hidden", "with space"}) {
        auto r = Channel::validate_name(bad);
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error(), std::errc::invalid_argument) << bad;
    }
    EXPECT_FALSE(Channel::validate_name(std::string("a\0b", 3)));
    EXPECT_FALSE(Channel::validate_name(std::string(1 << 20, 'x')));
    auto ok = Channel::validate_name("chan:prices.v2_x-1");
    ASSERT_TRUE(ok);
    EXPECT_EQ(*ok, "prices.v2_x-1");
    auto p = Publisher::create("chan:../../etc/x", small_config());
    ASSERT_FALSE(p);
    EXPECT_EQ(p.error(), std::errc::invalid_argument);
}

TEST(ChannelCreate, FileIsExclusive0600AndFullySized) {
    const auto name = chan_name();
    auto pub = Publisher::create(name, small_config());
    ASSERT_TRUE(pub) << pub.error().message();
    struct stat st {};
    ASSERT_EQ(::stat(test::chan_path(name).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600U);
    EXPECT_GE(static_cast<std::uint64_t>(st.st_blocks) * 512, static_cast<std::uint64_t>(st.st_size))
        << "posix_fallocate reserved the space";
    auto again = Publisher::create(name, small_config());
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error(), std::errc::file_exists);
}

TEST(ChannelCreate, DefaultDirectoryIsDevShm) {
    const std::string name = test::unique_shm_name("chan").substr(1);
    ChannelConfig c = small_config();
    c.options.dir = "/dev/shm";
    ASSERT_TRUE(Channel::create(name, c));
    struct stat st {};
    EXPECT_EQ(::stat(("/dev/shm/" + name + ".chan").c_str(), &st), 0);
    EXPECT_TRUE(Subscriber::open(name, c.options));
    EXPECT_TRUE(Channel::remove(name, c.options));
}

TEST(ChannelCreate, RejectsImpossibleParameters) {
    auto c = small_config();
    c.max_message_size = 4096;  // needs lane_bytes >= 2 x (4096 + 16)
    auto r = Channel::create(chan_name(), c);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message().find("max_message_size"), std::string::npos) << r.error().message();
    c = small_config();
    c.lane_bytes = 5000;
    EXPECT_FALSE(Channel::create(chan_name(), c));
    c = small_config();
    c.max_subscribers = 0;
    EXPECT_FALSE(Channel::create(chan_name(), c));
}

TEST(ChannelCreate, OpenOrCreateNamesTheDifferingParameter) {
    const auto name = chan_name();
    ASSERT_TRUE(Channel::create(name, small_config()));
    auto c = small_config();
    c.max_message_size = 512;
    auto r = Subscriber::open_or_create(name, c);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message().find("max_message_size=1024, requested 512"), std::string::npos)
        << r.error().message();
    c = small_config(ChannelPolicy::Overwrite);
    r = Subscriber::open_or_create(name, c);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message().find("policy"), std::string::npos) << r.error().message();
    EXPECT_TRUE(Subscriber::open_or_create(name, small_config()));
}

TEST(ChannelCreate, FullFileSystemIsACleanErrorAtCreate) {
    const std::string dir = test::unique_path("tinyfs");
    ASSERT_EQ(::mkdir(dir.c_str(), 0700), 0);
    if (::mount("tmpfs", dir.c_str(), "tmpfs", 0, "size=64k,mode=0700") != 0) {
        ::rmdir(dir.c_str());
        GTEST_SKIP() << "cannot mount a tiny tmpfs (needs root)";
    }
    auto c = small_config();
    c.lane_bytes = 1 << 20;  // 4 MiB of lanes on a 64 KiB file system
    c.options.dir = dir;
    auto r = Publisher::create("big", c);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), std::errc::no_space_on_device) << r.error().message();
    struct stat st {};
    EXPECT_NE(::stat((dir + "/big.chan").c_str(), &st), 0) << "the failed file is removed";
    c.lane_bytes = 4096;
    auto small = Publisher::create("small", c);
    EXPECT_TRUE(small) << small.error().message();
    small = Error();
    ::umount2(dir.c_str(), MNT_DETACH);
    ::rmdir(dir.c_str());
}

TEST(ChannelDir, RefusesRelativeAndWorldWritableDirectories) {
    auto c = small_config();
    c.options.dir = "relative/dir";
    EXPECT_FALSE(Channel::create("x", c));
    const std::string dir = test::unique_path("wdir");
    ASSERT_EQ(::mkdir(dir.c_str(), 0700), 0);
    ASSERT_EQ(::chmod(dir.c_str(), 0777), 0);
    c.options.dir = dir;
    auto r = Channel::create("x", c);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message().find("sticky"), std::string::npos) << r.error().message();
    ASSERT_EQ(::chmod(dir.c_str(), 01777), 0);
    EXPECT_TRUE(Channel::create("x", c));
    EXPECT_TRUE(Channel::remove("x", c.options));
    ::rmdir(dir.c_str());
}

TEST(ChannelOpen, RefusesAGroupWritableFile) {
    const auto name = chan_name();
    ASSERT_TRUE(Channel::create(name, small_config()));
    ASSERT_EQ(::chmod(test::chan_path(name).c_str(), 0666), 0);
    auto r = Subscriber::open(name);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), std::errc::permission_denied);
    ChannelOptions o;
    o.allow_shared_write = true;
    EXPECT_TRUE(Subscriber::open(name, o));
}

TEST(ChannelPubSub, ZeroCopyRoundTripAndCopyingConveniences) {
    const auto name = chan_name();
    auto sub = Subscriber::create(name, small_config()).value();
    auto pub = Publisher::open(name).value();
    auto loan = pub.loan(100).value();
    std::memcpy(loan.data(), "hello", 5);
    loan.resize(5);
    ASSERT_TRUE(pub.publish(std::move(loan)));
    ASSERT_TRUE(pub.send(as_bytes("world!")));
    auto s = sub.try_receive().value();
    ASSERT_TRUE(s);
    EXPECT_EQ(as_string(s->bytes()), "hello");
    EXPECT_EQ(s->lost_before(), 0U);
    std::array<std::byte, 64> buf{};
    auto r = sub.try_receive(buf).value();
    ASSERT_TRUE(r);
    EXPECT_EQ(as_string(std::span(buf).first(r->size)), "world!");
    EXPECT_FALSE(sub.try_receive().value());
    EXPECT_EQ(sub.received_count(), 2U);
}

TEST(ChannelPubSub, AnUnpublishedLoanGivesItsSpaceBack) {
    const auto name = chan_name();
    auto sub = Subscriber::create(name, small_config()).value();
    auto pub = Publisher::open(name).value();
    for (int i = 0; i < 1000; ++i) {  // far more than the ring holds
        auto l = pub.try_loan(1000).value();
        ASSERT_TRUE(l) << i;
    }
    EXPECT_FALSE(sub.try_receive().value());
    ASSERT_TRUE(pub.send(as_bytes("after")));
    auto s = sub.try_receive().value();
    ASSERT_TRUE(s);
    EXPECT_EQ(as_string(s->bytes()), "after");
}

TEST(ChannelPubSub, VariableSizesAcrossTheWholeRangeWithWrapAround) {
    const auto name = chan_name();
    auto sub = Subscriber::create(name, small_config()).value();
    auto pub = Publisher::open(name).value();
    std::mt19937 rng(42);
    std::vector<std::size_t> sizes = {0, 1, 8, 15, 16, 17, 1023, 1024, 1008, 1009};
    for (int i = 0; i < 3000; ++i) {
        sizes.push_back(8 + rng() % (1024 - 8 + 1));
    }
    std::vector<std::byte> buf(1024);
    std::uint64_t seq = 0;
    for (std::size_t sz : sizes) {
        auto l = pub.try_loan(sz).value();
        ASSERT_TRUE(l) << "ring must have room: the subscriber drains each message";
        test::fill_message(l->bytes(), seq);
        ASSERT_TRUE(pub.publish(std::move(*l)));
        auto s = sub.try_receive().value();
        ASSERT_TRUE(s);
        ASSERT_EQ(s->size(), sz);
        if (sz >= 8) {
            std::uint64_t got = 0;
            ASSERT_TRUE(test::check_message(s->bytes(), &got)) << "size " << sz;
            ASSERT_EQ(got, seq);
        }
        ++seq;
    }
    auto too_big = pub.try_loan(1025);
    ASSERT_FALSE(too_big);
    EXPECT_EQ(too_big.error(), std::errc::message_size);
}

TEST(ChannelPubSub, BroadcastToManySubscribersPerPublisherOrderAndLateJoinerAtHead) {
    const auto name = chan_name();
    auto c = small_config();
    c.lane_bytes = 65536;
    ASSERT_TRUE(Channel::create(name, c));
    auto p1 = Publisher::open(name).value();
    auto p2 = Publisher::open(name).value();
    std::vector<Subscriber> subs;
    for (int i = 0; i < 3; ++i) {
        subs.push_back(Subscriber::open(name).value());
    }
    ASSERT_TRUE(p1.send(as_bytes("before-late")));
    auto late = Subscriber::open(name).value();
    for (std::uint64_t i = 0; i < 50; ++i) {
        ASSERT_TRUE(p1.send(std::as_bytes(std::span(&i, 1))));
        const std::uint64_t j = 1000 + i;
        ASSERT_TRUE(p2.send(std::as_bytes(std::span(&j, 1))));
    }
    for (auto* s : {&subs[0], &subs[1], &subs[2], &late}) {
        std::uint64_t next1 = 0;
        std::uint64_t next2 = 1000;
        int count = 0;
        bool first = s != &late;
        while (auto m = s->try_receive().value()) {
            if (first && m->size() == 11) {
                first = false;
                continue;
            }
            auto v = m->copy_as<std::uint64_t>();
            ASSERT_TRUE(v);
            if (m->publisher() == p1.lane()) {
                ASSERT_EQ(*v, next1++);
            } else {
                ASSERT_EQ(*v, next2++);
            }
            ++count;
        }
        EXPECT_EQ(count, 100);
    }
}

TEST(ChannelBlock, FullRingMakesTryLoanEmptyUntilTheSubscriberReleases) {
    const auto name = chan_name();
    auto sub = Subscriber::create(name, small_config()).value();
    auto pub = Publisher::open(name).value();
    int sent = 0;
    while (true) {
        auto l = pub.try_loan(500).value();
        if (!l) {
            break;
        }
        ASSERT_TRUE(pub.publish(std::move(*l)));
        ++sent;
        ASSERT_LT(sent, 100);
    }
    EXPECT_GE(sent, 6);  // 4096 / 528
    EXPECT_FALSE(pub.loan_for(500, 10ms).value());
    {
        auto s = sub.try_receive().value();
        ASSERT_TRUE(s);
        EXPECT_FALSE(pub.try_loan(500).value()) << "a held sample keeps its space";
    }
    EXPECT_TRUE(pub.try_loan(500).value()) << "released: space is back";
}

TEST(ChannelOverwrite, LappedSubscriberIsToldExactlyHowManyItLost) {
    const auto name = chan_name();
    auto sub = Subscriber::create(name, small_config(ChannelPolicy::Overwrite)).value();
    auto pub = Publisher::open(name).value();
    std::uint64_t published = 0;
    std::uint64_t received = 0;
    std::uint64_t lost = 0;
    std::array<std::byte, 1024> buf{};
    std::mt19937 rng(7);
    for (int round = 0; round < 200; ++round) {
        const int burst = static_cast<int>(rng() % 40);
        for (int i = 0; i < burst; ++i) {
            auto l = pub.try_loan(8 + rng() % 300).value();
            ASSERT_TRUE(l) << "overwrite never blocks";
            test::fill_message(l->bytes(), published++);
            ASSERT_TRUE(pub.publish(std::move(*l)));
        }
        const int drain = static_cast<int>(rng() % 40);
        for (int i = 0; i < drain; ++i) {
            auto r = sub.try_receive(buf).value();
            if (!r) {
                break;
            }
            std::uint64_t seq = 0;
            ASSERT_TRUE(test::check_message(std::span(buf).first(r->size), &seq));
            ASSERT_EQ(seq, received + lost + r->lost_before) << "no duplicate, no reorder";
            lost += r->lost_before;
            ++received;
        }
    }
    ASSERT_TRUE(pub.send(std::as_bytes(std::span(&published, 1))));  // a marker to count the tail
    ++published;
    while (auto r = sub.try_receive(buf).value()) {
        lost += r->lost_before;
        ++received;
    }
    EXPECT_GT(lost, 0U);
    EXPECT_EQ(received + lost, published);
    EXPECT_EQ(sub.lost_count(), lost);
}

TEST(ChannelLoans, QuotaPerSubscriberIsEnforced) {
    const auto name = chan_name();
    auto sub = Subscriber::create(name, small_config()).value();
    auto pub = Publisher::open(name).value();
    for (int i = 0; i < 6; ++i) {
        ASSERT_TRUE(pub.send(as_bytes("x")));
    }
    std::vector<Sample> held;
    for (int i = 0; i < 4; ++i) {
        held.push_back(std::move(*sub.try_receive().value()));
    }
    auto fifth = sub.try_receive();
    ASSERT_FALSE(fifth);
    EXPECT_NE(fifth.error().message().find("4/4"), std::string::npos) << fifth.error().message();
    sub.release(std::move(held.front()));
    held.erase(held.begin());
    EXPECT_TRUE(sub.try_receive().value());
}

TEST(ChannelTyped, TrivialStructsRoundTrip) {
    struct Tick {
        std::uint64_t seq;
        double price;
    };
    const auto name = chan_name();
    auto sub = Subscriber::create(name, small_config()).value();
    TypedSubscriber<Tick> tsub(std::move(sub));
    auto tpub = TypedPublisher<Tick>::open(name).value();
    ASSERT_TRUE(tpub.send(Tick{1, 2.5}));
    auto l = tpub.loan().value();
    *l.as<Tick>() = Tick{2, 3.5};
    ASSERT_TRUE(tpub.publish(std::move(l)));
    auto a = tsub.try_receive().value();
    auto b = tsub.try_receive().value();
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a->seq, 1U);
    EXPECT_EQ(b->price, 3.5);
}

TEST(ChannelInspect, ListsParticipantsDepthAndLost) {
    const auto name = chan_name();
    auto sub = Subscriber::create(name, small_config()).value();
    auto pub = Publisher::open(name).value();
    ASSERT_TRUE(pub.send(as_bytes("abc")));
    auto info = Channel::inspect(name);
    ASSERT_TRUE(info) << info.error().message();
    ASSERT_EQ(info->publishers.size(), 1U);
    ASSERT_EQ(info->subscribers.size(), 1U);
    EXPECT_TRUE(info->publishers[0].alive);
    EXPECT_EQ(info->publishers[0].pid, ::getpid());
    EXPECT_EQ(info->publishers[0].messages, 1U);
    EXPECT_EQ(info->subscribers[0].depth, 32U);  // one record of 16 + 3 -> 32 bytes
    EXPECT_EQ(info->lane_bytes, 4096U);
    auto all = Channel::list();
    ASSERT_TRUE(all);
    bool found = false;
    for (auto& c : *all) {
        found = found || c.name == name;
    }
    EXPECT_TRUE(found);
}

TEST(ChannelThreads, OnePublisherTwoSubscribersInThreads) {
    const auto name = chan_name();
    auto c = small_config();
    ASSERT_TRUE(Channel::create(name, c));
    constexpr std::uint64_t kCount = 20000;
    std::vector<std::thread> readers;
    std::atomic<int> ready{0};
    std::atomic<bool> ok{true};
    for (int t = 0; t < 2; ++t) {
        readers.emplace_back([&] {
            auto sub = Subscriber::open(name).value();
            ready.fetch_add(1);
            std::array<std::byte, 1024> buf{};
            for (std::uint64_t i = 0; i < kCount; ++i) {
                auto r = sub.receive_until(buf, Deadline::after(10s));
                std::uint64_t seq = 0;
                if (!r) {
                    std::printf("reader: error %s\n", r.error().message().c_str());
                    ok = false;
                    return;
                }
                if (!*r) {
                    std::printf("reader: timed out at %llu\n", static_cast<unsigned long long>(i));
                    ok = false;
                    return;
                }
                if (!test::check_message(std::span(buf).first((*r)->size), &seq) || seq != i) {
                    std::printf("reader: at %llu got seq %llu size %zu lost %llu corrupt %llu\n",
                                static_cast<unsigned long long>(i),
                                static_cast<unsigned long long>(seq), (*r)->size,
                                static_cast<unsigned long long>((*r)->lost_before),
                                static_cast<unsigned long long>(sub.corrupt_count()));
                    ok = false;
                    return;
                }
            }
        });
    }
    EXPECT_TRUE(
        test::eventually(10s, "both reader threads joined", [&] { return ready.load() >= 2; }));
    auto pub = Publisher::open(name).value();
    for (std::uint64_t i = 0; i < kCount; ++i) {
        auto l = pub.loan_for(8 + i % 200, 10s).value();
        ASSERT_TRUE(l);
        test::fill_message(l->bytes(), i);
        ASSERT_TRUE(pub.publish(std::move(*l)));
    }
    for (auto& t : readers) {
        t.join();
    }
    EXPECT_TRUE(ok);
}

}  // namespace
}  // namespace ipckit
