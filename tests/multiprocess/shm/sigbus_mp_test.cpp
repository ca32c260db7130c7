// SPDX-License-Identifier: MIT
// SIGBUS safety on a full tmpfs (F13): space is reserved at creation, so a full file system is
// ENOSPC from create() and never a SIGBUS on first touch. Runs on a 64 KiB tmpfs mounted in this
// run's private directory (root only; skipped otherwise) and unmounted afterwards.
#include "forked_child.hpp"
#include "ipc_registry.hpp"
#include "ipckit/shm/mapped_file.hpp"
#include "ipckit/shm/memfd.hpp"
#include "ipckit/shm/posix_shm.hpp"
#include "shm_test_util.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <optional>
#include <sched.h>

#include <gtest/gtest.h>

namespace ipckit {
namespace {

using namespace std::chrono_literals;

constexpr std::size_t kTmpfsSize = 64 * 1024;

/// A tiny tmpfs at a fresh path under the run directory; unmounted and removed on destruction.
class SmallTmpfs {
public:
    static std::optional<SmallTmpfs> mount(std::string* why) {
        if (::geteuid() != 0) {
            *why = "needs root to mount a small tmpfs";
            return std::nullopt;
        }
        std::string dir = test::unique_path("tmpfs");
        if (::mkdir(dir.c_str(), 0700) != 0) {
            *why = "mkdir " + dir + ": " + std::strerror(errno);
            return std::nullopt;
        }
        const std::string opts = "size=" + std::to_string(kTmpfsSize) + ",mode=0700";
        if (::mount("tmpfs", dir.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, opts.c_str()) != 0) {
            *why = "mount tmpfs on " + dir + ": " + std::strerror(errno) + " (no CAP_SYS_ADMIN?)";
            ::rmdir(dir.c_str());
            return std::nullopt;
        }
        return SmallTmpfs(std::move(dir));
    }
    SmallTmpfs(SmallTmpfs&& o) noexcept : dir_(std::exchange(o.dir_, {})) {}
    SmallTmpfs& operator=(SmallTmpfs&&) = delete;
    ~SmallTmpfs() {
        if (!dir_.empty()) {
            ::umount2(dir_.c_str(), MNT_DETACH);
            ::rmdir(dir_.c_str());
        }
    }
    [[nodiscard]] std::string file(const char* name) const { return dir_ + "/" + name; }

private:
    explicit SmallTmpfs(std::string dir) : dir_(std::move(dir)) {}
    std::string dir_;
};

#define MOUNT_SMALL_TMPFS_OR_SKIP(var)        \
    std::string var##_why;                    \
    auto var = SmallTmpfs::mount(&var##_why); \
    if (!var) {                               \
        GTEST_SKIP() << var##_why;            \
    }

TEST(SigbusSafety, FullTmpfsIsEnospcAtCreateNotSigbusLater) {
    MOUNT_SMALL_TMPFS_OR_SKIP(fs);
    auto big = MappedFile::create(fs->file("big"), 1 << 20);  // 1 MiB on a 64 KiB tmpfs
    ASSERT_FALSE(big);
    EXPECT_EQ(big.error(), std::errc::no_space_on_device);
    EXPECT_NE(big.error().message().find("posix_fallocate"), std::string::npos)
        << big.error().message();
    struct stat st {};
    EXPECT_NE(::stat(fs->file("big").c_str(), &st), 0) << "the failed create left its file";

    auto fits = MappedFile::create(fs->file("fits"), 32 * 1024);
    ASSERT_TRUE(fits) << fits.error().message();
    auto region = fits->map().value();
    std::memset(region.data(), 0xab, region.size());  // every page is backed: no SIGBUS
    EXPECT_TRUE(region.populate());
    auto rest = MappedFile::create(fs->file("rest"), 48 * 1024);  // only 32 KiB left
    ASSERT_FALSE(rest);
    EXPECT_EQ(rest.error(), std::errc::no_space_on_device);
    auto grow = fits->resize(128 * 1024);
    ASSERT_FALSE(grow);
    EXPECT_EQ(grow.error(), std::errc::no_space_on_device);
    EXPECT_EQ(fits->size().value(), 32U * 1024);  // a failed grow leaves the size alone
}

TEST(SigbusSafety, UnreservedSparseFileFaultsButPopulateReportsIt) {
    // F13: what ipckit avoids. A plain ftruncate on a full tmpfs succeeds; touching the pages
    // raises SIGBUS. populate() finds the problem up front and returns an error instead.
    MOUNT_SMALL_TMPFS_OR_SKIP(fs);
    const auto path = fs->file("sparse");
    {
        UniqueFd fd(::open(path.c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600));
        ASSERT_TRUE(fd.valid());
        ASSERT_EQ(::ftruncate(fd.get(), 1 << 20), 0);  // succeeds although it cannot be backed
    }
    auto f = MappedFile::open(path).value();
    auto region = f.map().value();
    auto populate = region.populate();
    ASSERT_FALSE(populate);
    EXPECT_EQ(populate.error(), std::errc::bad_address);
    EXPECT_NE(populate.error().message().find("would raise SIGBUS"), std::string::npos)
        << populate.error().message();
    auto toucher = test::ForkedChild::spawn([&] {
        shm_test::default_fault_signals();
        std::memset(region.data(), 1, region.size());
        return 0;
    });
    const auto res = toucher.wait_for(10s);
    EXPECT_EQ(res.signal, SIGBUS) << res.describe();
}

TEST(SigbusSafety, PosixShmOnAFullDevShmIsEnospcAtCreate) {
    // The same for shm_open: a child in its own mount namespace mounts a 64 KiB tmpfs over
    // /dev/shm (invisible to everyone else, gone when it exits).
    if (::geteuid() != 0) {
        GTEST_SKIP() << "needs root for a private mount namespace";
    }
    auto child = test::ForkedChild::spawn([] {
        if (::unshare(CLONE_NEWNS) != 0 ||
            ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
            ::mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,mode=1777") !=
                0) {
            return 77;  // cannot: reported as a skip
        }
        auto name = PosixName::make("/ipckit-test-sigbus-full").value();
        auto big = PosixShm::create(name, 1 << 20);
        CHILD_CHECK(!big);
        CHILD_CHECK(big.error() == std::errc::no_space_on_device);
        CHILD_CHECK(!PosixShm::open(name));  // the failed create removed its name
        auto small = PosixShm::create(name, 16 * 1024);
        CHILD_CHECK(small);
        auto r = small->map();
        CHILD_CHECK(r);
        std::memset(r->data(), 1, r->size());
        CHILD_CHECK(r->populate());
        return 0;
    });
    const auto res = child.wait_for(10s);
    if (res.exited && res.exit_code == 77) {
        GTEST_SKIP() << "unshare(CLONE_NEWNS) or mounting a tmpfs on /dev/shm is not allowed here";
    }
    EXPECT_CHILD_OK(res);
}

TEST(SigbusSafety, MemfdReservesItsSpaceToo) {
    // memfds live on the kernel's internal tmpfs (limited by memory, not a mount we can shrink);
    // the reservation is visible as allocated blocks.
    auto m = Memfd::create("reserved", 64 * 1024).value();
    struct stat st {};
    ASSERT_EQ(::fstat(m.native_handle(), &st), 0);
    EXPECT_GE(static_cast<std::size_t>(st.st_blocks) * 512, 64U * 1024);
}

}  // namespace
}  // namespace ipckit
