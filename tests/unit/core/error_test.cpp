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

TEST(Result, HoldsValueOrError) {
    Result<int> ok = 42;
    ASSERT_TRUE(ok);
    EXPECT_EQ(*ok, 42);
    EXPECT_EQ(ok.value_or(7), 42);

    Result<int> bad = Error(std::errc::timed_out, "wait");
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.value_or(7), 7);
    EXPECT_TRUE(bad.error() == std::errc::timed_out);
}

TEST(Result, ValueThrowsResultErrorCarryingTheError) {
    Result<int> bad = Error::from_errno(ENOENT, "shm_open", "/x");
    try {
        (void)bad.value();
        FAIL() << "value() did not throw";
    } catch (const ResultError& e) {
        EXPECT_EQ(e.error().op(), "shm_open");
        EXPECT_EQ(e.code(), std::errc::no_such_file_or_directory);
    }
    Result<void> bad_void = Error::from_errno(EPIPE, "write", "pipe");
    EXPECT_THROW(bad_void.value(), ResultError);
}

TEST(Result, MonadicOperationsChainAndShortCircuit) {
    auto doubled = Result<int>(21).and_then([](int v) { return Result<int>(v * 2); });
    EXPECT_EQ(*doubled, 42);
    auto text = Result<int>(5).transform([](int v) { return std::to_string(v); });
    EXPECT_EQ(*text, "5");
    bool called = false;
    auto skipped = Result<int>(Error(std::errc::io_error, "read")).and_then([&](int v) {
        called = true;
        return Result<int>(v);
    });
    EXPECT_FALSE(called);
    EXPECT_FALSE(skipped);
    auto recovered = Result<int>(Error(std::errc::io_error, "read")).or_else([](const Error&) {
        return Result<int>(0);
    });
    EXPECT_EQ(*recovered, 0);
}

TEST(Result, MoveOnlyValues) {
    Result<std::unique_ptr<int>> r = std::make_unique<int>(3);
    std::unique_ptr<int> p = std::move(r).value();
    EXPECT_EQ(*p, 3);
}

Result<int> propagate(bool fail) {
    IPCKIT_TRY(fail ? Result<void>(Error(std::errc::device_or_resource_busy, "lock")) : Result<void>());
    return 1;
}

TEST(Result, TryMacroPropagatesErrors) {
    EXPECT_EQ(*propagate(false), 1);
    EXPECT_TRUE(propagate(true).error() == std::errc::device_or_resource_busy);
}

// Results carry the Error by value on every call; it stays small so returning one is cheap.
static_assert(sizeof(Error) <= 32);
static_assert(sizeof(Result<void>) <= 40);
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

TEST(Result, VoidResultsCopyAndMoveTheirError) {
    Result<void> ok;
    Result<void> bad = Error(std::errc::device_or_resource_busy, "lock", "/l");
    Result<void> copy = bad;
    ASSERT_FALSE(copy);
    EXPECT_EQ(copy.error().object(), "/l");
    copy = ok;
    EXPECT_TRUE(copy);
    copy = std::move(bad);
    ASSERT_FALSE(copy);
    EXPECT_TRUE(copy.error() == std::errc::device_or_resource_busy);
}

Result<std::string> twice(Result<std::string> in) {
    IPCKIT_TRY_ASSIGN(std::string text, std::move(in));
    IPCKIT_TRY_ASSIGN(text, Result<std::string>(text + text));
    return text;
}

TEST(Result, TryAssignMovesTheValueOrReturnsTheError) {
    EXPECT_EQ(*twice(std::string("ab")), "abab");
    EXPECT_TRUE(twice(Error(std::errc::no_such_file_or_directory, "open")).error() ==
                std::errc::no_such_file_or_directory);
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
