// SPDX-License-Identifier: MIT
// eventfd shared with fork children: blocking reads woken by another process, semaphore mode
// handing out one unit per reader.
#include "forked_child.hpp"
#include "ipckit/sync/event_fd.hpp"

#include <sys/syscall.h>

#include <gtest/gtest.h>

namespace ipckit {
namespace {

using namespace std::chrono_literals;

TEST(EventFdMp, BlockingReadIsWokenByAWriteFromAnotherProcess) {
    auto ev = EventFd::create().value();
    auto child = test::ForkedChild::spawn([&] {
        auto r = ev.read_for(10s);
        CHILD_CHECK(r && r->has_value() && **r == 5);
        return 0;
    });
    ASSERT_TRUE(test::wait_until_blocked_in(child.pid(), SYS_poll, 10s));
    ASSERT_TRUE(ev.write(5));
    EXPECT_CHILD_OK(child.wait_for(10s));
}

TEST(EventFdMp, SemaphoreModeGivesEachReaderOneUnit) {
    auto ev = EventFd::create(0, EventFdMode::Semaphore).value();
    auto reader = [&] {
        auto r = ev.read_for(10s);
        CHILD_CHECK(r && r->has_value() && **r == 1);
        return 0;
    };
    auto a = test::ForkedChild::spawn(reader);
    auto b = test::ForkedChild::spawn(reader);
    ASSERT_TRUE(test::wait_until_blocked_in(a.pid(), SYS_poll, 10s));
    ASSERT_TRUE(test::wait_until_blocked_in(b.pid(), SYS_poll, 10s));
    ASSERT_TRUE(ev.write(3));
    EXPECT_CHILD_OK(a.wait_for(10s));
    EXPECT_CHILD_OK(b.wait_for(10s));
    EXPECT_EQ(ev.try_read().value(), std::optional<std::uint64_t>(1));
    EXPECT_FALSE(ev.try_read().value().has_value());
}

TEST(EventFdMp, BlockedWriterResumesWhenAnotherProcessDrains) {
    auto ev = EventFd::create().value();
    ASSERT_TRUE(ev.try_write(EventFd::kMaxValue).value());
    auto child = test::ForkedChild::spawn([&] {
        auto r = ev.write_until(7, Deadline::after(10s));
        CHILD_CHECK(r && *r);
        return 0;
    });
    ASSERT_TRUE(test::wait_until_blocked_in(child.pid(), SYS_poll, 10s));
    EXPECT_EQ(ev.read().value(), EventFd::kMaxValue);
    EXPECT_CHILD_OK(child.wait_for(10s));
    EXPECT_EQ(ev.read_for(10s).value(), std::optional<std::uint64_t>(7));
}

}  // namespace
}  // namespace ipckit
