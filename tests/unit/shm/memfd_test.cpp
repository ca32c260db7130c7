// SPDX-License-Identifier: MIT
#include "ipckit/shm/memfd.hpp"

#include "ipc_registry.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>

#include <gtest/gtest.h>

namespace ipckit {
namespace {

TEST(Memfd, CreateMapAndSize) {
    auto m = Memfd::create("frames", 3 * 4096);
    ASSERT_TRUE(m) << m.error().message();
    EXPECT_EQ(m->size().value(), 3U * 4096);
    EXPECT_TRUE(::fcntl(m->native_handle(), F_GETFD) & FD_CLOEXEC);
    auto r = m->map().value();
    std::memcpy(r.data(), "memfd", 5);
    auto ro = m->map_read_only().value();
    EXPECT_EQ(std::memcmp(ro.data(), "memfd", 5), 0);
    EXPECT_EQ(m->seals().value(), Seals::None);
    EXPECT_FALSE(Memfd::create("zero", 0));
}

TEST(Memfd, ShrinkAndGrowSealsFreezeTheSize) {
    auto m = Memfd::create("sealed", 8192).value();
    ASSERT_TRUE(m.add_seals(Seals::Shrink | Seals::Grow));
    EXPECT_TRUE(has_seals(m.seals().value(), Seals::Shrink | Seals::Grow));
    auto shrink = m.resize(4096);
    ASSERT_FALSE(shrink);
    EXPECT_EQ(shrink.error(), std::errc::operation_not_permitted);
    auto grow = m.resize(16384);
    ASSERT_FALSE(grow);
    EXPECT_EQ(grow.error(), std::errc::operation_not_permitted);
    EXPECT_EQ(::ftruncate(m.native_handle(), 0), -1);  // a raw peer cannot shrink it either
    EXPECT_EQ(m.size().value(), 8192U);
}

TEST(Memfd, WriteSealNeedsNoWritableMappingAndFreezesContents) {
    auto m = Memfd::create("frozen", 4096).value();
    {
        auto rw = m.map().value();
        std::memcpy(rw.data(), "final", 5);
        auto busy = m.add_seals(Seals::Write);
        ASSERT_FALSE(busy);
        EXPECT_EQ(busy.error(), std::errc::device_or_resource_busy);
        EXPECT_NE(busy.error().message().find("writable shared mapping"), std::string::npos);
    }
    ASSERT_TRUE(m.add_seals(Seals::Write | Seals::Seal));
    auto rw = m.map();
    ASSERT_FALSE(rw);
    EXPECT_EQ(rw.error(), std::errc::operation_not_permitted);
    auto ro = m.map_read_only();
    ASSERT_TRUE(ro) << ro.error().message();
    EXPECT_EQ(std::memcmp(ro->data(), "final", 5), 0);
    EXPECT_EQ(::write(m.native_handle(), "x", 1), -1);
    auto more = m.add_seals(Seals::Grow);
    ASSERT_FALSE(more);
    EXPECT_NE(more.error().message().find("F_SEAL_SEAL"), std::string::npos);
}

TEST(Memfd, ReceivedFdMustCarryTheRequiredSeals) {
    auto m = Memfd::create("peer", 4096).value();
    const Seals need = Seals::Shrink | Seals::Grow;
    auto unsealed = Memfd::from_received(UniqueFd(::dup(m.native_handle())), need, 1 << 20);
    ASSERT_FALSE(unsealed);
    EXPECT_EQ(unsealed.error(), std::errc::operation_not_permitted);
    EXPECT_NE(unsealed.error().message().find(
                  "required seals F_SEAL_SHRINK|F_SEAL_GROW, the fd has none"),
              std::string::npos)
        << unsealed.error().message();

    ASSERT_TRUE(m.add_seals(need));
    auto ok = Memfd::from_received(UniqueFd(::dup(m.native_handle())), need, 1 << 20);
    ASSERT_TRUE(ok) << ok.error().message();
    EXPECT_EQ(ok->size().value(), 4096U);

    auto too_big = Memfd::from_received(UniqueFd(::dup(m.native_handle())), need, 1024);
    ASSERT_FALSE(too_big);
    EXPECT_EQ(too_big.error(), std::errc::invalid_argument);
}

TEST(Memfd, ReceivedNonMemfdIsRefused) {
    int p[2];
    ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
    UniqueFd w(p[1]);
    auto pipe_fd = Memfd::from_received(UniqueFd(p[0]), Seals::None, 1 << 20);
    ASSERT_FALSE(pipe_fd);
    EXPECT_NE(pipe_fd.error().message().find("not a memfd"), std::string::npos)
        << pipe_fd.error().message();
    const auto path = test::unique_path("plain");
    UniqueFd file(::open(path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0600));
    ASSERT_TRUE(file.valid());
    EXPECT_FALSE(Memfd::from_received(std::move(file), Seals::None, 1 << 20));
}

}  // namespace
}  // namespace ipckit
