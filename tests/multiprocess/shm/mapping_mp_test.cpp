// SPDX-License-Identifier: MIT
#include "forked_child.hpp"
#include "ipc_registry.hpp"
#include "ipckit/shm/mapped_file.hpp"
#include "ipckit/shm/region.hpp"

#include <unistd.h>

#include <atomic>
#include <cstring>

#include <gtest/gtest.h>

namespace ipckit {
namespace {

using namespace std::chrono_literals;

TEST(MappingMp, AnonymousSharedRegionIsSharedAcrossFork) {
    auto r = Region::anonymous(4096).value();
    auto* counter = r.construct<std::atomic<std::uint32_t>>(0, 0U).value();
    std::vector<test::ForkedChild> kids;
    for (int i = 0; i < 4; ++i) {
        kids.push_back(test::ForkedChild::spawn([counter] {
            for (int k = 0; k < 1000; ++k) {
                counter->fetch_add(1);
            }
            return 0;
        }));
    }
    for (auto& k : kids) {
        EXPECT_CHILD_OK(k.wait_for(10s));
    }
    EXPECT_EQ(counter->load(), 4000U);
}

TEST(MappingMp, AnonymousPrivateRegionIsCopyOnWrite) {
    auto r = Region::anonymous(4096, Sharing::Private).value();
    r.data()[0] = std::byte{1};
    auto child = test::ForkedChild::spawn([&] {
        CHILD_CHECK(r.data()[0] == std::byte{1});  // inherited contents
        r.data()[0] = std::byte{2};
        return 0;
    });
    EXPECT_CHILD_OK(child.wait_for(10s));
    EXPECT_EQ(r.data()[0], std::byte{1});
}

TEST(MappingMp, DevZeroMappingIsSharedAcrossFork) {
    auto r = Region::dev_zero(4096).value();
    auto child = test::ForkedChild::spawn([&] {
        std::memcpy(r.data(), "dev zero", 9);
        return 0;
    });
    EXPECT_CHILD_OK(child.wait_for(10s));
    EXPECT_STREQ(reinterpret_cast<const char*>(r.data()), "dev zero");
}

TEST(MappingMp, UnrelatedMappingsOfOneFileShareWrites) {
    const auto path = test::unique_path("shared-file");
    auto f = MappedFile::create(path, 4096).value();
    auto mine = f.map().value();
    auto child = test::ForkedChild::spawn([&] {
        auto other = MappedFile::open(path);  // its own open + mmap, as an unrelated process
        CHILD_CHECK(other);
        auto r = other->map();
        CHILD_CHECK(r);
        std::memcpy(r->data(), "via the file", 13);
        CHILD_CHECK(r->sync());
        auto priv = other->map(Sharing::Private);
        CHILD_CHECK(priv);
        std::memcpy(priv->data(), "private!", 9);  // never reaches the file or the parent
        return 0;
    });
    EXPECT_CHILD_OK(child.wait_for(10s));
    EXPECT_STREQ(reinterpret_cast<const char*>(mine.data()), "via the file");
}

}  // namespace
}  // namespace ipckit
