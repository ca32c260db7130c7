// SPDX-License-Identifier: MIT
// Fifo in one process: creation policy, refusing non-FIFOs and symlinks, ENXIO as "no reader".
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include <gtest/gtest.h>

#include "ipc_registry.hpp"
#include "ipckit/stream/fifo.hpp"

namespace ipckit {
namespace {

bool exists(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0;
}

TEST(Fifo, CreateMakesA0600FifoAndUnlinksItOnDestruction) {
    const std::string path = test::unique_path("fifo");
    {
        const mode_t old = ::umask(0);
        auto fifo = Fifo::create(path);
        ::umask(old);
        ASSERT_TRUE(fifo) << fifo.error().message();
        struct stat st {};
        ASSERT_EQ(::lstat(path.c_str(), &st), 0);
        EXPECT_TRUE(S_ISFIFO(st.st_mode));
        EXPECT_EQ(st.st_mode & 0777, 0600U);
        EXPECT_TRUE(fifo->owns_path());
    }
    EXPECT_FALSE(exists(path));
}

TEST(Fifo, CreateIsExclusive) {
    const std::string path = test::unique_path("fifo");
    auto a = Fifo::create(path).value();
    auto b = Fifo::create(path);
    ASSERT_FALSE(b);
    EXPECT_EQ(b.error().code(), std::errc::file_exists);
}

TEST(Fifo, OpenDoesNotUnlink) {
    const std::string path = test::unique_path("fifo");
    auto owner = Fifo::create(path).value();
    { auto user = Fifo::open(path).value(); EXPECT_FALSE(user.owns_path()); }
    EXPECT_TRUE(exists(path));
}

TEST(Fifo, OpenOrCreateReusesAFifo) {
    const std::string path = test::unique_path("fifo");
    auto first = Fifo::open_or_create(path).value();
    EXPECT_TRUE(first.owns_path());
    auto second = Fifo::open_or_create(path).value();
    EXPECT_FALSE(second.owns_path());
}

TEST(Fifo, RegularFileAtThePathIsRefusedAndLeftAlone) {
    const std::string path = test::unique_path("regular");
    { std::ofstream(path) << "precious"; }
    for (int which = 0; which < 3; ++which) {
        auto r = which == 0 ? Fifo::create(path) : which == 1 ? Fifo::open(path) : Fifo::open_or_create(path);
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().code(), std::errc::file_exists);
        EXPECT_NE(r.error().detail().find("regular file, not a FIFO"), std::string::npos)
            << r.error().message();
    }
    auto u = Fifo::unlink(path);
    ASSERT_FALSE(u);
    std::string content;
    std::ifstream(path) >> content;
    EXPECT_EQ(content, "precious");
    ::unlink(path.c_str());
}

TEST(Fifo, SymlinkAtThePathIsNeverFollowedEvenToARealFifo) {
    const std::string target = test::unique_path("target");
    const std::string link = test::unique_path("link");
    auto real = Fifo::create(target).value();
    ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0);
    for (int which = 0; which < 3; ++which) {
        auto r = which == 0 ? Fifo::create(link) : which == 1 ? Fifo::open(link) : Fifo::open_or_create(link);
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().code(), std::errc::too_many_symbolic_link_levels) << r.error().message();
    }
    ::unlink(link.c_str());
}

TEST(Fifo, EndOpenRefusesASymlinkSwappedInAfterOpen) {
    const std::string path = test::unique_path("swapped");
    const std::string target = test::unique_path("target");
    auto real = Fifo::create(target).value();
    auto handle = Fifo::create(path).value();
    ASSERT_EQ(::unlink(path.c_str()), 0);
    ASSERT_EQ(::symlink(target.c_str(), path.c_str()), 0);
    auto r = handle.open_reader(/*nonblocking_io=*/true);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), std::errc::too_many_symbolic_link_levels);
    (void)handle.release();
    ::unlink(path.c_str());
}

TEST(Fifo, EndOpenRefusesARegularFileSwappedIn) {
    const std::string path = test::unique_path("swapped");
    auto handle = Fifo::create(path).value();
    ASSERT_EQ(::unlink(path.c_str()), 0);
    { std::ofstream(path) << "x"; }
    auto r = handle.open_writer();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), std::errc::file_exists);
    (void)handle.release();
    ::unlink(path.c_str());
}

TEST(Fifo, NonblockingWriterOpenWithoutReaderIsNoReaderYet) {
    const std::string path = test::unique_path("fifo");
    auto fifo = Fifo::create(path).value();
    auto w = fifo.try_open_writer();
    ASSERT_TRUE(w) << w.error().message();
    EXPECT_FALSE(w->has_value());  // ENXIO (F20): an ordinary outcome, not an error
    auto reader = fifo.open_reader(/*nonblocking_io=*/true).value();
    auto w2 = fifo.try_open_writer();
    ASSERT_TRUE(w2);
    ASSERT_TRUE(w2->has_value());
    EXPECT_FALSE(::fcntl((*w2)->native_handle(), F_GETFL) & O_NONBLOCK);  // blocking I/O asked
    EXPECT_TRUE(::fcntl((*w2)->native_handle(), F_GETFD) & FD_CLOEXEC);
    ASSERT_TRUE((*w2)->write_all("via fifo"));
    (*w2)->close();
    auto text = reader.read_to_end(Deadline::after(std::chrono::seconds(5)));
    ASSERT_TRUE(text) << text.error().message();
    EXPECT_EQ(*text, "via fifo");
}

TEST(Fifo, OpenWriterUntilTimesOutWithoutReader) {
    auto fifo = Fifo::create(test::unique_path("fifo")).value();
    auto w = fifo.open_writer_until(Deadline::after(std::chrono::milliseconds(30)));
    ASSERT_TRUE(w);
    EXPECT_FALSE(w->has_value());
}

TEST(Fifo, ReadWriteOpenNeverBlocks) {
    auto fifo = Fifo::create(test::unique_path("fifo")).value();
    auto rw = fifo.open_read_write();
    ASSERT_TRUE(rw) << rw.error().message();
    std::byte b[4];
    auto n = rw->try_read(b);
    ASSERT_TRUE(n);
    EXPECT_FALSE(n->has_value());  // we are our own writer: no end of file
}

TEST(Fifo, MissingPathIsNoSuchFile) {
    auto r = Fifo::open(test::unique_path("absent"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), std::errc::no_such_file_or_directory);
}

}  // namespace
}  // namespace ipckit

namespace ipckit {
namespace {

TEST(Fifo, NonblockingReaderWaitsForFirstDataWithADeadline) {
    auto fifo = Fifo::create(test::unique_path("fifo")).value();
    auto reader = fifo.open_reader(/*nonblocking_io=*/true).value();
    std::byte b[4];
    auto none = reader.read_for(b, std::chrono::milliseconds(20));
    ASSERT_TRUE(none) << none.error().message();
    EXPECT_FALSE(none->has_value());  // timed out: not a spurious end of file
    auto w = fifo.try_open_writer().value();
    ASSERT_TRUE(w.has_value());
    ASSERT_TRUE(w->write_all("data"));
    auto n = reader.read_for(b, std::chrono::seconds(5));
    ASSERT_TRUE(n);
    ASSERT_TRUE(n->has_value());
    EXPECT_EQ(**n, 4U);
}

}  // namespace
}  // namespace ipckit
