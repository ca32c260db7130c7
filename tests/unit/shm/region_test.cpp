// SPDX-License-Identifier: MIT
#include "ipckit/shm/region.hpp"

#include <atomic>
#include <cstdint>
#include <cstring>
#include <string>

#include <gtest/gtest.h>

namespace ipckit {
namespace {

struct Header {
    std::uint32_t magic;
    std::uint32_t version;
    std::uint64_t length;
};

// Compile-time guarantees: a read-only region hands out const bytes and const objects only, and
// typed access refuses types that are not trivially copyable.
template <class R>
concept WritableBytes = requires(R r) {
    r.bytes()[0] = std::byte{1};
};
template <class R, class T>
concept ViewableAs = requires(R r) {
    r.template as<T>();
};
template <class R>
concept CanConstruct = requires(R r) {
    r.template construct<std::uint32_t>(0, 1u);
};
static_assert(WritableBytes<Region>);
static_assert(!WritableBytes<ReadOnlyRegion>);
static_assert(
    std::is_same_v<decltype(std::declval<ReadOnlyRegion&>().as<Header>()), Result<const Header*>>);
static_assert(std::is_same_v<decltype(std::declval<Region&>().as<Header>()), Result<Header*>>);
static_assert(ViewableAs<Region, Header>);
static_assert(!ViewableAs<Region, std::string>);  // not trivially copyable
static_assert(CanConstruct<Region>);
static_assert(!CanConstruct<ReadOnlyRegion>);
static_assert(!std::is_copy_constructible_v<Region>);
static_assert(std::is_nothrow_move_constructible_v<Region>);

TEST(Region, AnonymousIsZeroFilledAndWritable) {
    auto r = Region::anonymous(8192);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->size(), 8192U);
    for (auto b : r->bytes()) {
        ASSERT_EQ(b, std::byte{0});
    }
    r->bytes()[100] = std::byte{7};
    EXPECT_EQ(r->data()[100], std::byte{7});
}

TEST(Region, SizeZeroIsRefused) {
    auto r = Region::anonymous(0);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), std::errc::invalid_argument);
    EXPECT_FALSE(Region::dev_zero(0));
}

TEST(Region, TypedAccessChecksSize) {
    auto r = Region::anonymous(4096).value();
    ASSERT_TRUE(r.as<Header>(0));
    ASSERT_TRUE(r.as<Header>(4096 - sizeof(Header)));
    auto past = r.as<Header>(4096 - 8);
    ASSERT_FALSE(past);
    EXPECT_EQ(past.error(), std::errc::invalid_argument);
    EXPECT_NE(past.error().message().find("do not fit in 4096 bytes"), std::string::npos)
        << past.error().message();
    EXPECT_FALSE(r.as<Header>(1U << 30));
    EXPECT_FALSE(r.as<std::uint8_t>(4096));
    // count * size must not overflow into a small number
    EXPECT_FALSE(r.as_array<std::uint64_t>(0, SIZE_MAX / 4));
    auto arr = r.as_array<std::uint64_t>(0, 512);
    ASSERT_TRUE(arr);
    EXPECT_EQ(arr->size(), 512U);
    EXPECT_FALSE(r.as_array<std::uint64_t>(8, 512));
}

TEST(Region, TypedAccessChecksAlignment) {
    auto r = Region::anonymous(4096).value();
    auto mis = r.as<Header>(4);
    ASSERT_FALSE(mis);
    EXPECT_NE(mis.error().message().find("not aligned to 8"), std::string::npos)
        << mis.error().message();
    EXPECT_TRUE(r.as<std::uint32_t>(4));
    EXPECT_TRUE(r.as<std::uint8_t>(3));
}

TEST(Region, TypedWritesLandInTheBytes) {
    auto r = Region::anonymous(4096).value();
    Header* h = r.as<Header>(64).value();
    h->magic = 0x1234abcd;
    std::uint32_t raw = 0;
    std::memcpy(&raw, r.data() + 64, sizeof raw);
    EXPECT_EQ(raw, 0x1234abcdU);
}

TEST(Region, ConstructsAnAtomicInPlace) {
    auto r = Region::anonymous(4096).value();
    auto* a = r.construct<std::atomic<std::uint32_t>>(128, 41U).value();
    EXPECT_EQ(a->fetch_add(1) + 1, 42U);
    EXPECT_FALSE((r.construct<std::atomic<std::uint32_t>>(2, 0U)));
    EXPECT_FALSE((r.construct<std::atomic<std::uint32_t>>(4096, 0U)));
}

TEST(Region, DevZeroIsAZeroedWritableMapping) {
    auto r = Region::dev_zero(4096);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->data()[0], std::byte{0});
    r->data()[4095] = std::byte{1};
    EXPECT_EQ(r->data()[4095], std::byte{1});
}

TEST(Region, SyncAdviseLockUnlockPopulate) {
    auto r = Region::anonymous(4 * 4096).value();
    EXPECT_TRUE(r.sync());
    EXPECT_TRUE(r.sync(SyncMode::Async));
    EXPECT_TRUE(r.advise(Advice::Sequential));
    EXPECT_TRUE(r.advise(Advice::WillNeed));
    EXPECT_TRUE(r.populate());
    auto locked = r.lock();
    if (locked) {
        EXPECT_TRUE(r.unlock());
    } else {
        // An unprivileged user may have RLIMIT_MEMLOCK 0: the error must say so.
        EXPECT_NE(locked.error().message().find("RLIMIT_MEMLOCK"), std::string::npos);
    }
    r.data()[0] = std::byte{9};
    EXPECT_TRUE(r.advise(Advice::DontNeed));
}

TEST(Region, HugePagesFallBackCleanly) {
    auto r = Region::anonymous(4096, Sharing::Shared, PageSize::PreferHuge);
    ASSERT_TRUE(r) << r.error().message();
    if (r->huge_pages()) {
        EXPECT_EQ(r->size() % (std::size_t{2} << 20), 0U);
    } else {
        EXPECT_EQ(r->size(), 4096U);  // normal pages, the size asked for
    }
    r->data()[0] = std::byte{1};
    EXPECT_EQ(r->data()[0], std::byte{1});
}

TEST(Region, MovedFromIsEmptyAndUnmappedOnce) {
    auto a = Region::anonymous(4096).value();
    Region b = std::move(a);
    EXPECT_FALSE(a.valid());  // NOLINT(bugprone-use-after-move): the documented moved-from state
    EXPECT_TRUE(b.valid());
    EXPECT_FALSE(a.as<std::uint8_t>());
    b.reset();
    EXPECT_FALSE(b.valid());
}

}  // namespace
}  // namespace ipckit
