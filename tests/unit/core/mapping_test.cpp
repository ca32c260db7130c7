// SPDX-License-Identifier: MIT
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "ipc_registry.hpp"
#include "ipckit/core/mapping.hpp"
#include "ipckit/core/open_mode.hpp"
#include "ipckit/core/unique_fd.hpp"

namespace ipckit {
namespace {

TEST(Mapping, AnonymousSharedIsZeroedAndWritable) {
    auto m = Mapping::map_anonymous(8192);
    ASSERT_TRUE(m) << m.error().message();
    EXPECT_EQ(m->size(), 8192U);
    for (std::byte b : m->bytes()) {
        ASSERT_EQ(b, std::byte{0});
    }
    m->bytes()[100] = std::byte{7};
    EXPECT_EQ(m->data()[100], std::byte{7});
}

TEST(Mapping, MoveTransfersTheRegionAndResetUnmaps) {
    auto m = Mapping::map_anonymous(4096);
    ASSERT_TRUE(m);
    void* addr = m->data();
    Mapping moved = std::move(*m);
    EXPECT_FALSE(m->valid());  // NOLINT(bugprone-use-after-move)
    EXPECT_EQ(moved.data(), addr);
    moved.reset();
    EXPECT_FALSE(moved.valid());
    // The pages are gone: mincore reports ENOMEM for an unmapped range.
    unsigned char vec = 0;
    EXPECT_EQ(::mincore(addr, 4096, &vec), -1);
    EXPECT_EQ(errno, ENOMEM);
}

TEST(Mapping, MisalignedOffsetIsRefusedWithTheReason) {
    const std::string path = test::unique_path("map");
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    ASSERT_TRUE(fd.valid());
    ASSERT_EQ(::ftruncate(fd.get(), 16384), 0);
    auto m = Mapping::map(fd.get(), 4096, 100, Protection::ReadOnly, Sharing::Shared, path);
    ASSERT_FALSE(m);
    EXPECT_EQ(m.error().code(), std::errc::invalid_argument);
    EXPECT_NE(m.error().message().find("not a multiple of the page size"), std::string::npos);
    auto z = Mapping::map(fd.get(), 0, 0, Protection::ReadOnly, Sharing::Shared, path);
    EXPECT_FALSE(z);
}

TEST(Mapping, FileMappingSharesWritesWithTheFile) {
    const std::string path = test::unique_path("map");
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    ASSERT_EQ(::ftruncate(fd.get(), 4096), 0);
    auto m = Mapping::map(fd.get(), 4096, 0, Protection::ReadWrite, Sharing::Shared, path);
    ASSERT_TRUE(m);
    m->bytes()[0] = std::byte{'Z'};
    char c = 0;
    ASSERT_EQ(::pread(fd.get(), &c, 1, 0), 1);
    EXPECT_EQ(c, 'Z');
}

TEST(Mapping, BadDescriptorNamesTheObject) {
    auto m = Mapping::map(-1, 4096, 0, Protection::ReadOnly, Sharing::Shared, "nothing");
    ASSERT_FALSE(m);
    EXPECT_EQ(m.error().message(), "mmap nothing: Bad file descriptor");
}

TEST(MappingDeathTest, WritableBytesOfAReadOnlyMappingAbort) {
    EXPECT_DEATH(
        {
            UniqueFd fd(::open("/dev/zero", O_RDONLY | O_CLOEXEC));
            auto m = Mapping::map(fd.get(), 4096, 0, Protection::ReadOnly, Sharing::Private, "/dev/zero");
            (void)m->bytes();
        },
        "read-only");
}

TEST(OpenMode, FlagsMatchTheCreationPolicy) {
    EXPECT_EQ(open_flags(OpenMode::OpenExisting), 0);
    EXPECT_EQ(open_flags(OpenMode::CreateExclusive), O_CREAT | O_EXCL);
    EXPECT_EQ(open_flags(OpenMode::OpenOrCreate), O_CREAT);
    EXPECT_EQ(Permissions().bits(), 0600U);
    EXPECT_EQ(Permissions(0100644).bits(), 0644U);
}

}  // namespace
}  // namespace ipckit
