// SPDX-License-Identifier: MIT
// SysV message queues between processes: typed exchange, the request/reply helper with several
// clients, EIDRM under a blocked receiver, a killed receiver, permissions and kernel.msgmni.
#include "forked_child.hpp"
#include "ipc_registry.hpp"
#include "ipckit/message/sysv_msg_queue.hpp"
#include "message_test_util.hpp"

#include <signal.h>
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

std::span<const std::byte> bytes(std::string_view s) {
    return std::as_bytes(std::span(s.data(), s.size()));
}

SysvKey fresh_key() {
    return SysvKey::from_number(
               static_cast<unsigned>(test::unique_sysv_key(test::IpcKind::SysvMsg)))
        .value();
}

TEST(SysvMsgQueueProcesses, TypedExchangeBetweenProcesses) {
    const auto key = fresh_key();
    auto q = SysvMsgQueue::create(key).value();
    auto server = test::ForkedChild::spawn([&] {
        auto s = SysvMsgQueue::open(key);
        CHILD_CHECK(s);
        auto m = s->receive(0);
        CHILD_CHECK(m && m->type == 1 && m->text() == "question");
        CHILD_CHECK(s->send(2, "answer"));
        return 0;
    });
    q.send(1, "question").value();
    auto reply = q.receive(2).value();
    EXPECT_EQ(reply.text(), "answer");
    EXPECT_CHILD_OK(server.wait_for(10s));
    auto st = q.stat().value();
    EXPECT_EQ(st.last_send_pid, server.pid());
    EXPECT_EQ(st.last_receive_pid, ::getpid());
}

TEST(SysvMsgQueueProcesses, RequestReplyGivesEveryClientOnlyItsOwnReplies) {
    auto q = SysvMsgQueue::create(SysvKey::private_key()).value();
    test::track_sysv_id(test::IpcKind::SysvMsg, q.id());
    constexpr int kClients = 4;
    constexpr int kRounds = 50;
    auto server = test::ForkedChild::spawn([&] {
        for (int i = 0; i < kClients * kRounds; ++i) {
            auto req = q.receive_request(Deadline::after(10s));
            CHILD_CHECK(req && req->has_value());
            const std::string answer = "re:" + std::string((*req)->text());
            CHILD_CHECK(q.reply((*req)->client, bytes(answer)));
        }
        return 0;
    });
    std::vector<test::ForkedChild> clients;
    for (int c = 0; c < kClients; ++c) {
        clients.push_back(test::ForkedChild::spawn([&q, c] {
            for (int k = 0; k < kRounds; ++k) {
                const std::string ask = "client" + std::to_string(c) + "-" + std::to_string(k);
                auto reply = q.request(bytes(ask), Deadline::after(10s));
                CHILD_CHECK(reply && reply->has_value());
                CHILD_CHECK((*reply)->type == ::getpid());
                CHILD_CHECK((*reply)->text() == "re:" + ask);
            }
            return 0;
        }));
    }
    for (auto& c : clients) {
        EXPECT_CHILD_OK(c.wait_for(20s));
    }
    EXPECT_CHILD_OK(server.wait_for(20s));
    EXPECT_EQ(q.stat()->messages, 0U);
}

TEST(SysvMsgQueueProcesses, RemovingTheQueueWakesABlockedReceiverWithEidrm) {
    auto q = SysvMsgQueue::create(SysvKey::private_key()).value();
    test::track_sysv_id(test::IpcKind::SysvMsg, q.id());
    auto receiver = test::ForkedChild::spawn([&] {
        auto m = q.receive();
        CHILD_CHECK(!m);
        CHILD_CHECK(m.error() == std::errc::identifier_removed);
        CHILD_CHECK(m.error().message().find("msgrcv msqid " + std::to_string(q.id())) == 0);
        CHILD_CHECK(m.error().detail().find("removed while this call was waiting") !=
                    std::string::npos);
        return 0;
    });
    ASSERT_TRUE(test::wait_until_blocked_in(receiver.pid(), SYS_msgrcv, 10s));
    q.remove().value();
    EXPECT_CHILD_OK(receiver.wait_for(10s));
}

TEST(SysvMsgQueueProcesses, RemovingTheQueueWakesABlockedSenderWithEidrm) {
    auto q = SysvMsgQueue::create(SysvKey::private_key()).value();
    test::track_sysv_id(test::IpcKind::SysvMsg, q.id());
    q.set_max_bytes(4).value();
    q.send(1, "full").value();
    auto sender = test::ForkedChild::spawn([&] {
        auto r = q.send(1, "more");
        CHILD_CHECK(!r && r.error() == std::errc::identifier_removed);
        return 0;
    });
    ASSERT_TRUE(test::wait_until_blocked_in(sender.pid(), SYS_msgsnd, 10s));
    q.remove().value();
    EXPECT_CHILD_OK(sender.wait_for(10s));
}

TEST(SysvMsgQueueProcesses, ReceiverKilledWhileBlockedLeavesTheOtherReceiverWorking) {
    auto q = SysvMsgQueue::create(SysvKey::private_key()).value();
    test::track_sysv_id(test::IpcKind::SysvMsg, q.id());
    auto body = [&] {
        auto m = q.receive(7);
        CHILD_CHECK(m && m->text() == "only one");
        return 0;
    };
    auto victim = test::ForkedChild::spawn(body);
    auto survivor = test::ForkedChild::spawn(body);
    ASSERT_TRUE(test::wait_until_blocked_in(victim.pid(), SYS_msgrcv, 10s));
    ASSERT_TRUE(test::wait_until_blocked_in(survivor.pid(), SYS_msgrcv, 10s));
    victim.kill(SIGKILL);
    EXPECT_EQ(victim.wait_for(10s).signal, SIGKILL);
    q.send(7, "only one").value();
    EXPECT_CHILD_OK(survivor.wait_for(10s));
    EXPECT_EQ(q.stat()->messages, 0U);
}

TEST(SysvMsgQueueProcesses, PermissionDeniedNamesTheKey) {
    const auto key = fresh_key();
    auto q = SysvMsgQueue::create(key, Permissions(0600)).value();
    auto stranger = test::ForkedChild::spawn([&] {
        CHILD_CHECK(test::drop_to_nobody());
        auto r = SysvMsgQueue::open(key);
        CHILD_CHECK(!r && r.error() == std::errc::permission_denied);
        CHILD_CHECK(r.error().message() == "msgget key " + key.to_string() + ": Permission denied");
        auto by_id = SysvMsgQueue::from_id(q.id());
        CHILD_CHECK(!by_id && by_id.error() == std::errc::permission_denied);
        return 0;
    });
    EXPECT_CHILD_OK(stranger.wait_for(10s));
}

TEST(SysvMsgQueueProcesses, MsgmniExhaustionNamesTheSysctl) {
    auto child = test::ForkedChild::spawn([] {
        if (::unshare(CLONE_NEWIPC) != 0) {
            return test::kChildSkip;
        }
        std::ofstream("/proc/sys/kernel/msgmni") << 0;
        auto r = SysvMsgQueue::create(SysvKey::private_key());
        if (r) {
            return test::kChildSkip;
        }
        CHILD_CHECK(r.error() == std::errc::no_space_on_device);
        CHILD_CHECK(r.error().detail().find("/proc/sys/kernel/msgmni=0") != std::string::npos);
        CHILD_CHECK(r.error().detail().find("sysctl kernel.msgmni") != std::string::npos);
        return 0;
    });
    const auto result = child.wait_for(10s);
    if (result.exited && result.exit_code == test::kChildSkip) {
        GTEST_SKIP() << "needs unshare(CLONE_NEWIPC) and a writable kernel.msgmni";
    }
    EXPECT_CHILD_OK(result);
}

}  // namespace
}  // namespace ipckit
