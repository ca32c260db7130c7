// SPDX-License-Identifier: MIT
#include "ipckit/shm/mapped_file.hpp"

#include "ipc_registry.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include <gtest/gtest.h>

namespace ipckit {
namespace {

std::string file_contents(const std::string& path, std::size_t n) {
    std::string s(n, '\0');
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    EXPECT_GE(fd, 0);
    EXPECT_EQ(::pread(fd, s.data(), n, 0), static_cast<ssize_t>(n));
    ::close(fd);
    return s;
}

TEST(MappedFile, SharedMappingWritesThroughToTheFile) {
    const auto path = test::unique_path("mapped");
    auto f = MappedFile::create(path, 8192);
    ASSERT_TRUE(f) << f.error().message();
    auto r = f->map().value();
    std::memcpy(r.data(), "shared", 6);
    ASSERT_TRUE(r.sync());
    EXPECT_EQ(file_contents(path, 6), "shared");
}

TEST(MappedFile, PrivateMappingIsCopyOnWrite) {
    const auto path = test::unique_path("mapped");
    {
        auto f = MappedFile::create(path, 4096).value();
        std::memcpy(f.map().value().data(), "orig", 4);
    }
    auto ro = MappedFile::open(path, Access::ReadOnly).value();
    auto priv = ro.map(Sharing::Private);
    ASSERT_TRUE(priv) << priv.error().message();
    std::memcpy(priv->data(), "mine", 4);
    EXPECT_EQ(file_contents(path, 4), "orig");
    EXPECT_EQ(std::memcmp(priv->data(), "mine", 4), 0);
    auto shared_rw = ro.map(Sharing::Shared);  // needs a writable fd
    ASSERT_FALSE(shared_rw);
    EXPECT_EQ(shared_rw.error(), std::errc::permission_denied);
}

TEST(MappedFile, RangeWithAlignedOffset) {
    const auto path = test::unique_path("mapped");
    const std::size_t page = Mapping::page_size();
    auto f = MappedFile::create(path, 4 * page).value();
    {
        auto all = f.map().value();
        all.data()[2 * page] = std::byte{42};
    }
    auto part = f.map_read_only(2 * page, page);
    ASSERT_TRUE(part) << part.error().message();
    EXPECT_EQ(part->size(), page);
    EXPECT_EQ(part->data()[0], std::byte{42});
}

TEST(MappedFile, MisalignedOffsetIsRefused) {
    const auto path = test::unique_path("mapped");
    auto f = MappedFile::create(path, 8192).value();
    auto r = f.map_read_only(1000, 100);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), std::errc::invalid_argument);
    EXPECT_NE(r.error().message().find("offset 1000 is not a multiple of the page size"),
              std::string::npos)
        << r.error().message();
}

TEST(MappedFile, MappingPastTheEndIsRefused) {
    const auto path = test::unique_path("mapped");
    const std::size_t page = Mapping::page_size();
    auto f = MappedFile::create(path, 100).value();  // smaller than a page
    auto past = f.map_read_only(0, 2 * page);
    ASSERT_FALSE(past);
    EXPECT_NE(past.error().message().find("ends past the end of the object (size 100)"),
              std::string::npos)
        << past.error().message();
    auto offset_past = f.map_read_only(page);
    ASSERT_FALSE(offset_past);
    EXPECT_NE(offset_past.error().message().find("past the end"), std::string::npos);
    auto whole = f.map_read_only();
    ASSERT_TRUE(whole);
    EXPECT_EQ(whole->size(), 100U);
}

TEST(MappedFile, EmptyFileAndSizeZero) {
    const auto path = test::unique_path("empty");
    EXPECT_FALSE(MappedFile::create(path, 0));
    const int fd = ::open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
    ASSERT_GE(fd, 0);
    ::close(fd);
    auto f = MappedFile::open(path).value();
    auto r = f.map();
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message().find("empty"), std::string::npos);
}

TEST(MappedFile, NonRegularFilesAreRefused) {
    const auto fifo = test::unique_path("fifo");
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    auto r = MappedFile::open(fifo, Access::ReadOnly);  // O_NONBLOCK: never hangs on the FIFO
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message().find("not a regular file"), std::string::npos);
    auto missing = MappedFile::open(test::unique_path("missing"));
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error(), std::errc::no_such_file_or_directory);
}

TEST(MappedFile, ExistingFileIsNotRecreated) {
    const auto path = test::unique_path("mapped");
    auto f = MappedFile::create(path, 4096).value();
    auto again = MappedFile::create(path, 4096);
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error(), std::errc::file_exists);
}

TEST(MappedFile, ResizeAndRemovedDetection) {
    const auto path = test::unique_path("mapped");
    auto f = MappedFile::create(path, 4096).value();
    ASSERT_TRUE(f.resize(3 * 4096));
    EXPECT_EQ(f.size().value(), 3U * 4096);
    EXPECT_FALSE(f.removed().value());
    ASSERT_EQ(::unlink(path.c_str()), 0);
    EXPECT_TRUE(f.removed().value());
}

}  // namespace
}  // namespace ipckit
