// SPDX-License-Identifier: MIT
// SysvMsgQueue's by-id forms (stat, remove) on real queues: what an administrator (ipckit ls,
// rm) uses for a queue it knows only by id, without a handle or an owner check.
#include "ipc_registry.hpp"
#include "sysv_queue_util.hpp"
#include "ipckit/message/sysv_msg_queue.hpp"

#include <unistd.h>

#include <string_view>

#include <gtest/gtest.h>

namespace ipckit {
namespace {

using test::private_queue;

TEST(SysvMsgQueueById, StatReadsTheQueueTheIdNames) {
    auto q = private_queue();
    ASSERT_TRUE(q.send(1, std::string_view("hello")));

    auto st = SysvMsgQueue::stat(q.id());

    ASSERT_TRUE(st) << st.error().message();
    EXPECT_EQ(st->messages, 1U);
    EXPECT_EQ(st->bytes, 5U);
    EXPECT_EQ(st->last_send_pid, ::getpid());
    EXPECT_EQ(st->max_bytes, q.stat()->max_bytes);
    EXPECT_EQ(st->permissions, Permissions(0600));
}

TEST(SysvMsgQueueById, RemoveRemovesTheQueue) {
    auto q = private_queue();

    ASSERT_TRUE(SysvMsgQueue::remove(q.id()));

    auto st = SysvMsgQueue::stat(q.id());
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error(), std::errc::invalid_argument) << st.error().message();
}

TEST(SysvMsgQueueById, RemoveOfAnIdThatIsGoneFailsWithInvalidArgument) {
    auto q = private_queue();
    ASSERT_TRUE(q.remove());

    auto again = SysvMsgQueue::remove(q.id());

    ASSERT_FALSE(again);
    EXPECT_EQ(again.error(), std::errc::invalid_argument) << again.error().message();
    EXPECT_NE(again.error().object().find(std::to_string(q.id())), std::string::npos)
        << again.error().message();
}

}  // namespace
}  // namespace ipckit
