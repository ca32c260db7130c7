// SPDX-License-Identifier: MIT
#include "ipckit/sync/event_fd.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include <gtest/gtest.h>

namespace ipckit {
namespace {

using namespace std::chrono_literals;

TEST(EventFd, CounterModeReadsTheSumAndResets) {
    auto ev = EventFd::create().value();
    ASSERT_TRUE(ev.write(3));
    ASSERT_TRUE(ev.write(4));
    EXPECT_EQ(ev.read().value(), 7U);
    EXPECT_FALSE(ev.try_read().value().has_value());
}

TEST(EventFd, SemaphoreModeDecrementsByOne) {
    auto ev = EventFd::create(2, EventFdMode::Semaphore).value();
    EXPECT_EQ(ev.read().value(), 1U);
    EXPECT_EQ(ev.try_read().value(), std::optional<std::uint64_t>(1));
    EXPECT_FALSE(ev.try_read().value().has_value());
}

TEST(EventFd, DescriptorIsNonBlockingAndCloexec) {
    auto ev = EventFd::create().value();
    EXPECT_NE(::fcntl(ev.native_handle(), F_GETFL) & O_NONBLOCK, 0);
    EXPECT_NE(::fcntl(ev.native_handle(), F_GETFD) & FD_CLOEXEC, 0);
}

TEST(EventFd, ReadForTimesOutAsAnOrdinaryOutcome) {
    auto ev = EventFd::create().value();
    auto r = ev.read_for(20ms);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_FALSE(r->has_value());
}

// B32: UINT64_MAX is EINVAL; filling to the maximum then +1 would block; a short read is EINVAL.
TEST(EventFd, WritingUint64MaxIsInvalid) {
    auto ev = EventFd::create().value();
    auto r = ev.write(UINT64_MAX);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), std::errc::invalid_argument);
    EXPECT_NE(r.error().message().find("eventfd"), std::string::npos);
}

TEST(EventFd, WritePastTheMaximumWouldBlock) {
    auto ev = EventFd::create().value();
    EXPECT_TRUE(ev.try_write(EventFd::kMaxValue).value());
    EXPECT_FALSE(ev.try_write(1).value());
    EXPECT_FALSE(ev.write_until(1, Deadline::after(10ms)).value());
    EXPECT_EQ(ev.read().value(), EventFd::kMaxValue);
    EXPECT_TRUE(ev.try_write(1).value());
}

TEST(EventFd, AReadShorterThanEightBytesIsInvalid) {
    // The API always reads 8 bytes; this shows why: the kernel refuses anything shorter.
    auto ev = EventFd::create(1).value();
    std::uint32_t small = 0;
    errno = 0;
    EXPECT_EQ(::read(ev.native_handle(), &small, sizeof small), -1);
    EXPECT_EQ(errno, EINVAL);
    EXPECT_EQ(ev.read().value(), 1U);
}

}  // namespace
}  // namespace ipckit
