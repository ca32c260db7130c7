// SPDX-License-Identifier: MIT
#include "ipckit/message/sysv_msg_queue.hpp"

#include "bytes.hpp"
#include "ipc_registry.hpp"
#include "sysv_queue_util.hpp"

#include <sys/ipc.h>
#include <sys/msg.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include <gtest/gtest.h>

namespace ipckit {
namespace {

using namespace std::chrono_literals;

using test::as_bytes;

SysvKey fresh_key() {
    return SysvKey::from_number(
               static_cast<unsigned>(test::unique_sysv_key(test::IpcKind::SysvMsg)))
        .value();
}

using test::private_queue;

TEST(SysvMsgQueue, CreateWithNumericKeyThenOpenFindsTheSameQueue) {
    const auto key = fresh_key();
    auto a = SysvMsgQueue::create(key).value();
    auto b = SysvMsgQueue::open(key).value();
    EXPECT_EQ(a.id(), b.id());
    EXPECT_EQ(a.stat()->key, key.value());
    EXPECT_EQ(a.stat()->permissions, Permissions(0600));
}

TEST(SysvMsgQueue, CreateWithFtokKey) {
    const std::string path = test::unique_path("ftok");
    std::ofstream(path) << "x";
    const auto key = SysvKey::from_path(path, 'q').value();
    auto a = SysvMsgQueue::create(key).value();
    test::track_sysv_id(test::IpcKind::SysvMsg, a.id());
    EXPECT_EQ(SysvMsgQueue::open(SysvKey::from_path(path, 'q').value())->id(), a.id());
}

TEST(SysvMsgQueue, PrivateKeyMakesANewQueueEveryTimeAndCannotBeOpenedByKey) {
    auto a = private_queue();
    auto b = private_queue();
    EXPECT_NE(a.id(), b.id());
    auto r = SysvMsgQueue::open(SysvKey::private_key());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), std::errc::invalid_argument);
    EXPECT_EQ(SysvMsgQueue::from_id(a.id())->id(), a.id());
}

TEST(SysvMsgQueue, CreateExclusiveFailsWhenKeyTakenAndOpenOrCreateJoins) {
    const auto key = fresh_key();
    auto a = SysvMsgQueue::create(key).value();
    auto again = SysvMsgQueue::create(key);
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error(), std::errc::file_exists);
    EXPECT_NE(again.error().message().find("msgget key " + key.to_string()), std::string::npos)
        << again.error().message();
    EXPECT_EQ(SysvMsgQueue::open_or_create(key)->id(), a.id());
}

TEST(SysvMsgQueue, OpenMissingKeyIsNoSuchFile) {
    auto r = SysvMsgQueue::open(fresh_key());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), std::errc::no_such_file_or_directory);
}

TEST(SysvMsgQueue, FromUnknownIdSaysNoSuchQueue) {
    auto r = SysvMsgQueue::from_id(999999);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), std::errc::invalid_argument);
    EXPECT_NE(r.error().detail().find("no such queue id 999999"), std::string::npos)
        << r.error().message();
}

TEST(SysvMsgQueue, SendTypeMustBePositive) {
    auto q = private_queue();
    for (long type : {0L, -3L}) {
        auto r = q.send(type, "x");
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error(), std::errc::invalid_argument);
        EXPECT_NE(r.error().detail().find("must be > 0"), std::string::npos) << r.error().message();
    }
    EXPECT_EQ(q.stat()->messages, 0U);
}

TEST(SysvMsgQueue, ReceiveSelectsByType) {
    auto q = private_queue();
    q.send(3, "three").value();
    q.send(2, "two-a").value();
    q.send(1, "one").value();
    q.send(2, "two-b").value();
    q.send(5, "five").value();
    // > 0: the first message of that type.
    EXPECT_EQ(q.receive(2)->text(), "two-a");
    // < 0: the first message of the lowest type <= |type|.
    auto m = q.receive(-3).value();
    EXPECT_EQ(m.type, 1);
    EXPECT_EQ(m.text(), "one");
    // 0: the first message, whatever its type.
    m = q.receive(0).value();
    EXPECT_EQ(m.type, 3);
    EXPECT_EQ(m.text(), "three");
    EXPECT_EQ(q.receive(-4)->text(), "two-b");
    EXPECT_FALSE(q.try_receive(-4).value().has_value());  // only type 5 is left
    EXPECT_EQ(q.try_receive(0).value()->text(), "five");
}

TEST(SysvMsgQueue, TryReceiveOnEmptyQueueIsAnOrdinaryEmptyOutcome) {
    auto q = private_queue();
    auto r = q.try_receive();
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_FALSE(r->has_value());
    auto t = q.receive_for(1, 20ms);
    ASSERT_TRUE(t);
    EXPECT_FALSE(t->has_value());
}

TEST(SysvMsgQueue, ZeroLengthMessageIsDelivered) {
    auto q = private_queue();
    q.send(4, std::span<const std::byte>{}).value();
    auto m = q.receive().value();
    EXPECT_EQ(m.type, 4);
    EXPECT_TRUE(m.data.empty());
}

TEST(SysvMsgQueue, SmallBufferFailsAndLeavesTheMessageQueued) {
    auto q = private_queue();
    q.send(1, "0123456789").value();
    std::array<std::byte, 4> small{};
    auto r = q.receive(small);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), std::errc::argument_list_too_long);
    EXPECT_NE(r.error().detail().find("remains queued"), std::string::npos) << r.error().message();
    EXPECT_EQ(q.stat()->messages, 1U);
    auto t = q.receive(small, 0, SysvMsgQueue::Overflow::Truncate).value();
    EXPECT_EQ(t.size, 4U);
    EXPECT_EQ(std::string_view(reinterpret_cast<const char*>(small.data()), 4), "0123");
    EXPECT_EQ(q.stat()->messages, 0U);
}

TEST(SysvMsgQueue, StatReportsCountsBytesPidsAndTimes) {
    auto q = private_queue();
    const auto before = std::time(nullptr);
    q.send(1, "abc").value();
    q.send(1, "defgh").value();
    auto s = q.stat().value();
    EXPECT_EQ(s.messages, 2U);
    EXPECT_EQ(s.bytes, 8U);
    EXPECT_EQ(s.last_send_pid, ::getpid());
    EXPECT_GE(s.last_send_time, before);
    EXPECT_EQ(s.last_receive_pid, 0);
    EXPECT_EQ(s.uid, ::geteuid());
    EXPECT_EQ(s.creator_uid, ::geteuid());
    (void)q.receive().value();
    s = q.stat().value();
    EXPECT_EQ(s.messages, 1U);
    EXPECT_EQ(s.last_receive_pid, ::getpid());
    EXPECT_GE(s.last_receive_time, before);
}

TEST(SysvMsgQueue, SetPermissionsAndMaxBytes) {
    auto q = private_queue();
    q.set_permissions(Permissions(0640)).value();
    EXPECT_EQ(q.stat()->permissions, Permissions(0640));
    q.set_max_bytes(100).value();
    EXPECT_EQ(q.stat()->max_bytes, 100U);
}

TEST(SysvMsgQueue, RaisingMaxBytesAboveMsgmnbNamesTheSysctl) {
    auto q = private_queue();
    auto r = q.set_max_bytes(std::size_t{1} << 30U);
    if (r) {
        GTEST_SKIP() << "this process has CAP_SYS_RESOURCE; the limit does not apply";
    }
    EXPECT_EQ(r.error(), std::errc::operation_not_permitted);
    EXPECT_NE(r.error().detail().find("/proc/sys/kernel/msgmnb="), std::string::npos)
        << r.error().message();
    EXPECT_NE(r.error().detail().find("sysctl kernel.msgmnb"), std::string::npos);
}

TEST(SysvMsgQueue, MessageLargerThanQbytesFailsInsteadOfBlockingForEver) {
    auto q = private_queue();
    q.set_max_bytes(16).value();
    const std::string big(17, 'b');
    auto r = q.send(1, big);  // the kernel would block until a signal (F7)
    ASSERT_FALSE(r);
    EXPECT_NE(
        r.error().detail().find("message 17 bytes > queue msg_qbytes 16: it can never be sent"),
        std::string::npos)
        << r.error().message();
    auto t = q.try_send(1, as_bytes(big));
    ASSERT_FALSE(t);
    EXPECT_NE(t.error().detail().find("can never be sent"), std::string::npos);
}

TEST(SysvMsgQueue, MessageLargerThanMsgmaxNamesTheSysctl) {
    auto q = private_queue();
    long msgmax = 0;
    std::ifstream("/proc/sys/kernel/msgmax") >> msgmax;
    ASSERT_GT(msgmax, 0);
    auto r = q.send(1, std::string(static_cast<std::size_t>(msgmax) + 1, 'm'));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), std::errc::invalid_argument);
    EXPECT_NE(r.error().detail().find("> /proc/sys/kernel/msgmax=" + std::to_string(msgmax)),
              std::string::npos)
        << r.error().message();
    EXPECT_NE(r.error().detail().find("sysctl kernel.msgmax"), std::string::npos);
}

TEST(SysvMsgQueue, TrySendOnFullQueueReturnsFalse) {
    auto q = private_queue();
    q.set_max_bytes(8).value();
    EXPECT_TRUE(q.try_send(1, as_bytes("12345678")).value());
    EXPECT_FALSE(q.try_send(1, as_bytes("x")).value());
    EXPECT_FALSE(q.send_for(1, as_bytes("x"), 20ms).value());
}

TEST(SysvMsgQueue, RemovedQueueReportsTheIdIsGone) {
    auto q = private_queue();
    q.remove().value();
    auto r = q.send(1, "x");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), std::errc::invalid_argument);
    EXPECT_NE(
        r.error().message().find("msgsnd msqid " + std::to_string(q.id()) + ": Invalid argument"),
        std::string::npos)
        << r.error().message();
    EXPECT_NE(r.error().detail().find("was it removed?"), std::string::npos);
}

TEST(SysvMsgQueue, RequestReplyInOneProcessMatchesByPid) {
    auto q = private_queue();
    // A request and its reply need two parties; here a reply is queued first for our own pid.
    q.reply(::getpid(), as_bytes("pong")).value();
    auto reply = q.request(as_bytes("ping"), Deadline::after(5s)).value();
    ASSERT_TRUE(reply.has_value());
    EXPECT_EQ(reply->text(), "pong");
    auto req = q.receive_request(Deadline::now()).value();
    ASSERT_TRUE(req.has_value());
    EXPECT_EQ(req->client, ::getpid());
    EXPECT_EQ(req->text(), "ping");
}

TEST(SysvMsgQueue, MalformedRequestIsABadMessageNotACrash) {
    auto q = private_queue();
    q.send(SysvMsgQueue::kRequestType, "ab").value();  // shorter than a pid
    auto r = q.receive_request(Deadline::now());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), std::errc::bad_message);
}

}  // namespace
}  // namespace ipckit
