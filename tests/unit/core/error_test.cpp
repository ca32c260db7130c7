// SPDX-License-Identifier: MIT
#include <fcntl.h>
#include <mqueue.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "ipc_registry.hpp"
#include "ipckit/core/result.hpp"
#include "sys/syscall.hpp"

namespace ipckit {
namespace {

TEST(Error, MessageNamesOperationObjectAndErrnoText) {
    const Error e = Error::from_errno(EACCES, "mq_open", "/jobs");
    EXPECT_EQ(e.message(), "mq_open /jobs: Permission denied");
    EXPECT_EQ(e.errno_name(), "EACCES");
    EXPECT_TRUE(e == std::errc::permission_denied);
}

TEST(Error, DetailIsAppendedInParentheses) {
    const Error e = Error(std::errc::invalid_argument, "mq_open", "/q", "maxmsg 11 > msg_max 10");
    EXPECT_EQ(e.message(), "mq_open /q: Invalid argument (maxmsg 11 > msg_max 10)");
    EXPECT_EQ(e.with_detail("raise it").detail(), "maxmsg 11 > msg_max 10; raise it");
}

TEST(Error, FailedOpenOfARealObjectNamesTheCallAndThePath) {
    const std::string path = test::unique_path("missing");
    auto fd = sys::call("open", path, [&] { return ::open(path.c_str(), O_RDONLY | O_CLOEXEC); });
    ASSERT_FALSE(fd);
    EXPECT_EQ(fd.error().code(), std::errc::no_such_file_or_directory);
    EXPECT_EQ(fd.error().message(), "open " + path + ": No such file or directory");
}

TEST(Error, FailedMqOpenGivesTheKernelsErrnoWithTheName) {
    const std::string name = test::unique_mq_name();
    auto q = sys::call("mq_open", name, [&] { return ::mq_open(name.c_str(), O_RDONLY); });
    ASSERT_FALSE(q);
    EXPECT_EQ(q.error().message(), "mq_open " + name + ": No such file or directory");
}

// Results carry the Error by value on every call; it stays small so returning one is cheap
// (the Result<void> bound is in result_test.cpp).
static_assert(sizeof(Error) <= 32);
static_assert(std::is_nothrow_move_constructible_v<Error>);

TEST(Error, CopiesOwnTheirText) {
    Error original(std::errc::invalid_argument, "open", "/a", "why");
    Error copy = original;
    original = Error(std::errc::timed_out, "wait");
    EXPECT_EQ(copy.message(), "open /a: Invalid argument (why)");
    EXPECT_EQ(original.message(), "wait: Connection timed out");
    EXPECT_EQ(original.object(), "");
    EXPECT_EQ(original.detail(), "");
}

TEST(Error, DetailCanBeAddedToAnErrorWithoutText) {
    const Error bare(std::errc::timed_out, "wait");
    EXPECT_EQ(bare.with_detail("after 1s").message(), "wait: Connection timed out (after 1s)");
    EXPECT_EQ(bare.message(), "wait: Connection timed out");
}

TEST(SysCall, CallMaybeTurnsListedErrnosIntoEmptyOutcomes) {
    int fds[2];
    ASSERT_EQ(::pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
    char c = 0;
    auto r = sys::call_maybe("read", "pipe", {EAGAIN}, [&] { return ::read(fds[0], &c, 1); });
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->has_value());
    ::close(fds[0]);
    ::close(fds[1]);
}

}  // namespace
}  // namespace ipckit
