// SPDX-License-Identifier: MIT
// The channel file is writable by every same-uid process: corrupt headers, indices and records,
// and a hostile writer scribbling while honest peers run, must give errors or skips, never a
// crash, a hang or an out-of-bounds access (run under the asan preset).
#include "../../unit/channel/channel_test_util.hpp"
#include "channel/layout.hpp"
#include "eventually.hpp"
#include "forked_child.hpp"
#include "ipckit/core/mapping.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <random>
#include <thread>

#include <gtest/gtest.h>

namespace ipckit {
namespace {

using namespace std::chrono_literals;
using detail::Header;
using detail::PubRecord;
using test::as_bytes;
using test::chan_name;
using test::ForkedChild;
using test::small_config;

/// A read/write view of the whole channel file, as a hostile peer would map it.
struct Raw {
    explicit Raw(const std::string& name) {
        fd = ::open(test::chan_path(name).c_str(), O_RDWR | O_CLOEXEC);
        size = static_cast<std::size_t>(::lseek(fd, 0, SEEK_END));
        base = static_cast<std::byte*>(
            ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
    }
    ~Raw() {
        ::munmap(base, size);
        ::close(fd);
    }
    Raw(const Raw&) = delete;
    Raw& operator=(const Raw&) = delete;
    Header& header() const { return *reinterpret_cast<Header*>(base); }  // NOLINT
    PubRecord& pub(std::uint32_t i) const {
        return *reinterpret_cast<PubRecord*>(base + detail::kHeaderBytes +  // NOLINT
                                             i * detail::kPubRecordBytes);
    }
    std::byte* lane(std::uint32_t i) const {
        return base + header().lanes_off.load() + i * header().lane_bytes.load();
    }
    int fd = -1;
    std::size_t size = 0;
    std::byte* base = nullptr;
};

struct HeaderField {
    const char* name;
    std::size_t offset;
    std::size_t width;
    std::uint64_t value;
};

TEST(ChannelHostile, CorruptHeaderFieldsAreNamedAtOpen) {
    const auto name = chan_name();
    auto existing = Subscriber::create(name, small_config()).value();
    auto pub = Publisher::open(name).value();
    const HeaderField fields[] = {
        {"magic", offsetof(Header, magic), 8, 0x1234},
        {"layout 3", offsetof(Header, layout_version), 4, 3},
        {"layout hash", offsetof(Header, layout_hash), 4, 77},
        {"lane_bytes", offsetof(Header, lane_bytes), 8, 12345},
        {"lane_bytes", offsetof(Header, lane_bytes), 8, 0},
        {"lane_bytes", offsetof(Header, lane_bytes), 8, std::uint64_t{1} << 40},
        {"max_message_size", offsetof(Header, max_message_size), 8, 0},
        {"max_message_size", offsetof(Header, max_message_size), 8, 1 << 20},
        {"lanes_off", offsetof(Header, lanes_off), 8, 1 << 30},
        {"sub_record_bytes", offsetof(Header, sub_record_bytes), 8, 8},
        {"file_size", offsetof(Header, file_size), 8, 1},
        {"max_subscribers", offsetof(Header, max_subscribers), 4, 0},
        {"policy", offsetof(Header, policy), 4, 9},
        {"max_groups", offsetof(Header, max_groups), 4, 100000},
        {"max_group_members", offsetof(Header, max_group_members), 4, 0},
        {"group_table_off", offsetof(Header, group_table_off), 8, 1 << 30},
        {"group_record_bytes", offsetof(Header, group_record_bytes), 8, 64},
    };
    Raw raw(name);
    for (const auto& f : fields) {
        std::uint64_t saved = 0;
        std::memcpy(&saved, raw.base + f.offset, f.width);
        std::memcpy(raw.base + f.offset, &f.value, f.width);
        ChannelOptions o;
        o.init_wait = 0ms;
        auto r = Subscriber::open(name, o);
        ASSERT_FALSE(r) << f.name;
        EXPECT_NE(r.error().message().find(f.name), std::string::npos)
            << f.name << ": " << r.error().message();
        // The existing subscriber uses its own validated geometry; a changed magic or layout is
        // reported as corrupt, other fields cannot mislead it.
        auto e = existing.try_receive();
        if (f.offset == offsetof(Header, magic) || f.offset == offsetof(Header, layout_version)) {
            ASSERT_FALSE(e) << f.name;
            EXPECT_EQ(e.error(), std::errc::bad_message);
        } else {
            EXPECT_TRUE(e) << f.name;
        }
        std::memcpy(raw.base + f.offset, &saved, f.width);
    }
    EXPECT_TRUE(Subscriber::open(name));
}

TEST(ChannelHostile, LayoutSkewIsReportedWithBothVersions) {
    const auto name = chan_name();
    ASSERT_TRUE(Channel::create(name, small_config()));
    Raw raw(name);
    raw.header().layout_version.store(detail::kLayoutVersion + 1);
    auto r = Publisher::open(name);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), std::errc::protocol_not_supported);
    EXPECT_NE(r.error().message().find("created by ipckit layout 3; this build understands 2"),
              std::string::npos)
        << r.error().message();
}

TEST(ChannelHostile, CorruptRingIndicesAreBoundedAndCounted) {
    const auto name = chan_name();
    auto sub = Subscriber::create(name, small_config()).value();
    auto pub = Publisher::open(name).value();
    ASSERT_TRUE(pub.send(as_bytes("one")));
    ASSERT_TRUE(sub.try_receive().value());
    Raw raw(name);
    auto& tail = raw.pub(pub.lane()).tail;
    const std::uint64_t honest = tail.load();
    for (std::uint64_t bad : {honest - 32, honest + 3 * 4096, ~std::uint64_t{0}, honest + 8}) {
        tail.store(bad);
        for (int i = 0; i < 2100; ++i) {  // the tail is looked at on every 1024th empty poll
            auto r = sub.try_receive();
            ASSERT_TRUE(r) << r.error().message();
            EXPECT_FALSE(*r) << "no data from a corrupt index " << bad;
        }
        tail.store(honest);
    }
    EXPECT_GE(sub.corrupt_count(), 3U);
    ASSERT_TRUE(pub.send(as_bytes("two")));  // the owner's next commit restores the index
    auto s = sub.try_receive().value();
    ASSERT_TRUE(s);
    EXPECT_EQ(test::as_string(s->bytes()), "two");
}

TEST(ChannelHostile, CorruptRecordsAreSkippedCountedAndTheStreamContinues) {
    struct Corruption {
        const char* what;
        std::size_t offset;  // within the record header
        std::size_t width;
        std::uint64_t value;
    };
    const Corruption cases[] = {
        {"len above max", 8, 4, 5000},
        {"len -1", 8, 4, 0xffffffffU},
        {"unknown flag bits", 0, 1, 0x0e},
        {"stamp of another position", 0, 8, 0x100000},
        {"sequence going backwards", 12, 4, 0xfffffff0U},
    };
    for (const auto& c : cases) {
        const auto name = chan_name();
        auto sub = Subscriber::create(name, small_config()).value();
        auto pub = Publisher::open(name).value();
        for (int i = 0; i < 3; ++i) {
            ASSERT_TRUE(pub.send(as_bytes("msg" + std::to_string(i))));
        }
        Raw raw(name);
        // Records of 16 + 4 bytes take 32: the second record starts at 32.
        std::byte* rec = raw.lane(pub.lane()) + 32;
        std::uint64_t start = 0;
        std::memcpy(&start, rec, 8);
        std::uint64_t v = c.value;
        if (c.offset == 0 && c.width == 1) {
            v = (start & 0xff) | c.value;
        }
        std::memcpy(rec + c.offset, &v, c.width);
        auto first = sub.try_receive().value();
        ASSERT_TRUE(first) << c.what;
        EXPECT_EQ(test::as_string(first->bytes()), "msg0");
        first = std::nullopt;
        for (int i = 0; i < 2100; ++i) {  // some show only on a tail check (1024th empty poll)
            auto none = sub.try_receive();
            ASSERT_TRUE(none) << c.what;
            EXPECT_FALSE(*none) << c.what;
        }
        EXPECT_EQ(sub.corrupt_count(), 1U) << c.what;
        ASSERT_TRUE(pub.send(as_bytes("msg3")));
        auto next = sub.try_receive().value();
        ASSERT_TRUE(next) << c.what;
        EXPECT_EQ(test::as_string(next->bytes()), "msg3") << c.what;
        EXPECT_EQ(next->lost_before(), 2U) << c.what << ": skipped messages are counted";
    }
}

TEST(ChannelCounters, PositionsAndSequenceNumbersWrapWithoutLossOrFalseOverrun) {
    for (auto policy : {ChannelPolicy::Block, ChannelPolicy::Overwrite}) {
        const auto name = chan_name();
        ASSERT_TRUE(Channel::create(name, small_config(policy)));
        {
            // Test hook: start lane 0 just below 2^64 and its message numbers below 2^32.
            Raw raw(name);
            const std::uint64_t start = ~std::uint64_t{0} - 4095;  // 16-aligned, 4 KiB before wrap
            raw.pub(0).tail.store(start);
            raw.pub(0).floor.store(start - 4096);
            raw.pub(0).next_seq.store((std::uint64_t{1} << 32) - 100);
        }
        auto sub = Subscriber::open(name).value();
        auto pub = Publisher::open(name).value();
        ASSERT_EQ(pub.lane(), 0U);
        std::array<std::byte, 1024> buf{};
        for (std::uint64_t i = 0; i < 1000; ++i) {
            auto l = pub.try_loan(8 + i % 200).value();
            ASSERT_TRUE(l) << i;
            test::fill_message(l->bytes(), i);
            ASSERT_TRUE(pub.publish(std::move(*l)));
            auto r = sub.try_receive(buf).value();
            ASSERT_TRUE(r) << i;
            std::uint64_t seq = 0;
            ASSERT_TRUE(test::check_message(std::span(buf).first(r->size), &seq));
            ASSERT_EQ(seq, i);
            ASSERT_EQ(r->lost_before, 0U) << "no false overrun at " << i;
        }
        EXPECT_EQ(sub.lost_count(), 0U);
        EXPECT_EQ(sub.corrupt_count(), 0U);
    }
}

TEST(ChannelHostile, HostileWriterScribblingWhilePeersRunNeverCrashesOrHangs) {
    for (auto policy : {ChannelPolicy::Block, ChannelPolicy::Overwrite}) {
        const auto name = chan_name();
        auto c = small_config(policy);
        ASSERT_TRUE(Channel::create(name, c));
        auto sub = Subscriber::open(name).value();
        auto flag_map = Mapping::map_anonymous(4096).value();
        auto* joined = new (flag_map.data()) std::atomic<std::uint32_t>(0);
        auto publisher = ForkedChild::spawn([&] {
            auto pub = Publisher::open(name);
            CHILD_CHECK(pub);
            joined->store(1);
            const auto until = std::chrono::steady_clock::now() + 1500ms;
            std::uint64_t i = 0;
            while (std::chrono::steady_clock::now() < until) {
                auto l = pub->loan_for(16, 5ms);
                if (l && *l) {
                    test::fill_message((*l)->bytes(), i++);
                    (void)pub->publish(std::move(**l));
                }
            }
            return 0;
        });
        ASSERT_TRUE(
            test::eventually(10s, "the publisher joined", [&] { return joined->load() != 0; }));
        auto attacker = ForkedChild::spawn([&] {
            Raw raw(name);
            std::mt19937_64 rng(99);
            const auto until = std::chrono::steady_clock::now() + 1200ms;
            const std::size_t lane0 = raw.header().lanes_off.load();
            while (std::chrono::steady_clock::now() < until) {
                const auto kind = rng() % 4;
                // The magic and version (first 16 bytes) only in the last 300 ms: a changed
                // magic makes every call fail, which would hide the ring scribbling.
                const bool late = std::chrono::steady_clock::now() > until - 300ms;
                if (kind == 0) {  // anywhere in header and tables
                    const std::size_t lo = late ? 0 : 16;
                    raw.base[lo + rng() % (lane0 - lo)] = static_cast<std::byte>(rng());
                } else if (kind == 1) {  // anywhere in the lanes
                    raw.base[lane0 + rng() % (raw.size - lane0)] = static_cast<std::byte>(rng());
                } else {  // double fetch: flip record lengths between valid and invalid
                    const std::size_t off = lane0 + (rng() % 128) * 32 + 8;
                    const std::uint32_t len = (rng() & 1) != 0 ? 16 : 0xffff0000U;
                    std::memcpy(raw.base + off, &len, 4);
                }
            }
            return 0;
        });
        const auto until = std::chrono::steady_clock::now() + 1500ms;
        std::array<std::byte, 1024> buf{};
        std::uint64_t good = 0;
        std::uint64_t errors = 0;
        while (std::chrono::steady_clock::now() < until) {
            auto r = sub.receive_until(buf, Deadline::after(10ms));
            if (!r) {
                if (errors++ == 0) {
                    std::printf("first error: %s\n", r.error().message().c_str());
                }
                continue;
            }
            if (*r) {
                ASSERT_LE((*r)->size, c.max_message_size);
                ++good;
            }
            auto z = sub.try_receive();  // zero-copy path too
            if (z && *z) {
                volatile std::byte sink{};
                for (std::byte b : (*z)->bytes()) {
                    sink = b;  // reads every delivered byte: ASan checks the bounds
                }
                (void)sink;
            }
        }
        EXPECT_CHILD_OK(attacker.wait_for(10s));
        EXPECT_CHILD_OK(publisher.wait_for(10s));
        std::printf("policy %u: %llu delivered, %llu errors, %llu corrupt skipped\n",
                    static_cast<unsigned>(policy),
                    static_cast<unsigned long long>(good),
                    static_cast<unsigned long long>(errors),
                    static_cast<unsigned long long>(sub.corrupt_count()));
        // After removal a fresh channel of the same name works.
        ASSERT_TRUE(Channel::remove(name));
        auto fresh = Publisher::create(name, c);
        ASSERT_TRUE(fresh) << fresh.error().message();
    }
}

}  // namespace
}  // namespace ipckit

namespace ipckit {
namespace {

/// A17, as a seeded mutation run inside the suite (ASan/UBSan catch any out-of-bounds read): a
/// live channel file gets random bytes written at random offsets, biased to the header and the
/// participant tables, then every entry point runs on it. Each call must return (a value or an
/// error) — no crash, no hang, no out-of-bounds access. The seed is in every failure message.
TEST(ChannelFuzz, RandomlyMutatedFilesNeverCrashOrHang) {
    constexpr int kRuns = 200;
    int noticed = 0;  // runs where some call reported an error or counted corruption
    for (int run = 0; run < kRuns; ++run) {
        const std::uint32_t seed = 0x1a17U + static_cast<std::uint32_t>(run);
        SCOPED_TRACE("seed " + std::to_string(seed));
        std::mt19937 rng(seed);
        const auto policy = (seed % 2 == 0) ? ChannelPolicy::Block : ChannelPolicy::Overwrite;
        const auto name = chan_name();
        ASSERT_TRUE(Channel::create(name, small_config(policy)));
        auto sub = Subscriber::open(name).value();
        auto pub = Publisher::open(name).value();
        for (int i = 0; i < 5; ++i) {
            ASSERT_TRUE(pub.send(as_bytes("message " + std::to_string(i))));
        }
        {
            Raw raw(name);
            // The bytes in use: header fields, the publisher and subscriber records in use, the
            // records at the start of lane 0; and sometimes anywhere at all.
            const Header& h = raw.header();
            const std::size_t sub_off = h.sub_table_off.load();
            const std::size_t lanes_off = h.lanes_off.load();
            const std::pair<std::size_t, std::size_t> regions[] = {
                {0, sizeof(Header)},
                {detail::kHeaderBytes, 2 * detail::kPubRecordBytes},
                {sub_off, 2 * h.sub_record_bytes.load()},
                {lanes_off, 256},
                {0, raw.size},
            };
            const int mutations = 1 + static_cast<int>(rng() % 4);
            for (int m = 0; m < mutations; ++m) {
                const auto [from, len] = regions[rng() % std::size(regions)];
                const std::size_t at = from + rng() % len;
                const std::size_t width = std::min<std::size_t>(1U << (rng() % 4), raw.size - at);
                std::uint64_t value =
                    (rng() % 4 == 0) ? ~std::uint64_t{0} : rng() * 0x9e3779b97f4a7c15ULL;
                std::memcpy(raw.base + at, &value, width);
            }
        }
        // Every entry point, with bounded work: nothing below may block.
        bool seen = false;
        for (int i = 0; i < 64; ++i) {
            auto r = sub.try_receive();
            seen = seen || !r;
            if (!r || !*r) {
                continue;
            }
            ASSERT_LE((*r)->size(), sub.max_message_size());
            volatile std::byte sink{};
            for (std::byte b : (*r)->bytes()) {
                sink = b;  // every byte of a sample must be readable (ASan checks the range)
            }
            (void)sink;
        }
        seen = seen || sub.corrupt_count() != 0;
        for (int i = 0; i < 4; ++i) {
            auto l = pub.try_loan(8);
            seen = seen || !l;
            if (l && *l) {
                (void)pub.publish(std::move(**l));
            }
        }
        if (auto late = Subscriber::open(name)) {
            for (int i = 0; i < 16; ++i) {
                (void)late->try_receive();
            }
        } else {
            seen = true;
        }
        if (auto second = Publisher::open(name)) {
            (void)second->try_loan(8);
        }
        if (auto info = Channel::inspect(name)) {
            EXPECT_LE(info->publishers.size(), info->max_publishers);
            EXPECT_LE(info->subscribers.size(), info->max_subscribers);
        }
        (void)Channel::list();
        (void)Channel::cleanup_dead(name);
        (void)Channel::remove(name);
        noticed += seen ? 1 : 0;
    }
    // The mutations must reach the code under test, or this test proves nothing.
    EXPECT_GT(noticed, kRuns / 10) << noticed << " of " << kRuns << " runs noticed a mutation";
    std::printf("[ fuzz     ] %d of %d mutated files were noticed (error or corrupt count)\n",
                noticed,
                kRuns);
}

}  // namespace
}  // namespace ipckit
