// SPDX-License-Identifier: MIT
// FifoClient matches replies to requests by seq: a timed-out call's late reply is not the next
// call's answer, a reply cut by a timeout is finished and dropped by the next call, and a
// garbage reply header from the server is errc::bad_message, neither a crash nor a hang.
// The parent is the server (FifoServer, or frames written by hand to the client's FIFO); the
// child is the client. Ordering comes from TellWait, not sleeps: the only timed parts are the
// client deadlines that make a call time out, and nothing answers those calls in time.
#include <unistd.h>

#include <cstring>
#include <string>

#include <gtest/gtest.h>

#include "forked_child.hpp"
#include "ipc_registry.hpp"
#include "ipckit/stream/fifo.hpp"
#include "ipckit/stream/fifo_client.hpp"
#include "ipckit/stream/fifo_server.hpp"
#include "ipckit/stream/tell_wait.hpp"

namespace ipckit {
namespace {

using namespace std::chrono_literals;

std::string frame_bytes(FifoFrame head, std::string_view body) {
    std::string wire(sizeof head, '\0');
    std::memcpy(wire.data(), &head, sizeof head);
    return wire.append(body);
}

std::string reply_bytes(const FifoRequest& req, std::string_view body) {
    return frame_bytes({FifoFrame::kReplyMagic, req.client, req.seq, static_cast<std::uint32_t>(body.size())},
                       body);
}

// The server's raw write end of a client's reply FIFO (the client holds it open read-write).
PipeWriter raw_reply_writer(const std::string& server_path, pid_t client) {
    auto fifo = Fifo::open(FifoServer::client_fifo_path(server_path, client)).value();
    auto w = fifo.try_open_writer().value();
    EXPECT_TRUE(w.has_value());
    return std::move(*w);
}

FifoRequest must_receive(FifoServer& server) {
    auto req = server.receive(Deadline::after(10s));
    EXPECT_TRUE(req) << req.error().message();
    EXPECT_TRUE(req && req->has_value());
    return req && req->has_value() ? **req : FifoRequest{};
}

TEST(FifoClientSeq, LateRepliesOfTimedOutCallsAreNotTheNextCallsReply) {
    const std::string path = test::unique_path("server");
    auto server = FifoServer::create(path).value();
    auto tw = TellWait::create().value();
    auto client = test::ForkedChild::spawn([&] {
        tw.become_child();
        auto c = FifoClient::connect(path);
        CHILD_CHECK(c);
        // Two calls give up: the server holds their replies back until we say so.
        for (const char* req : {"first", "second"}) {
            auto r = c->call(req, Deadline::after(100ms));
            CHILD_CHECK(!r && r.error() == std::errc::timed_out);
        }
        CHILD_CHECK(tw.tell_parent());
        CHILD_CHECK(tw.wait_parent(Deadline::after(10s)));  // both late replies are in our FIFO
        auto third = c->call("third", Deadline::after(10s));
        CHILD_CHECK(third && *third == "reply to third");
        return 0;
    });
    tw.become_parent();
    const FifoRequest first = must_receive(server);
    const FifoRequest second = must_receive(server);
    ASSERT_TRUE(tw.wait_child(Deadline::after(10s)));  // the client has given up on both
    EXPECT_NE(first.seq, second.seq);
    ASSERT_TRUE(server.reply(first, "reply to " + first.body).value());
    ASSERT_TRUE(server.reply(second, "reply to " + second.body).value());
    ASSERT_TRUE(tw.tell_child());
    const FifoRequest third = must_receive(server);
    EXPECT_EQ(third.body, "third");
    ASSERT_TRUE(server.reply(third, "reply to " + third.body).value());
    EXPECT_CHILD_OK(client.wait_for(10s));
}

// The reply to the client's call "first" is cut after `split` bytes by the call's timeout; the
// rest arrives while the next call is already waiting.
void timeout_in_the_middle_of_a_reply(std::size_t split, const char* expect_in_detail) {
    const std::string path = test::unique_path("server");
    auto server = FifoServer::create(path).value();
    auto tw = TellWait::create().value();
    auto client = test::ForkedChild::spawn([&] {
        tw.become_child();
        auto c = FifoClient::connect(path);
        CHILD_CHECK(c);
        auto warm = c->call("warm-up", Deadline::after(10s));  // shows the server our seq
        CHILD_CHECK(warm && *warm == "ok");
        CHILD_CHECK(tw.wait_parent(Deadline::after(10s)));  // the cut reply is in our FIFO
        auto first = c->call("first", Deadline::after(100ms));
        CHILD_CHECK(!first && first.error() == std::errc::timed_out);
        CHILD_CHECK(first.error().detail().find(expect_in_detail) != std::string::npos);
        CHILD_CHECK(tw.tell_parent());
        auto second = c->call("second", Deadline::after(10s));
        CHILD_CHECK(second && *second == "reply to second");
        return 0;
    });
    tw.become_parent();
    const FifoRequest warm = must_receive(server);
    ASSERT_TRUE(server.reply(warm, "ok").value());
    // The next call will carry warm.seq + 1; its reply is written before the call is made, so
    // the cut is certainly in place when the call's deadline passes.
    FifoRequest first_id = warm;
    first_id.seq = warm.seq + 1;
    const std::string wire = reply_bytes(first_id, "the late reply to first");
    ASSERT_LT(split, wire.size());
    auto raw = raw_reply_writer(path, client.pid());
    ASSERT_TRUE(raw.write_all(wire.substr(0, split)));
    ASSERT_TRUE(tw.tell_child());
    ASSERT_TRUE(tw.wait_child(Deadline::after(10s)));  // "first" timed out mid-frame
    const FifoRequest first = must_receive(server);
    EXPECT_EQ(first.body, "first");
    EXPECT_EQ(first.seq, first_id.seq);
    const FifoRequest second = must_receive(server);  // the client is now reading again
    ASSERT_TRUE(raw.write_all(wire.substr(split)));
    ASSERT_TRUE(server.reply(second, "reply to " + second.body).value());
    EXPECT_CHILD_OK(client.wait_for(10s));
}

TEST(FifoClientSeq, TimeoutInTheMiddleOfAReplyHeaderIsResumedByTheNextCall) {
    timeout_in_the_middle_of_a_reply(5, "received 5 of 16 header bytes");
}

TEST(FifoClientSeq, TimeoutInTheMiddleOfAReplyBodyIsResumedByTheNextCall) {
    timeout_in_the_middle_of_a_reply(FifoFrame::kHeaderSize + 7, "received 7 of 23 reply bytes");
}

TEST(FifoClientSeq, GarbageReplyHeadersAreBadMessageAndTheClientRecovers) {
    const std::string path = test::unique_path("server");
    auto server = FifoServer::create(path).value();
    auto client = test::ForkedChild::spawn([&] {
        auto c = FifoClient::connect(path);
        CHILD_CHECK(c);
        // Deadlines far away: the error must come from the header, not from a timeout.
        auto huge = c->call("huge", Deadline::after(30s));
        CHILD_CHECK(!huge && huge.error() == std::errc::bad_message);
        CHILD_CHECK(huge.error().detail().find("length 4294967295") != std::string::npos);
        auto old = c->call("old magic", Deadline::after(30s));
        CHILD_CHECK(!old && old.error() == std::errc::bad_message);
        auto fine = c->call("fine", Deadline::after(30s));
        CHILD_CHECK(fine && *fine == "reply to fine");
        return 0;
    });
    // Each garbage header comes with trailing junk in the same (atomic) write; the client drops it.
    const FifoRequest huge = must_receive(server);
    auto raw = raw_reply_writer(path, client.pid());  // exists: the client has called
    ASSERT_TRUE(raw.write_all(frame_bytes({FifoFrame::kReplyMagic, huge.client, huge.seq, 0xffffffffU},
                                          std::string(100, 'x'))));
    const FifoRequest old = must_receive(server);
    ASSERT_TRUE(raw.write_all(frame_bytes({0x52464b49U /* version 1 "IKFR" */, old.client, old.seq, 3},
                                          "abcdefgh")));
    const FifoRequest fine = must_receive(server);
    ASSERT_TRUE(server.reply(fine, "reply to " + fine.body).value());
    EXPECT_CHILD_OK(client.wait_for(35s));
}

TEST(FifoClientSeq, AFloodOfRepliesToOtherRequestsIsBounded) {
    const std::string path = test::unique_path("server");
    auto server = FifoServer::create(path).value();
    auto client = test::ForkedChild::spawn([&] {
        auto c = FifoClient::connect(path);
        CHILD_CHECK(c);
        auto r = c->call("hello", Deadline::after(30s));
        CHILD_CHECK(!r && r.error() == std::errc::bad_message);
        CHILD_CHECK(r.error().detail().find("replies to other requests") != std::string::npos);
        return 0;
    });
    const FifoRequest req = must_receive(server);
    FifoRequest other = req;
    std::string flood;
    for (std::size_t i = 0; i <= FifoClient::kMaxDiscardedReplies; ++i) {
        other.seq = req.seq + 1000 + static_cast<std::uint32_t>(i);  // never asked for
        flood += reply_bytes(other, "?");
    }
    auto raw = raw_reply_writer(path, client.pid());
    ASSERT_TRUE(raw.write_all(flood));
    EXPECT_CHILD_OK(client.wait_for(35s));
}

}  // namespace
}  // namespace ipckit
