// SPDX-License-Identifier: MIT
// POSIX message queues between processes: priority order, blocking and deadline calls woken by a
// peer, mq_notify's one-registrant and empty->non-empty rules, killed waiters and registrants,
// permissions and the limits (RLIMIT_MSGQUEUE, fs.mqueue.* sysctls in a private IPC namespace).
#include "forked_child.hpp"
#include "ipc_registry.hpp"
#include "ipckit/message/posix_mq.hpp"
#include "message_test_util.hpp"

#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fstream>
#include <sched.h>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace ipckit {
namespace {

using namespace std::chrono_literals;

PosixName fresh_name() {
    return PosixName::make(test::unique_mq_name()).value();
}

TEST(PosixMqProcesses, PriorityOrderHoldsAcrossProcesses) {
    const auto name = fresh_name();
    auto q = PosixMq::create(name, {.max_messages = 10, .max_message_size = 32}).value();
    auto producer = test::ForkedChild::spawn([&] {
        auto out = PosixMq::open(name, Access::WriteOnly);
        CHILD_CHECK(out);
        const std::pair<const char*, unsigned> msgs[] = {{"p1-a", 1},
                                                         {"p9-a", 9},
                                                         {"p0-a", 0},
                                                         {"p9-b", 9},
                                                         {"p1-b", 1},
                                                         {"p5", 5},
                                                         {"p0-b", 0}};
        for (auto [text, prio] : msgs) {
            CHILD_CHECK(out->send(text, prio));
        }
        return 0;
    });
    EXPECT_CHILD_OK(producer.wait_for(10s));
    std::vector<std::string> got;
    std::vector<unsigned> prios;
    while (auto m = q.try_receive().value()) {
        got.emplace_back(m->text());
        prios.push_back(m->priority);
    }
    EXPECT_EQ(got,
              (std::vector<std::string>{"p9-a", "p9-b", "p5", "p1-a", "p1-b", "p0-a", "p0-b"}));
    EXPECT_EQ(prios, (std::vector<unsigned>{9, 9, 5, 1, 1, 0, 0}));
}

TEST(PosixMqProcesses, BlockingReceiveWakesWhenAnotherProcessSends) {
    const auto name = fresh_name();
    auto q = PosixMq::create(name).value();
    auto consumer = test::ForkedChild::spawn([&] {
        auto in = PosixMq::open(name, Access::ReadOnly);
        CHILD_CHECK(in);
        auto m = in->receive();
        CHILD_CHECK(m && m->text() == "wake up" && m->priority == 4);
        return 0;
    });
    ASSERT_TRUE(test::wait_until_blocked_in(consumer.pid(), SYS_mq_timedreceive, 10s));
    q.send("wake up", 4).value();
    EXPECT_CHILD_OK(consumer.wait_for(10s));
}

TEST(PosixMqProcesses, DeadlineReceiveWakesWhenAnotherProcessSends) {
    const auto name = fresh_name();
    auto q = PosixMq::create(name).value();
    auto consumer = test::ForkedChild::spawn([&] {
        auto in = PosixMq::open(name, Access::ReadOnly);
        CHILD_CHECK(in);
        auto m = in->receive_for(20s);  // re-armed in REALTIME slices underneath
        CHILD_CHECK(m && m->has_value() && (*m)->text() == "in time");
        return 0;
    });
    ASSERT_TRUE(test::wait_until_blocked_in(consumer.pid(), SYS_mq_timedreceive, 10s));
    q.send("in time").value();
    EXPECT_CHILD_OK(consumer.wait_for(10s));
}

TEST(PosixMqProcesses, BlockedSenderWakesWhenTheQueueDrains) {
    const auto name = fresh_name();
    auto q = PosixMq::create(name, {.max_messages = 1, .max_message_size = 16}).value();
    q.send("fills it").value();
    auto producer = test::ForkedChild::spawn([&] {
        auto out = PosixMq::open(name, Access::WriteOnly);
        CHILD_CHECK(out);
        CHILD_CHECK(out->send("second"));
        return 0;
    });
    ASSERT_TRUE(test::wait_until_blocked_in(producer.pid(), SYS_mq_timedsend, 10s));
    EXPECT_EQ(q.receive()->text(), "fills it");
    EXPECT_CHILD_OK(producer.wait_for(10s));
    EXPECT_EQ(q.receive()->text(), "second");
}

TEST(PosixMqProcesses, ReceiverKilledWhileBlockedLeavesTheOtherReceiverWorking) {
    const auto name = fresh_name();
    auto q = PosixMq::create(name).value();
    auto body = [&] {
        auto in = PosixMq::open(name, Access::ReadOnly);
        CHILD_CHECK(in);
        auto m = in->receive();
        CHILD_CHECK(m && m->text() == "only one");
        return 0;
    };
    auto victim = test::ForkedChild::spawn(body);
    auto survivor = test::ForkedChild::spawn(body);
    ASSERT_TRUE(test::wait_until_blocked_in(victim.pid(), SYS_mq_timedreceive, 10s));
    ASSERT_TRUE(test::wait_until_blocked_in(survivor.pid(), SYS_mq_timedreceive, 10s));
    victim.kill(SIGKILL);
    const auto dead = victim.wait_for(10s);
    EXPECT_EQ(dead.signal, SIGKILL);
    q.send("only one").value();
    EXPECT_CHILD_OK(survivor.wait_for(10s));
    EXPECT_EQ(q.attributes()->current_messages, 0);  // exactly one message, consumed once
}

TEST(PosixMqProcesses, NotifyBySignalReachesTheRegisteredProcess) {
    const auto name = fresh_name();
    auto q = PosixMq::create(name).value();
    test::ReadyPipe ready;
    const pid_t parent = ::getpid();
    auto listener = test::ForkedChild::spawn([&] {
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGUSR2);
        CHILD_CHECK(::sigprocmask(SIG_BLOCK, &set, nullptr) == 0);
        auto in = PosixMq::open(name, Access::ReadOnly);
        CHILD_CHECK(in);
        CHILD_CHECK(in->notify_by_signal(SIGUSR2, 7));
        ready.signal();
        siginfo_t info{};
        const timespec ts{10, 0};
        CHILD_CHECK(::sigtimedwait(&set, &info, &ts) == SIGUSR2);
        CHILD_CHECK(info.si_code == SI_MESGQ);
        CHILD_CHECK(info.si_value.sival_int == 7);
        CHILD_CHECK(info.si_pid == parent);  // the sender
        auto m = in->try_receive();
        CHILD_CHECK(m && m->has_value() && (*m)->text() == "news");
        return 0;
    });
    ASSERT_TRUE(ready.wait(10s));
    q.send("news").value();
    EXPECT_CHILD_OK(listener.wait_for(10s));
}

TEST(PosixMqProcesses, OnlyOneRegistrantAndItsDeathFreesTheSlot) {
    const auto name = fresh_name();
    auto q = PosixMq::create(name).value();
    test::ReadyPipe ready;
    auto registrant = test::ForkedChild::spawn([&] {
        auto in = PosixMq::open(name, Access::ReadOnly);
        CHILD_CHECK(in);
        CHILD_CHECK(in->notify_by_signal(SIGUSR2));
        ready.signal();
        ::pause();
        return 0;
    });
    ASSERT_TRUE(ready.wait(10s));
    auto busy = q.notify_by_thread([] {});
    ASSERT_FALSE(busy);
    EXPECT_EQ(busy.error(), std::errc::device_or_resource_busy);
    EXPECT_NE(busy.error().message().find("already has a notification registrant"),
              std::string::npos)
        << busy.error().message();
    registrant.kill(SIGKILL);
    EXPECT_EQ(registrant.wait_for(10s).signal, SIGKILL);
    // B35: the dead process's registration went with its descriptors.
    EXPECT_TRUE(q.notify_by_signal(SIGUSR2)) << "registration of the killed process survived";
    q.cancel_notification().value();
}

TEST(PosixMqProcesses, NoNotificationWhenABlockedReceiverTakesTheMessage) {
    const auto name = fresh_name();
    auto q = PosixMq::create(name).value();
    std::atomic<int> fired{0};
    q.notify_by_thread([&] { fired.fetch_add(1); }).value();
    auto consumer = test::ForkedChild::spawn([&] {
        auto in = PosixMq::open(name, Access::ReadOnly);
        CHILD_CHECK(in);
        auto m = in->receive();
        CHILD_CHECK(m && m->text() == "taken");
        return 0;
    });
    ASSERT_TRUE(test::wait_until_blocked_in(consumer.pid(), SYS_mq_timedreceive, 10s));
    q.send("taken").value();
    EXPECT_CHILD_OK(consumer.wait_for(10s));
    // The registration is still in place (firing would have removed it): a second one is busy.
    EXPECT_EQ(q.notify_by_signal(SIGUSR2).error(), std::errc::device_or_resource_busy);
    q.cancel_notification().value();
    EXPECT_EQ(fired.load(), 0);
}

TEST(PosixMqProcesses, PermissionDeniedNamesTheQueue) {
    const auto name = fresh_name();
    auto q = PosixMq::create(name, {}, Permissions(0600)).value();
    auto stranger = test::ForkedChild::spawn([&] {
        CHILD_CHECK(test::drop_to_nobody());
        auto r = PosixMq::open(name, Access::ReadOnly);
        CHILD_CHECK(!r);
        CHILD_CHECK(r.error() == std::errc::permission_denied);
        CHILD_CHECK(r.error().message() == "mq_open " + name.str() + ": Permission denied");
        return 0;
    });
    EXPECT_CHILD_OK(stranger.wait_for(10s));
}

TEST(PosixMqProcesses, RlimitMsgqueueIsNamedInsteadOfTooManyOpenFiles) {
    const auto name = fresh_name();
    auto child = test::ForkedChild::spawn([&] {
        const rlimit tiny{1024, 1024};
        CHILD_CHECK(::setrlimit(RLIMIT_MSGQUEUE, &tiny) == 0);
        auto r = PosixMq::create(name, {.max_messages = 10, .max_message_size = 8192});
        if (r) {
            return test::kChildSkip;  // CAP_SYS_RESOURCE: the limit does not apply
        }
        CHILD_CHECK(r.error() == std::errc::too_many_files_open);  // F2: the kernel's EMFILE
        CHILD_CHECK(r.error().detail().find("RLIMIT_MSGQUEUE (1024 bytes") != std::string::npos);
        CHILD_CHECK(r.error().detail().find("ulimit -q") != std::string::npos);
        return 0;
    });
    const auto result = child.wait_for(10s);
    if (result.exited && result.exit_code == test::kChildSkip) {
        GTEST_SKIP() << "RLIMIT_MSGQUEUE not enforced for this process";
    }
    EXPECT_CHILD_OK(result);
}

bool write_sysctl(const char* path, const std::string& value) {
    std::ofstream out(path);
    out << value;
    out.flush();
    return static_cast<bool>(out);
}

// B18: the fs.mqueue sysctls are per IPC namespace, so a child in a private one can lower them
// without disturbing anything else on the host.
TEST(PosixMqProcesses, SysctlLimitsAreNamedWithTheirValues) {
    auto child = test::ForkedChild::spawn([] {
        if (::unshare(CLONE_NEWIPC) != 0) {
            return test::kChildSkip;
        }
        if (!write_sysctl("/proc/sys/fs/mqueue/msg_max", "5") ||
            !write_sysctl("/proc/sys/fs/mqueue/msgsize_max", "1024")) {
            return test::kChildSkip;
        }
        auto name = PosixName::make("/ipckit-test-in-private-ns").value();
        auto r = PosixMq::create(name, {.max_messages = 6, .max_message_size = 64});
        CHILD_CHECK(!r && r.error() == std::errc::invalid_argument);
        CHILD_CHECK(
            r.error().detail() ==
            "maxmsg 6 > /proc/sys/fs/mqueue/msg_max=5; raise with sysctl fs.mqueue.msg_max");
        r = PosixMq::create(name, {.max_messages = 5, .max_message_size = 2048});
        CHILD_CHECK(!r && r.error() == std::errc::invalid_argument);
        CHILD_CHECK(
            r.error().detail().find("msgsize 2048 > /proc/sys/fs/mqueue/msgsize_max=1024") !=
            std::string::npos);
        if (!write_sysctl("/proc/sys/fs/mqueue/queues_max", "0")) {
            return test::kChildSkip;
        }
        r = PosixMq::create(name, {.max_messages = 5, .max_message_size = 64});
        CHILD_CHECK(!r && r.error() == std::errc::no_space_on_device);
        CHILD_CHECK(r.error().detail().find("queues_max (0) reached") != std::string::npos);
        CHILD_CHECK(r.error().detail().find("sysctl fs.mqueue.queues_max") != std::string::npos);
        return 0;  // the namespace and anything in it vanish with this process
    });
    const auto result = child.wait_for(10s);
    if (result.exited && result.exit_code == test::kChildSkip) {
        GTEST_SKIP() << "needs CAP_SYS_ADMIN for unshare(CLONE_NEWIPC) and writable sysctls";
    }
    EXPECT_CHILD_OK(result);
}

}  // namespace
}  // namespace ipckit
