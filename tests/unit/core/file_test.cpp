// SPDX-License-Identifier: MIT
// open_file: O_CLOEXEC always, creation with the given permissions, errors that name the path.
#include "ipckit/core/file.hpp"

#include "ipc_registry.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

namespace ipckit {
namespace {

TEST(OpenFile, OpensWithCloexecEvenWhenNotAsked) {
    auto fd = open_file("/dev/null", O_RDONLY);
    ASSERT_TRUE(fd) << fd.error().message();
    EXPECT_NE(::fcntl(fd->get(), F_GETFD) & FD_CLOEXEC, 0);
}

TEST(OpenFile, CreatesWithThePermissionsGiven) {
    const std::string path = test::unique_path("created");
    auto fd = open_file(path, O_RDONLY | O_CREAT | O_EXCL, Permissions(0600));
    ASSERT_TRUE(fd) << fd.error().message();
    struct stat st {};
    ASSERT_EQ(::fstat(fd->get(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600U);
    auto again = open_file(path, O_RDONLY | O_CREAT | O_EXCL);
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code(), std::errc::file_exists);
}

TEST(OpenFile, ErrorNamesTheCallAndThePath) {
    auto fd = open_file("/nonexistent/ipckit-file", O_RDONLY);
    ASSERT_FALSE(fd);
    EXPECT_EQ(fd.error().code(), std::errc::no_such_file_or_directory);
    EXPECT_EQ(fd.error().message(), "open /nonexistent/ipckit-file: No such file or directory");
}

}  // namespace
}  // namespace ipckit
