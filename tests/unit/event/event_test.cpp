// SPDX-License-Identifier: MIT
// Event files within one process: names, creation parameters, the open policy, counts and
// timeouts. Across processes: tests/multiprocess/event/.
#include "event_test_util.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>

#include <gtest/gtest.h>

namespace ipckit {
namespace {

using namespace std::chrono_literals;
using test::event_name;
using test::event_path;

TEST(Event, CreateMakesA0600FileNamedAfterTheEvent) {
    const auto name = event_name();
    ASSERT_TRUE(Event::create("event:" + name));
    struct stat st {};
    ASSERT_EQ(::stat(event_path(name).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600U);
    EXPECT_EQ(st.st_size % ::sysconf(_SC_PAGESIZE), 0);
    ASSERT_TRUE(Event::remove(name));
    EXPECT_NE(::access(event_path(name).c_str(), F_OK), 0);
}

TEST(Event, CreateIsExclusive) {
    const auto name = event_name();
    ASSERT_TRUE(Event::create(name));
    auto again = EventListener::create(name);
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error(), std::errc::file_exists);
    ASSERT_TRUE(Event::remove(name));
}

TEST(Event, NamesFollowTheChannelRules) {
    for (const char* bad : {"", ".hidden", "a/b", "a b", "chan:x", "event:", "x:y"}) {
        auto r = Event::create(bad);
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error(), std::errc::invalid_argument) << bad;
        EXPECT_EQ(r.error().op(), "event name") << bad;
    }
    EXPECT_FALSE(Event::create(std::string(201, 'a')));
}

TEST(Event, MaxIdsIsBounded) {
    const auto name = event_name();
    for (std::uint32_t bad : {0U, Event::kMaxIds + 1}) {
        EventConfig c;
        c.max_ids = bad;
        auto r = Event::create(name, c);
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error(), std::errc::invalid_argument);
        EXPECT_NE(r.error().message().find("max_ids"), std::string::npos) << r.error().message();
        EXPECT_NE(::access(event_path(name).c_str(), F_OK), 0) << "nothing left behind";
    }
    EventConfig c;
    c.max_ids = Event::kMaxIds;
    ASSERT_TRUE(Event::create(name, c));
    auto l = EventListener::open(name).value();
    EXPECT_EQ(l.max_ids(), Event::kMaxIds);
    ASSERT_TRUE(Event::remove(name));
}

TEST(Event, OpenOfAMissingEventIsNoSuchFile) {
    auto r = EventNotifier::open(event_name());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), std::errc::no_such_file_or_directory);
    auto rm = Event::remove(event_name());
    ASSERT_FALSE(rm);
    EXPECT_EQ(rm.error(), std::errc::no_such_file_or_directory);
}

TEST(Event, NotifyAndTakeCountPerIdAndCoalesce) {
    const auto name = event_name();
    EventConfig c;
    c.max_ids = 8;
    auto l = EventListener::create(name, c).value();
    auto n = EventNotifier::open(name).value();
    EXPECT_TRUE(l.take().value().empty());
    for (int i = 0; i < 5; ++i) {
        ASSERT_TRUE(n.notify(3));
    }
    ASSERT_TRUE(n.notify(7));
    ASSERT_TRUE(n.notify(0));
    const std::vector<EventCount> want{{0, 1}, {3, 5}, {7, 1}};
    EXPECT_EQ(l.take().value(), want);
    EXPECT_TRUE(l.take().value().empty()) << "a count is reported once";
    EXPECT_EQ(l.corrupt(), 0U);
    ASSERT_TRUE(Event::remove(name));
}

TEST(Event, AListenerCountsFromWhenItOpened) {
    const auto name = event_name();
    auto n = EventNotifier::create(name).value();
    ASSERT_TRUE(n.notify(1));
    auto l = EventListener::open(name).value();
    EXPECT_TRUE(l.take().value().empty());
    ASSERT_TRUE(n.notify(1));
    EXPECT_EQ(l.take().value(), (std::vector<EventCount>{{1, 1}}));
    ASSERT_TRUE(Event::remove(name));
}

TEST(Event, NotifyOfAnIdOutOfRangeIsInvalidArgument) {
    const auto name = event_name();
    EventConfig c;
    c.max_ids = 4;
    auto n = EventNotifier::create(name, c).value();
    auto r = n.notify(4);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), std::errc::invalid_argument);
    EXPECT_TRUE(n.notify(3));
    ASSERT_TRUE(Event::remove(name));
}

TEST(Event, WaitTimesOutAsTheEmptyOutcome) {
    const auto name = event_name();
    auto l = EventListener::create(name).value();
    const auto start = std::chrono::steady_clock::now();
    auto r = l.wait(Deadline::after(120ms));
    const auto took = std::chrono::steady_clock::now() - start;
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_FALSE(r->has_value());
    EXPECT_GE(took, 120ms);
    EXPECT_LT(took, 5s);
    // A deadline already passed: one look, no sleep.
    auto now = l.wait(Deadline::now());
    ASSERT_TRUE(now);
    EXPECT_FALSE(now->has_value());
    ASSERT_TRUE(Event::remove(name));
}

TEST(Event, WaitReturnsWhatIsAlreadyThereWithoutSleeping) {
    const auto name = event_name();
    auto l = EventListener::create(name).value();
    auto n = EventNotifier::open(name).value();
    ASSERT_TRUE(n.notify(2));
    auto r = l.wait(Deadline::never());
    ASSERT_TRUE(r && r->has_value());
    EXPECT_EQ(**r, (std::vector<EventCount>{{2, 1}}));
    ASSERT_TRUE(Event::remove(name));
}

TEST(Event, AWaitingListenerNoticesTheFileWasRemoved) {
    const auto name = event_name();
    auto l = EventListener::create(name).value();
    ASSERT_TRUE(Event::remove(name));
    const auto start = std::chrono::steady_clock::now();
    auto r = l.wait(Deadline::after(10s));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), std::errc::identifier_removed);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

TEST(Event, OpenRefusesAGroupWritableFileUnlessAllowed) {
    const auto name = event_name();
    ASSERT_TRUE(Event::create(name));
    ASSERT_EQ(::chmod(event_path(name).c_str(), 0660), 0);
    auto r = EventListener::open(name);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), std::errc::permission_denied);
    EventOptions o;
    o.allow_shared_write = true;
    EXPECT_TRUE(EventListener::open(name, o));
    ASSERT_TRUE(Event::remove(name));
}

TEST(Event, OpenRefusesASymlinkAndASecondLink) {
    const auto name = event_name();
    const auto other = event_name();
    ASSERT_TRUE(Event::create(name));
    ASSERT_EQ(::symlink(event_path(name).c_str(), event_path(other).c_str()), 0);
    auto viasym = EventListener::open(other);
    ASSERT_FALSE(viasym);
    EXPECT_EQ(viasym.error(), std::errc::too_many_symbolic_link_levels);
    ASSERT_EQ(::unlink(event_path(other).c_str()), 0);
    ASSERT_EQ(::link(event_path(name).c_str(), event_path(other).c_str()), 0);
    auto vialink = EventListener::open(other);
    ASSERT_FALSE(vialink);
    EXPECT_EQ(vialink.error(), std::errc::permission_denied);
    EXPECT_NE(vialink.error().message().find("link count 2"), std::string::npos);
    ASSERT_EQ(::unlink(event_path(other).c_str()), 0);
    ASSERT_TRUE(Event::remove(name));
}

TEST(Event, OpenOfAFileWhoseCreatorDiedHalfWayIsNotRecoverable) {
    const auto name = event_name();
    // What a creator killed between its exclusive open and the magic leaves: mode 0200, no lock.
    const int fd = ::open(event_path(name).c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0200);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::ftruncate(fd, ::sysconf(_SC_PAGESIZE)), 0);
    ::close(fd);
    auto r = EventListener::open(name);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), std::errc::state_not_recoverable);
    ASSERT_TRUE(Event::remove(name));
}

TEST(Event, OpenOfAnEmptyOrForeignFileIsAnError) {
    const auto name = event_name();
    const int fd = ::open(event_path(name).c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    ASSERT_GE(fd, 0);
    EventOptions o;
    o.init_wait = 0ms;
    auto empty = EventListener::open(name, o);
    ASSERT_FALSE(empty);
    EXPECT_EQ(empty.error(), std::errc::bad_message);
    ASSERT_EQ(::ftruncate(fd, 3 * ::sysconf(_SC_PAGESIZE)), 0);
    ASSERT_EQ(::pwrite(fd, "not an event file", 17, 0), 17);
    ::close(fd);
    auto foreign = EventListener::open(name, o);
    ASSERT_FALSE(foreign);
    EXPECT_EQ(foreign.error(), std::errc::bad_message);
    ASSERT_TRUE(Event::remove(name));
}

TEST(Event, MovedHandlesKeepWorking) {
    const auto name = event_name();
    auto l1 = EventListener::create(name).value();
    auto n1 = EventNotifier::open(name).value();
    EventListener l2 = std::move(l1);
    EventNotifier n2 = std::move(n1);
    ASSERT_TRUE(n2.notify(5));
    EXPECT_EQ(l2.take().value(), (std::vector<EventCount>{{5, 1}}));
    EXPECT_EQ(l2.name(), name);
    EXPECT_EQ(n2.name(), name);
    ASSERT_TRUE(Event::remove(name));
}

}  // namespace
}  // namespace ipckit
