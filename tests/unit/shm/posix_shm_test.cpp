// SPDX-License-Identifier: MIT
#include "ipckit/shm/posix_shm.hpp"

#include "ipc_registry.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include <gtest/gtest.h>

namespace ipckit {
namespace {

PosixName fresh_name() {
    return PosixName::make(test::unique_shm_name()).value();
}

bool exists_in_dev_shm(const PosixName& n) {
    struct stat st {};
    return ::stat(("/dev/shm/" + std::string(n.without_slash())).c_str(), &st) == 0;
}

TEST(PosixShm, CreateSizesAndReservesTheObject) {
    auto name = fresh_name();
    auto shm = PosixShm::create(name, 10000);
    ASSERT_TRUE(shm) << shm.error().message();
    EXPECT_EQ(shm->size().value(), 10000U);
    EXPECT_TRUE(shm->owns_name());
    struct stat st {};
    ASSERT_EQ(::fstat(shm->native_handle(), &st), 0);
    EXPECT_GE(static_cast<std::size_t>(st.st_blocks) * 512, 10000U);  // blocks really allocated
    EXPECT_EQ(st.st_mode & 0777, 0600U);
    EXPECT_TRUE(::fcntl(shm->native_handle(), F_GETFD) & FD_CLOEXEC);
}

TEST(PosixShm, WritesThroughOneHandleAreSeenThroughAnother) {
    auto name = fresh_name();
    auto shm = PosixShm::create(name, 4096).value();
    auto rw = shm.map().value();
    std::memcpy(rw.data(), "hello", 6);
    auto peer = PosixShm::open(name, Access::ReadOnly).value();
    EXPECT_FALSE(peer.owns_name());
    ReadOnlyRegion ro = peer.map_read_only().value();
    EXPECT_STREQ(reinterpret_cast<const char*>(ro.data()), "hello");
    const char* typed = ro.as<char>().value();
    EXPECT_EQ(typed[0], 'h');
}

TEST(PosixShm, CreatorUnlinksOnDestructionUnlessKept) {
    auto name = fresh_name();
    {
        auto shm = PosixShm::create(name, 4096).value();
        EXPECT_TRUE(exists_in_dev_shm(name));
    }
    EXPECT_FALSE(exists_in_dev_shm(name));
    {
        auto shm = PosixShm::create(name, 4096).value();
        shm.keep_name();
    }
    EXPECT_TRUE(exists_in_dev_shm(name));
    { auto opener = PosixShm::open(name).value(); }  // open() never unlinks
    EXPECT_TRUE(exists_in_dev_shm(name));
    EXPECT_TRUE(PosixShm::unlink(name));
    EXPECT_FALSE(exists_in_dev_shm(name));
}

TEST(PosixShm, InvalidNamesAreRefusedBeforeAnySystemCall) {
    for (const char* bad : {"noslash", "/a/b", "/", "", "/.", "/.."}) {
        auto n = PosixName::make(bad);
        EXPECT_FALSE(n) << bad;
    }
    auto too_long = PosixName::make("/" + std::string(300, 'x'));
    ASSERT_FALSE(too_long);
    EXPECT_EQ(too_long.error(), std::errc::filename_too_long);
}

TEST(PosixShm, SizeZeroIsInvalid) {
    auto name = fresh_name();
    auto r = PosixShm::create(name, 0);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), std::errc::invalid_argument);
    EXPECT_NE(r.error().message().find("size is 0"), std::string::npos);
    EXPECT_FALSE(exists_in_dev_shm(name));
    EXPECT_FALSE(PosixShm::open_or_create(name, 0));
    auto shm = PosixShm::create(name, 4096).value();
    EXPECT_FALSE(shm.resize(0));
}

TEST(PosixShm, CreateIsExclusiveAndOpenNeedsTheObject) {
    auto name = fresh_name();
    auto missing = PosixShm::open(name);
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error(), std::errc::no_such_file_or_directory);
    EXPECT_EQ(missing.error().message(), "shm_open " + name.str() + ": No such file or directory");
    auto shm = PosixShm::create(name, 4096).value();
    auto again = PosixShm::create(name, 4096);
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error(), std::errc::file_exists);
}

TEST(PosixShm, OpenOrCreateWithAnotherSizeSaysWhich) {
    auto name = fresh_name();
    auto first = PosixShm::open_or_create(name, 4096);
    ASSERT_TRUE(first) << first.error().message();
    EXPECT_TRUE(first->owns_name());
    auto same = PosixShm::open_or_create(name, 4096);
    ASSERT_TRUE(same) << same.error().message();
    EXPECT_FALSE(same->owns_name());
    auto other = PosixShm::open_or_create(name, 8192);
    ASSERT_FALSE(other);
    EXPECT_EQ(other.error(), std::errc::invalid_argument);
    EXPECT_NE(other.error().message().find("segment " + name.str() +
                                           " exists with size 4096, requested 8192"),
              std::string::npos)
        << other.error().message();
}

TEST(PosixShm, ResizeGrowsAndShrinks) {
    auto name = fresh_name();
    auto shm = PosixShm::create(name, 4096).value();
    ASSERT_TRUE(shm.resize(3 * 4096));
    EXPECT_EQ(shm.size().value(), 3U * 4096);
    auto r = shm.map().value();
    EXPECT_EQ(r.size(), 3U * 4096);
    r.reset();
    ASSERT_TRUE(shm.resize(4096));
    EXPECT_EQ(shm.size().value(), 4096U);
}

TEST(PosixShm, MappingRangesAreChecked) {
    auto name = fresh_name();
    const std::size_t page = Mapping::page_size();
    auto shm = PosixShm::create(name, 4 * page).value();
    auto tail = shm.map(Sharing::Shared, 2 * page, page);
    ASSERT_TRUE(tail) << tail.error().message();
    EXPECT_EQ(tail->size(), page);
    auto rest = shm.map_read_only(page);
    ASSERT_TRUE(rest);
    EXPECT_EQ(rest->size(), 3 * page);

    auto misaligned = shm.map(Sharing::Shared, 100, page);
    ASSERT_FALSE(misaligned);
    EXPECT_NE(misaligned.error().message().find("not a multiple of the page size"),
              std::string::npos);

    auto past = shm.map(Sharing::Shared, 2 * page, 3 * page);
    ASSERT_FALSE(past);
    EXPECT_NE(past.error().message().find("past the end"), std::string::npos)
        << past.error().message();
    EXPECT_FALSE(shm.map_read_only(4 * page));
}

TEST(PosixShm, WritableMappingOfAReadOnlyHandleIsPermissionDenied) {
    auto name = fresh_name();
    auto shm = PosixShm::create(name, 4096).value();
    auto ro = PosixShm::open(name, Access::ReadOnly).value();
    auto rw = ro.map();
    ASSERT_FALSE(rw);
    EXPECT_EQ(rw.error(), std::errc::permission_denied);
    EXPECT_TRUE(ro.map(Sharing::Private));  // copy-on-write needs only read access
}

TEST(PosixShm, PermissionsPassThroughTheUmask) {
    auto name = fresh_name();
    const mode_t old = ::umask(022);
    auto shm = PosixShm::create(name, 4096, Permissions(0666));
    ::umask(old);
    ASSERT_TRUE(shm);
    struct stat st {};
    ASSERT_EQ(::fstat(shm->native_handle(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0644U);  // F17
}

TEST(PosixShm, RemovedUnderMeIsDetected) {
    auto name = fresh_name();
    auto shm = PosixShm::create(name, 4096).value();
    auto region = shm.map().value();
    EXPECT_FALSE(shm.removed().value());
    ASSERT_TRUE(PosixShm::unlink(name));
    EXPECT_TRUE(shm.removed().value());  // F15: st_nlink == 0
    region.data()[0] = std::byte{1};     // the memory itself is still there
    // A new object under the same name is a different object.
    auto fresh = PosixShm::create(name, 4096).value();
    auto fr = fresh.map_read_only().value();
    EXPECT_EQ(fr.data()[0], std::byte{0});
}

TEST(PosixShm, UnlinkMemberDropsOwnership) {
    auto name = fresh_name();
    auto shm = PosixShm::create(name, 4096).value();
    ASSERT_TRUE(shm.unlink());
    EXPECT_FALSE(shm.owns_name());
    EXPECT_FALSE(exists_in_dev_shm(name));
    auto twice = PosixShm::unlink(name);
    ASSERT_FALSE(twice);
    EXPECT_EQ(twice.error(), std::errc::no_such_file_or_directory);
}

TEST(PosixShm, SymlinkPlantedUnderTheNameIsRefused) {
    auto name = fresh_name();
    const std::string path = "/dev/shm/" + std::string(name.without_slash());
    ASSERT_EQ(::symlink("/etc/hostname", path.c_str()), 0);
    auto r = PosixShm::open(name, Access::ReadOnly);
    ::unlink(path.c_str());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), std::errc::too_many_symbolic_link_levels);  // F16
}

}  // namespace
}  // namespace ipckit
