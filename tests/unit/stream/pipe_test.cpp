// SPDX-License-Identifier: MIT
// Pipe in one process: flags, EOF, EPIPE without SIGPIPE, capacity, deadlines.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <string>

#include <gtest/gtest.h>

#include "ipckit/stream/pipe.hpp"

namespace ipckit {
namespace {

using namespace std::chrono_literals;

std::span<const std::byte> bytes_of(std::string_view s) { return std::as_bytes(std::span(s.data(), s.size())); }

bool sigpipe_pending() {
    sigset_t pending;
    sigpending(&pending);
    return sigismember(&pending, SIGPIPE) == 1;
}

TEST(Pipe, EndsAreCloexecAndBlockingByDefault) {
    auto p = Pipe::create().value();
    for (int fd : {p.reader.native_handle(), p.writer.native_handle()}) {
        EXPECT_TRUE(::fcntl(fd, F_GETFD) & FD_CLOEXEC);
        EXPECT_FALSE(::fcntl(fd, F_GETFL) & O_NONBLOCK);
    }
}

TEST(Pipe, NonblockingEndsAreIndependent) {
    auto p = Pipe::create({.nonblocking_reader = true, .nonblocking_writer = false}).value();
    EXPECT_TRUE(::fcntl(p.reader.native_handle(), F_GETFL) & O_NONBLOCK);
    EXPECT_FALSE(::fcntl(p.writer.native_handle(), F_GETFL) & O_NONBLOCK);
}

TEST(Pipe, RoundTripThenEndOfFileIsZero) {
    auto p = Pipe::create().value();
    ASSERT_TRUE(p.writer.write_all("hello world\n"));
    p.writer.close();
    std::byte buf[64];
    auto n = p.reader.read(buf);
    ASSERT_TRUE(n) << n.error().message();
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(buf), *n), "hello world\n");
    auto eof = p.reader.read(buf);
    ASSERT_TRUE(eof);
    EXPECT_EQ(*eof, 0U);
}

TEST(Pipe, TryReadOnEmptyPipeIsAnEmptyOptional) {
    auto p = Pipe::create().value();
    std::byte buf[8];
    auto n = p.reader.try_read(buf);
    ASSERT_TRUE(n);
    EXPECT_FALSE(n->has_value());
    auto timed = p.reader.read_for(buf, 20ms);
    ASSERT_TRUE(timed);
    EXPECT_FALSE(timed->has_value());
}

TEST(Pipe, WriteWithReaderGoneIsBrokenPipeAndNoSignal) {
    auto p = Pipe::create().value();
    p.reader.close();
    auto r = p.writer.write_all("x");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), std::errc::broken_pipe);
    EXPECT_NE(r.error().message().find("pipe"), std::string::npos);
    EXPECT_FALSE(sigpipe_pending());  // we are still alive, and nothing is queued for later
}

TEST(Pipe, ReadExactStopsAtEndOfFile) {
    auto p = Pipe::create().value();
    ASSERT_TRUE(p.writer.write_all("abc"));
    p.writer.close();
    std::byte buf[10];
    auto n = p.reader.read_exact(buf);
    ASSERT_TRUE(n);
    EXPECT_EQ(*n, 3U);
}

TEST(Pipe, ReadExactTimesOutNamingProgress) {
    auto p = Pipe::create().value();
    ASSERT_TRUE(p.writer.write_all("ab"));
    std::byte buf[4];
    auto n = p.reader.read_exact(buf, Deadline::after(20ms));
    ASSERT_FALSE(n);
    EXPECT_EQ(n.error().code(), std::errc::timed_out);
    EXPECT_NE(n.error().detail().find("read 2 of 4"), std::string::npos) << n.error().message();
}

TEST(Pipe, ReadToEndHonoursTheLimit) {
    auto p = Pipe::create().value();
    ASSERT_TRUE(p.writer.write_all("0123456789"));
    p.writer.close();
    auto r = p.reader.read_to_end(Deadline::never(), 4);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), std::errc::file_too_large);
}

TEST(Pipe, CapacityCanBeQueriedAndGrown) {
    auto p = Pipe::create().value();
    auto cap = p.reader.capacity();
    ASSERT_TRUE(cap) << cap.error().message();
    EXPECT_GE(*cap, kPipeBuf);
    auto grown = p.writer.set_capacity(256 * 1024);
    ASSERT_TRUE(grown) << grown.error().message();
    EXPECT_GE(*grown, 256U * 1024U);
    EXPECT_EQ(*p.reader.capacity(), *grown);
}

TEST(Pipe, ShrinkingBelowTheDataHeldIsBusy) {
    auto p = Pipe::create().value();
    std::string big(3 * 4096, 'x');
    ASSERT_TRUE(p.writer.write_all(big));
    auto r = p.writer.set_capacity(4096);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), std::errc::device_or_resource_busy);
}

TEST(Pipe, FullNonblockingWriterTimesOutNamingProgress) {
    auto p = Pipe::create({.nonblocking_writer = true}).value();
    const std::size_t cap = *p.writer.capacity();
    std::string big(cap + 100, 'y');
    auto r = p.writer.write_all(big, Deadline::after(20ms));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), std::errc::timed_out);
    EXPECT_NE(r.error().detail().find("wrote " + std::to_string(cap)), std::string::npos)
        << r.error().message();
    auto none = p.writer.try_write(bytes_of("z"));
    ASSERT_TRUE(none);
    EXPECT_FALSE(none->has_value());
}

TEST(Pipe, MovedEndsKeepWorking) {
    auto p = Pipe::create().value();
    PipeWriter w = std::move(p.writer);
    PipeReader r = std::move(p.reader);
    EXPECT_FALSE(p.writer.valid());  // NOLINT(bugprone-use-after-move): testing moved-from
    ASSERT_TRUE(w.write_all("m"));
    std::byte b{};
    EXPECT_EQ(*r.read(std::span(&b, 1)), 1U);
}

}  // namespace
}  // namespace ipckit
