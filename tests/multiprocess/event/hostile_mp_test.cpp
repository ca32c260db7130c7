// SPDX-License-Identifier: MIT
// An event file is writable by every same-uid process: forged header fields, counters going
// backwards, a truncated file and random scribbling by another process must give errors or
// counted corruption, never a crash, a hang or an out-of-bounds access (run under asan too).
#include "../../unit/event/event_test_util.hpp"
#include "event/event_file.hpp"
#include "forked_child.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstring>

#include <gtest/gtest.h>

namespace ipckit {
namespace {

using namespace std::chrono_literals;
using detail::EventHeader;
using test::event_name;
using test::event_path;
using test::ForkedChild;

/// Writes `width` bytes of `value` at `offset` of the event file from another process (as a
/// hostile peer would), returning the bytes that were there.
std::uint64_t forge(const std::string& name,
                    std::size_t offset,
                    std::size_t width,
                    std::uint64_t value) {
    std::uint64_t saved = 0;
    const int fd = ::open(event_path(name).c_str(), O_RDONLY | O_CLOEXEC);
    EXPECT_EQ(::pread(fd, &saved, width, static_cast<off_t>(offset)), static_cast<ssize_t>(width));
    ::close(fd);
    auto child = ForkedChild::spawn([&] {
        const int wfd = ::open(event_path(name).c_str(), O_WRONLY | O_CLOEXEC);
        CHILD_CHECK(wfd >= 0);
        CHILD_CHECK(::pwrite(wfd, &value, width, static_cast<off_t>(offset)) ==
                    static_cast<ssize_t>(width));
        ::close(wfd);
        return 0;
    });
    EXPECT_CHILD_OK(child.wait_for(10s));
    return saved;
}

std::size_t counter_off(std::uint32_t id) {
    return detail::kEventHeaderBytes + std::size_t{id} * detail::kCounterBytes;
}

struct HeaderField {
    const char* name;  // what the error must name
    std::size_t offset;
    std::size_t width;
    std::uint64_t value;
    std::errc code;
};

TEST(EventHostile, ForgedHeaderFieldsAreNamedErrorsAtOpen) {
    const auto name = event_name();
    auto existing = EventListener::create(name).value();
    auto notifier = EventNotifier::open(name).value();
    const HeaderField fields[] = {
        {"magic", offsetof(EventHeader, magic), 8, 0x1234, std::errc::bad_message},
        {"layout 2",
         offsetof(EventHeader, layout_version),
         4,
         2,
         std::errc::protocol_not_supported},
        {"layout hash",
         offsetof(EventHeader, layout_hash),
         4,
         77,
         std::errc::protocol_not_supported},
        {"max_ids=0", offsetof(EventHeader, max_ids), 4, 0, std::errc::bad_message},
        {"max_ids=4097", offsetof(EventHeader, max_ids), 4, 4097, std::errc::bad_message},
        {"max_ids=4096", offsetof(EventHeader, max_ids), 4, 4096, std::errc::bad_message},
        {"max_ids=4294967295",
         offsetof(EventHeader, max_ids),
         4,
         0xffffffffU,
         std::errc::bad_message},
        {"file_size=1", offsetof(EventHeader, file_size), 8, 1, std::errc::bad_message},
        {"file_size=18446744073709551615",
         offsetof(EventHeader, file_size),
         8,
         ~0ULL,
         std::errc::bad_message},
    };
    std::map<std::uint32_t, std::uint64_t> totals;
    for (const auto& f : fields) {
        const std::uint64_t saved = forge(name, f.offset, f.width, f.value);
        EventOptions o;
        o.init_wait = 0ms;
        auto r = EventListener::open(name, o);
        ASSERT_FALSE(r) << f.name;
        EXPECT_EQ(r.error(), f.code) << r.error().message();
        EXPECT_NE(r.error().message().find(f.name), std::string::npos)
            << f.name << ": " << r.error().message();
        // Open handles use the geometry fixed at open; a changed magic or layout is reported
        // as corrupt, other fields cannot mislead them.
        auto t = existing.take();
        auto n = notifier.notify(1);
        if (f.offset == offsetof(EventHeader, magic) ||
            f.offset == offsetof(EventHeader, layout_version)) {
            ASSERT_FALSE(t) << f.name;
            EXPECT_EQ(t.error(), std::errc::bad_message);
            ASSERT_FALSE(n) << f.name;
            EXPECT_EQ(n.error(), std::errc::bad_message);
        } else {
            ASSERT_TRUE(t) << f.name;
            ASSERT_TRUE(n) << f.name;
            test::accumulate(totals, *t);
        }
        (void)forge(name, f.offset, f.width, saved);
    }
    EXPECT_TRUE(EventListener::open(name));
    // The notifications that were accepted are all there, exactly.
    test::accumulate(totals, existing.take().value());
    EXPECT_EQ(totals[1], 7U) << "seven notifies succeeded, each counted once";
    EXPECT_EQ(existing.corrupt(), 0U);
    ASSERT_TRUE(Event::remove(name));
}

TEST(EventHostile, ACounterGoingBackwardsIsCountedCorruptAndResynchronised) {
    const auto name = event_name();
    EventConfig c;
    c.max_ids = 4;
    auto l = EventListener::create(name, c).value();
    auto n = EventNotifier::open(name).value();
    for (int i = 0; i < 10; ++i) {
        ASSERT_TRUE(n.notify(2));
    }
    EXPECT_EQ(l.take().value(), (std::vector<EventCount>{{2, 10}}));
    (void)forge(name, counter_off(2), 8, 3);  // backwards: 10 -> 3
    EXPECT_TRUE(l.take().value().empty());
    EXPECT_EQ(l.corrupt(), 1U);
    ASSERT_TRUE(n.notify(2));  // 3 -> 4: counted from where it resynchronised
    EXPECT_EQ(l.take().value(), (std::vector<EventCount>{{2, 1}}));
    // A jump forwards is reported as it is: a count is all an event carries.
    (void)forge(name, counter_off(2), 8, 1004);
    EXPECT_EQ(l.take().value(), (std::vector<EventCount>{{2, 1000}}));
    // A jump of more than half the range is a step back modulo 2^64.
    (void)forge(name, counter_off(2), 8, 1004 + (1ULL << 63) + 1);
    EXPECT_TRUE(l.take().value().empty());
    EXPECT_EQ(l.corrupt(), 2U);
    // Memory past the last counter (inside the page) is never read as a counter.
    (void)forge(name, counter_off(4), 8, 99);
    EXPECT_TRUE(l.take().value().empty());
    // Forwards from 0 on an id never notified, then back while a listener waits: the step back
    // does not wake it into an answer, it times out empty and counts the corruption.
    (void)forge(name, counter_off(1), 8, 5);
    EXPECT_EQ(l.take().value(), (std::vector<EventCount>{{1, 5}}));
    (void)forge(name, counter_off(1), 8, 2);
    auto w = l.wait(Deadline::after(60ms));
    ASSERT_TRUE(w);
    EXPECT_FALSE(w->has_value());
    EXPECT_EQ(l.corrupt(), 3U);
    ASSERT_TRUE(Event::remove(name));
}

TEST(EventHostile, AFileTruncatedUnderUsIsAnErrorNotACrash) {
    const auto name = event_name();
    auto l = EventListener::create(name).value();
    auto n = EventNotifier::open(name).value();
    ASSERT_TRUE(n.notify(1));
    auto child = ForkedChild::spawn([&] {
        CHILD_CHECK(::truncate(event_path(name).c_str(), 0) == 0);
        return 0;
    });
    EXPECT_CHILD_OK(child.wait_for(10s));
    auto w = l.wait(Deadline::after(5s));
    ASSERT_FALSE(w);
    EXPECT_EQ(w.error(), std::errc::bad_address) << w.error().message();
    auto r = n.notify(1);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), std::errc::bad_address) << r.error().message();
    auto t = l.take();
    ASSERT_FALSE(t);
    EXPECT_EQ(t.error(), std::errc::bad_address);
    EventOptions o;
    o.init_wait = 0ms;
    auto reopen = EventListener::open(name, o);
    ASSERT_FALSE(reopen);
    EXPECT_EQ(reopen.error(), std::errc::bad_message);
    ASSERT_TRUE(Event::remove(name));
}

TEST(EventHostile, RandomScribblingByAnotherProcessNeverCrashesOrHangs) {
    const auto name = event_name();
    EventConfig c;
    c.max_ids = 16;
    auto l = EventListener::create(name, c).value();
    auto n = EventNotifier::open(name).value();
    const auto size = static_cast<std::size_t>(detail::event_file_size(c.max_ids));
    auto scribbler = ForkedChild::spawn([&] {
        const int fd = ::open(event_path(name).c_str(), O_WRONLY | O_CLOEXEC);
        CHILD_CHECK(fd >= 0);
        std::uint64_t x = 0x2545F4914F6CDD1DULL;
        const auto until = std::chrono::steady_clock::now() + 300ms;
        while (std::chrono::steady_clock::now() < until) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            const auto off = static_cast<off_t>((x >> 8) % (size - 8));
            CHILD_CHECK(::pwrite(fd, &x, 8, off) == 8);
        }
        ::close(fd);
        return 0;
    });
    std::uint64_t ok = 0;
    std::uint64_t errors = 0;
    const auto until = std::chrono::steady_clock::now() + 400ms;
    while (std::chrono::steady_clock::now() < until) {
        for (std::uint32_t id = 0; id < c.max_ids; ++id) {
            (void)n.notify(id);
        }
        auto w = l.wait(Deadline::after(20ms));
        if (w) {
            ++ok;
            if (*w) {
                for (const auto& cnt : **w) {
                    EXPECT_LT(cnt.id, c.max_ids);
                }
            }
        } else {
            ++errors;
            EXPECT_TRUE(w.error() == std::errc::bad_message) << w.error().message();
        }
    }
    EXPECT_CHILD_OK(scribbler.wait_for(10s));
    std::printf("scribbled: %llu good looks, %llu errors, %llu counted corrupt\n",
                static_cast<unsigned long long>(ok),
                static_cast<unsigned long long>(errors),
                static_cast<unsigned long long>(l.corrupt()));
    EXPECT_GT(ok + errors, 0U);
    ASSERT_TRUE(Event::remove(name));
}

}  // namespace
}  // namespace ipckit
