// SPDX-License-Identifier: MIT
#include "ipckit/message/posix_mq.hpp"

#include "bytes.hpp"
#include "ipc_registry.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace ipckit {
namespace {

using namespace std::chrono_literals;

// glibc runs SIGEV_THREAD notifications on a helper thread it creates inside libc, which
// ThreadSanitizer cannot see: the helper crashes in TSan's allocator when a notification fires.
// The thread-callback tests that fire a notification therefore skip under TSan.
#if defined(__SANITIZE_THREAD__)
#define IPCKIT_SKIP_IF_TSAN() \
    GTEST_SKIP() << "glibc's SIGEV_THREAD helper thread is invisible to TSan"
#else
#define IPCKIT_SKIP_IF_TSAN() static_cast<void>(0)
#endif

PosixName fresh_name() {
    return PosixName::make(test::unique_mq_name()).value();
}

using test::as_bytes;

PosixMq make_queue(long maxmsg = 10, long msgsize = 64) {
    return PosixMq::create(fresh_name(), {.max_messages = maxmsg, .max_message_size = msgsize})
        .value();
}

TEST(PosixMq, CreateAppliesAttributes) {
    auto q = make_queue(5, 128);
    auto a = q.attributes().value();
    EXPECT_EQ(a.max_messages, 5);
    EXPECT_EQ(a.max_message_size, 128);
    EXPECT_EQ(a.current_messages, 0);
    EXPECT_FALSE(a.non_blocking);
    EXPECT_EQ(q.max_message_size(), 128U);
    EXPECT_EQ(q.max_messages(), 5U);
}

TEST(PosixMq, OwnershipShowsTheCreatorAndMode) {
    auto q = PosixMq::create(fresh_name(), {}, Permissions(0600)).value();
    auto o = q.ownership().value();
    EXPECT_EQ(o.uid, ::geteuid());
    EXPECT_EQ(o.gid, ::getegid());
    EXPECT_EQ(o.permissions, Permissions(0600));
}

TEST(PosixMq, DescriptorIsCloseOnExec) {
    auto q = make_queue();
    const int flags = ::fcntl(q.native_handle(), F_GETFD);
    ASSERT_GE(flags, 0);
    EXPECT_NE(flags & FD_CLOEXEC, 0);
}

TEST(PosixMq, CreateFailsWithFileExistsWhenNameTaken) {
    const auto name = fresh_name();
    auto first = PosixMq::create(name).value();
    auto second = PosixMq::create(name);
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error(), std::errc::file_exists);
    EXPECT_NE(second.error().message().find("mq_open " + name.str()), std::string::npos)
        << second.error().message();
}

TEST(PosixMq, OpenFailsWithNoSuchFileWhenAbsent) {
    auto r = PosixMq::open(fresh_name());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), std::errc::no_such_file_or_directory);
}

TEST(PosixMq, InvalidNamesAreRefusedBeforeAnySystemCall) {
    for (std::string_view bad : {"noslash", "/a/b", "/", ""}) {
        auto n = PosixName::make(bad);
        ASSERT_FALSE(n) << bad;
        EXPECT_EQ(n.error(), std::errc::invalid_argument) << bad;
    }
    EXPECT_EQ(PosixName::make("/" + std::string(300, 'x')).error(), std::errc::filename_too_long);
}

TEST(PosixMq, OpenOrCreateOpensTheExistingQueue) {
    const auto name = fresh_name();
    auto a = PosixMq::open_or_create(name, {.max_messages = 4, .max_message_size = 32}).value();
    auto b = PosixMq::open_or_create(name, {.max_messages = 4, .max_message_size = 32}).value();
    a.send("x").value();
    EXPECT_EQ(b.receive().value().text(), "x");
}

TEST(PosixMq, OpenOrCreateReportsAQueueWithOtherAttributes) {
    const auto name = fresh_name();
    auto a = PosixMq::create(name, {.max_messages = 4, .max_message_size = 32}).value();
    auto b = PosixMq::open_or_create(name, {.max_messages = 8, .max_message_size = 64});
    ASSERT_FALSE(b);
    EXPECT_EQ(b.error(), std::errc::file_exists);
    EXPECT_NE(b.error().detail().find("exists with maxmsg 4 msgsize 32"), std::string::npos)
        << b.error().message();
    EXPECT_NE(b.error().detail().find("requested maxmsg 8 msgsize 64"), std::string::npos);
}

TEST(PosixMq, SendAndReceiveCarryThePriority) {
    auto q = make_queue();
    q.send("hello", 7).value();
    std::array<std::byte, 64> buf{};
    auto r = q.receive(buf).value();
    EXPECT_EQ(r.size, 5U);
    EXPECT_EQ(r.priority, 7U);
    EXPECT_EQ(std::string_view(reinterpret_cast<const char*>(buf.data()), r.size), "hello");
}

TEST(PosixMq, HighestPriorityFirstAndFifoWithinAPriority) {
    auto q = make_queue();
    q.send("low-1", 1).value();
    q.send("high-1", 9).value();
    q.send("low-2", 1).value();
    q.send("mid", 5).value();
    q.send("high-2", 9).value();
    std::vector<std::string> got;
    while (auto m = q.try_receive().value()) {
        got.emplace_back(m->text());
    }
    EXPECT_EQ(got, (std::vector<std::string>{"high-1", "high-2", "mid", "low-1", "low-2"}));
}

TEST(PosixMq, ZeroLengthMessageIsDelivered) {
    auto q = make_queue();
    q.send(std::span<const std::byte>{}, 3).value();
    auto m = q.receive().value();
    EXPECT_TRUE(m.data.empty());
    EXPECT_EQ(m.priority, 3U);
}

TEST(PosixMq, OwnedReceiveSizesTheBufferFromMsgsize) {
    auto q = make_queue(2, 8000);
    const std::string big(8000, 'z');
    q.send(big).value();
    auto m = q.receive().value();
    EXPECT_EQ(m.data.size(), 8000U);
    EXPECT_EQ(m.text(), big);
}

TEST(PosixMq, ReceiveBufferSmallerThanMsgsizeIsRefusedNamingBothSizes) {
    auto q = make_queue(10, 64);
    q.send("short")
        .value();  // shorter than the buffer, still refused: the kernel checks msgsize (F4)
    std::array<std::byte, 10> small{};
    auto r = q.receive(small);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), std::errc::message_size);
    EXPECT_NE(r.error().detail().find("buffer 10 < queue msgsize 64"), std::string::npos)
        << r.error().message();
    EXPECT_EQ(q.attributes()->current_messages, 1);  // nothing was consumed
}

TEST(PosixMq, MessageLargerThanMsgsizeNamesTheQueueLimit) {
    auto q = make_queue(10, 16);
    auto r = q.send(std::string(17, 'a'));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), std::errc::message_size);
    EXPECT_NE(r.error().detail().find("message 17 bytes > queue msgsize 16"), std::string::npos);
}

TEST(PosixMq, PriorityAboveMaxIsInvalid) {
    auto q = make_queue();
    EXPECT_TRUE(q.send("ok", PosixMq::kMaxPriority));
    auto r = q.send("x", PosixMq::kMaxPriority + 1);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), std::errc::invalid_argument);
    EXPECT_NE(r.error().detail().find("priority 32768 > 32767"), std::string::npos);
}

TEST(PosixMq, TryReceiveOnEmptyQueueIsAnOrdinaryEmptyOutcome) {
    auto q = make_queue();
    auto r = q.try_receive();
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_FALSE(r->has_value());
}

TEST(PosixMq, TrySendOnFullQueueReturnsFalse) {
    auto q = make_queue(2, 8);
    EXPECT_TRUE(q.try_send(as_bytes("a")).value());
    EXPECT_TRUE(q.try_send(as_bytes("b")).value());
    EXPECT_FALSE(q.try_send(as_bytes("c")).value());
    EXPECT_FALSE(q.send_for(as_bytes("c"), 0, 20ms).value());
}

TEST(PosixMq, ReceiveForTimesOutOnAnEmptyQueue) {
    auto q = make_queue();
    auto r = q.receive_for(30ms);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_FALSE(r->has_value());
}

TEST(PosixMq, ReceiveUntilSpanningSeveralRealtimeSlicesStillTimesOut) {
    auto q = make_queue();
    const auto start = std::chrono::steady_clock::now();
    auto r = q.receive_until(Deadline::after(Deadline::kRealtimeSlice * 2 + 10ms));
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_FALSE(r->has_value());
    EXPECT_GE(std::chrono::steady_clock::now() - start,
              Deadline::kRealtimeSlice * 2);  // never early
}

TEST(PosixMq, ExpiredDeadlineStillTakesAQueuedMessage) {
    auto q = make_queue();
    q.send("ready").value();
    auto r = q.receive_until(Deadline::now()).value();
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->text(), "ready");
}

TEST(PosixMq, SetNonBlockingMakesBlockingCallsReportWouldBlock) {
    auto q = make_queue();
    q.set_non_blocking(true).value();
    EXPECT_TRUE(q.attributes()->non_blocking);
    auto r = q.receive();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), std::errc::resource_unavailable_try_again);
    EXPECT_FALSE(q.receive_for(10ms).value().has_value());
    q.set_non_blocking(false).value();
    EXPECT_FALSE(q.attributes()->non_blocking);
}

// send/receive into a caller buffer are inline and leave the header only on failure: their
// errors must still name the call, the queue and the errno, exactly as the full paths do.
TEST(PosixMq, InlineSendAndReceiveFailuresNameTheCallTheQueueAndTheErrno) {
    auto q = make_queue(1, 64);
    const std::string name = q.name().str();
    q.set_non_blocking(true).value();
    std::array<std::byte, 64> buf{};
    auto empty = q.receive(std::span<std::byte>(buf));
    ASSERT_FALSE(empty);
    EXPECT_EQ(empty.error(), std::errc::resource_unavailable_try_again);
    EXPECT_EQ(empty.error().op(), "mq_receive");
    EXPECT_EQ(empty.error().object(), name);
    EXPECT_NE(empty.error().detail().find("non-blocking"), std::string::npos);
    ASSERT_TRUE(q.send(as_bytes("one")));
    auto full = q.send(as_bytes("two"));
    ASSERT_FALSE(full);
    EXPECT_EQ(full.error(), std::errc::resource_unavailable_try_again);
    EXPECT_EQ(full.error().message().rfind("mq_send " + name + ": ", 0), 0U)
        << full.error().message();
    auto got = q.receive(std::span<std::byte>(buf));
    ASSERT_TRUE(got) << got.error().message();
    EXPECT_EQ(got->size, 3U);

    const auto wo_name = fresh_name();
    auto wo = PosixMq::create(wo_name, {}, Permissions(), Access::WriteOnly).value();
    std::vector<std::byte> big(wo.max_message_size());
    auto r = wo.receive(std::span<std::byte>(big));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message(),
              "mq_receive " + wo_name.str() + ": " +
                  std::make_error_code(std::errc::bad_file_descriptor).message());
}

TEST(PosixMq, UnlinkRemovesTheNameButOpenDescriptorsKeepWorking) {
    const auto name = fresh_name();
    auto q = PosixMq::create(name).value();
    PosixMq::unlink(name).value();
    EXPECT_EQ(PosixMq::open(name).error(), std::errc::no_such_file_or_directory);
    q.send("still here").value();
    EXPECT_EQ(q.receive()->text(), "still here");
    auto again = PosixMq::unlink(name);
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error(), std::errc::no_such_file_or_directory);
}

TEST(PosixMq, RecreatedNameIsADifferentQueueForOldDescriptors) {
    // F6: after unlink + create, an old descriptor still works but reaches the old queue.
    const auto name = fresh_name();
    auto old_q = PosixMq::create(name).value();
    PosixMq::unlink(name).value();
    auto new_q = PosixMq::create(name).value();
    old_q.send("to the old queue").value();
    EXPECT_FALSE(new_q.try_receive().value().has_value());
    EXPECT_EQ(old_q.receive()->text(), "to the old queue");
}

TEST(PosixMq, WriteOnlyHandleCannotReceive) {
    const auto name = fresh_name();
    auto q = PosixMq::create(name, {}, Permissions(), Access::WriteOnly).value();
    auto r = q.try_receive();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), std::errc::bad_file_descriptor);
}

TEST(PosixMq, MaxmsgAboveMsgMaxNamesTheSysctl) {
    auto r = PosixMq::create(fresh_name(), {.max_messages = 100000, .max_message_size = 64});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), std::errc::invalid_argument);
    EXPECT_NE(r.error().detail().find("maxmsg 100000 > /proc/sys/fs/mqueue/msg_max="),
              std::string::npos)
        << r.error().message();
    EXPECT_NE(r.error().detail().find("sysctl fs.mqueue.msg_max"), std::string::npos);
}

TEST(PosixMq, MsgsizeAboveMsgsizeMaxNamesTheSysctl) {
    auto r = PosixMq::create(fresh_name(), {.max_messages = 1, .max_message_size = 99999999});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), std::errc::invalid_argument);
    EXPECT_NE(r.error().detail().find("msgsize 99999999 > /proc/sys/fs/mqueue/msgsize_max="),
              std::string::npos)
        << r.error().message();
    EXPECT_NE(r.error().detail().find("sysctl fs.mqueue.msgsize_max"), std::string::npos);
}

TEST(PosixMq, ZeroLimitsAreRefused) {
    auto r = PosixMq::create(fresh_name(), {.max_messages = 0, .max_message_size = 64});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), std::errc::invalid_argument);
    EXPECT_NE(r.error().detail().find("maxmsg 0 must be >= 1"), std::string::npos);
    auto s = PosixMq::create(fresh_name(), {.max_messages = 1, .max_message_size = 0});
    ASSERT_FALSE(s);
    EXPECT_NE(s.error().detail().find("msgsize 0 must be >= 1"), std::string::npos);
}

// --- notification

struct Flag {
    std::mutex mu;
    std::condition_variable cv;
    int count = 0;
    void raise() {
        const std::lock_guard lock(mu);
        ++count;
        cv.notify_all();
    }
    bool wait_for_count(int n, std::chrono::milliseconds timeout) {
        std::unique_lock lock(mu);
        return cv.wait_for(lock, timeout, [&] { return count >= n; });
    }
};

TEST(PosixMqNotify, ThreadCallbackRunsWhenAnEmptyQueueGetsAMessage) {
    IPCKIT_SKIP_IF_TSAN();
    auto q = make_queue();
    auto flag = std::make_shared<Flag>();
    q.notify_by_thread([flag] { flag->raise(); }).value();
    q.send("first").value();
    ASSERT_TRUE(flag->wait_for_count(1, 10s));
    EXPECT_EQ(q.receive()->text(), "first");
}

TEST(PosixMqNotify, SecondRegistrationIsBusyWithAClearMessage) {
    auto q = make_queue();
    q.notify_by_signal(SIGUSR1).value();
    auto r = q.notify_by_thread([] {});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), std::errc::device_or_resource_busy);
    EXPECT_NE(r.error().message().find("already has a notification registrant"), std::string::npos)
        << r.error().message();
    q.cancel_notification().value();
    q.notify_by_signal(SIGUSR1).value();  // free again after cancelling
    q.cancel_notification().value();
}

TEST(PosixMqNotify, NoNotificationWhenTheQueueWasNotEmpty) {
    IPCKIT_SKIP_IF_TSAN();
    auto q = make_queue();
    q.send("already there").value();
    auto flag = std::make_shared<Flag>();
    q.notify_by_thread([flag] { flag->raise(); }).value();
    q.send("second").value();  // non-empty -> non-empty: nothing fires
    // Still registered (a notification would have removed the registration), so a new one is busy.
    EXPECT_EQ(q.notify_by_signal(SIGUSR1).error(), std::errc::device_or_resource_busy);
    // Drain, then the next message makes the queue go empty -> non-empty: it fires now.
    while (q.try_receive().value()) {
    }
    q.send("third").value();
    ASSERT_TRUE(flag->wait_for_count(1, 10s));
    EXPECT_EQ(flag->count, 1);
    q.notify_by_signal(SIGUSR1).value();  // one-shot: the registration is gone after it fired
    q.cancel_notification().value();
}

TEST(PosixMqNotify, CallbackCanReRegisterForTheNextMessage) {
    IPCKIT_SKIP_IF_TSAN();
    auto q = make_queue();
    auto flag = std::make_shared<Flag>();
    std::function<void()> on_message;
    on_message = [&] {
        (void)q.notify_by_thread(on_message);  // re-arm before draining, as mq_notify(3) advises
        while (q.try_receive().value()) {
        }
        flag->raise();
    };
    q.notify_by_thread(on_message).value();
    q.send("one").value();
    ASSERT_TRUE(flag->wait_for_count(1, 10s));
    q.send("two").value();
    ASSERT_TRUE(flag->wait_for_count(2, 10s));
    q.cancel_notification().value();
}

TEST(PosixMqNotify, SignalCarriesTheValueAndSiMesgq) {
    auto q = make_queue();
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGRTMIN);
    sigset_t old;
    ASSERT_EQ(::pthread_sigmask(SIG_BLOCK, &set, &old), 0);
    q.notify_by_signal(SIGRTMIN, 42).value();
    q.send("ping").value();
    siginfo_t info{};
    const timespec ts{10, 0};
    const int sig = ::sigtimedwait(&set, &info, &ts);
    ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
    ASSERT_EQ(sig, SIGRTMIN);
    EXPECT_EQ(info.si_code, SI_MESGQ);
    EXPECT_EQ(info.si_value.sival_int, 42);
    EXPECT_EQ(info.si_pid, ::getpid());
}

TEST(PosixMqNotify, DestroyingTheHandleDropsThePendingCallback) {
    const auto name = fresh_name();
    auto flag = std::make_shared<Flag>();
    {
        auto q = PosixMq::create(name).value();
        q.notify_by_thread([flag] { flag->raise(); }).value();
    }  // closing the descriptor removes the registration
    auto q = PosixMq::open(name).value();
    q.notify_by_signal(SIGUSR1).value();  // free: the closed handle's registration is gone
    q.cancel_notification().value();
    EXPECT_EQ(flag->count, 0);
}

TEST(PosixMqNotify, ClosingAnyDescriptorOfTheQueueInThisProcessDropsTheRegistration) {
    const auto name = fresh_name();
    auto q = PosixMq::create(name).value();
    q.notify_by_signal(SIGUSR1).value();
    { auto other = PosixMq::open(name).value(); }  // closes another descriptor of the same queue
    EXPECT_TRUE(q.notify_by_signal(SIGUSR1)) << "the registration survived the close";
    q.cancel_notification().value();
}

}  // namespace
}  // namespace ipckit
