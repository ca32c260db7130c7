// SPDX-License-Identifier: MIT
// C06: SysV typed request/reply under load. 32 clients, each a separate process, send requests
// carrying their pid; the server replies with type = client pid. Every client must get only its
// own replies; a client killed mid-round leaves at most its own reply behind.
#include "forked_child.hpp"
#include "ipc_registry.hpp"
#include "ipckit/message/sysv_msg_queue.hpp"

#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace ipckit {
namespace {

using namespace std::chrono_literals;

std::span<const std::byte> bytes(std::string_view s) {
    return std::as_bytes(std::span(s.data(), s.size()));
}

constexpr int kClients = 32;
constexpr int kRounds = 10000;

test::ForkedChild spawn_server(SysvMsgQueue q, int requests) {
    return test::ForkedChild::spawn([q, requests]() mutable {
        for (int i = 0; i < requests; ++i) {
            auto req = q.receive_request(Deadline::after(60s));
            CHILD_CHECK(req && req->has_value());
            const std::string answer = "re:" + std::string((*req)->text());
            CHILD_CHECK(q.reply((*req)->client, bytes(answer)));
        }
        return 0;
    });
}

TEST(SysvRequestReplyLoad, ThirtyTwoClientsOnlyEverSeeTheirOwnReplies) {
    auto q = SysvMsgQueue::create(SysvKey::private_key()).value();
    test::track_sysv_id(test::IpcKind::SysvMsg, q.id());
    auto server = spawn_server(q, kClients * kRounds);
    std::vector<test::ForkedChild> clients;
    for (int c = 0; c < kClients; ++c) {
        clients.push_back(test::ForkedChild::spawn([q, c]() mutable {
            for (int k = 0; k < kRounds; ++k) {
                const std::string ask = std::to_string(c) + ":" + std::to_string(k);
                auto reply = q.request(bytes(ask), Deadline::after(60s));
                CHILD_CHECK(reply && reply->has_value());
                CHILD_CHECK((*reply)->type == ::getpid());
                CHILD_CHECK((*reply)->text() == "re:" + ask);
            }
            return 0;
        }));
    }
    for (auto& c : clients) {
        EXPECT_CHILD_OK(c.wait_for(300s));
    }
    EXPECT_CHILD_OK(server.wait_for(60s));
    EXPECT_EQ(q.stat()->messages, 0U);
}

TEST(SysvRequestReplyLoad, KilledClientLeavesAtMostItsOwnReply) {
    auto q = SysvMsgQueue::create(SysvKey::private_key()).value();
    test::track_sysv_id(test::IpcKind::SysvMsg, q.id());
    // The victim sends its request (with its pid) and is killed while waiting for the answer.
    auto victim = test::ForkedChild::spawn([q]() mutable {
        (void)q.request(bytes(""), Deadline::never());
        return 0;
    });
    ASSERT_TRUE(test::wait_until_blocked_in(victim.pid(), SYS_msgrcv, 10s));
    const pid_t victim_pid = victim.pid();
    victim.kill(SIGKILL);
    EXPECT_EQ(victim.wait_for(10s).signal, SIGKILL);
    auto server = spawn_server(q, 1 + 10);
    auto survivor = test::ForkedChild::spawn([q]() mutable {
        for (int k = 0; k < 10; ++k) {
            auto reply = q.request(bytes("alive"), Deadline::after(10s));
            CHILD_CHECK(reply && reply->has_value() && (*reply)->text() == "re:alive");
        }
        return 0;
    });
    EXPECT_CHILD_OK(survivor.wait_for(30s));
    EXPECT_CHILD_OK(server.wait_for(30s));
    auto st = q.stat().value();
    EXPECT_EQ(st.messages, 1U);  // the dead client's reply, nothing else
    auto orphan = q.try_receive(victim_pid).value();
    ASSERT_TRUE(orphan.has_value());
    EXPECT_EQ(orphan->text(), "re:");
}

}  // namespace
}  // namespace ipckit
