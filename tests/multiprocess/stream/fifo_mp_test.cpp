// SPDX-License-Identifier: MIT
// FIFOs between processes: blocking open semantics, permission faults, and the client/server
// helper with per-client reply FIFOs, vanished clients and stale FIFO cleanup.
#include "forked_child.hpp"
#include "ipc_registry.hpp"
#include "ipckit/stream/fifo.hpp"
#include "ipckit/stream/fifo_client.hpp"
#include "ipckit/stream/fifo_server.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

namespace ipckit {
namespace {

using namespace std::chrono_literals;

bool exists(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0;
}

TEST(FifoAcrossProcesses, BlockingWriterOpenWaitsForAReader) {
    auto fifo = Fifo::create(test::unique_path("fifo")).value();
    auto writer = test::ForkedChild::spawn([&] {
        auto w = fifo.open_writer();  // blocks in open(2) until the parent opens the read end
        CHILD_CHECK(w);
        CHILD_CHECK(w->write_all("after rendezvous"));
        return 0;
    });
    ASSERT_TRUE(test::wait_until_blocked_in(writer.pid(), SYS_openat, 10s));
    auto r = fifo.open_reader().value();
    EXPECT_EQ(*r.read_to_end(Deadline::after(10s)), "after rendezvous");
    EXPECT_CHILD_OK(writer.wait_for(10s));
}

TEST(FifoAcrossProcesses, BlockingReaderOpenWaitsForAWriter) {
    auto fifo = Fifo::create(test::unique_path("fifo")).value();
    auto reader = test::ForkedChild::spawn([&] {
        auto r = fifo.open_reader();
        CHILD_CHECK(r);
        auto text = r->read_to_end(Deadline::after(10s));
        CHILD_CHECK(text && *text == "ping");
        return 0;
    });
    ASSERT_TRUE(test::wait_until_blocked_in(reader.pid(), SYS_openat, 10s));
    auto w = fifo.open_writer().value();
    ASSERT_TRUE(w.write_all("ping"));
    w.close();
    EXPECT_CHILD_OK(reader.wait_for(10s));
}

TEST(FifoAcrossProcesses, WriterSeesBrokenPipeWhenTheReaderVanishes) {
    auto fifo = Fifo::create(test::unique_path("fifo")).value();
    auto reader = test::ForkedChild::spawn([&] {
        auto r = fifo.open_reader();
        CHILD_CHECK(r);
        return 0;  // exits holding nothing
    });
    auto w = fifo.open_writer().value();
    EXPECT_CHILD_OK(reader.wait_for(10s));
    auto sent = w.write_all("anyone?");
    ASSERT_FALSE(sent);
    EXPECT_EQ(sent.error().code(), std::errc::broken_pipe);
}

TEST(FifoAcrossProcesses, DirectoryWithoutPermissionIsPermissionDenied) {
    if (::geteuid() != 0) {
        GTEST_SKIP() << "needs root to drop to uid 65534";
    }
    const std::string path = test::unique_path("fifo");  // inside the run's 0700 root-owned dir
    auto owner = Fifo::create(path).value();
    auto child = test::ForkedChild::spawn([&] {
        CHILD_CHECK(::setresgid(65534, 65534, 65534) == 0);
        CHILD_CHECK(::setresuid(65534, 65534, 65534) == 0);
        auto made = Fifo::create(path + "-other");
        CHILD_CHECK(!made && made.error() == std::errc::permission_denied);
        auto opened = Fifo::open(path);
        CHILD_CHECK(!opened && opened.error() == std::errc::permission_denied);
        CHILD_CHECK(opened.error().message().find(path) != std::string::npos);
        return 0;
    });
    EXPECT_CHILD_OK(child.wait_for(10s));
}

TEST(FifoClientServer, ServesConcurrentClientsThroughPerClientFifos) {
    const std::string path = test::unique_path("server");
    auto server = FifoServer::create(path).value();
    constexpr int kClients = 4;
    constexpr int kCalls = 5;
    std::vector<test::ForkedChild> clients;
    for (int c = 0; c < kClients; ++c) {
        clients.push_back(test::ForkedChild::spawn([&, c] {
            auto client = FifoClient::connect(path);
            CHILD_CHECK(client);
            for (int i = 0; i < kCalls; ++i) {
                const std::string req = "c" + std::to_string(c) + "-" + std::to_string(i);
                auto reply = client->call(req, Deadline::after(10s));
                CHILD_CHECK(reply &&
                            *reply == "pid " + std::to_string(::getpid()) + " said " + req);
            }
            return 0;
        }));
    }
    for (int served = 0; served < kClients * kCalls; ++served) {
        auto req = server.receive(Deadline::after(10s));
        ASSERT_TRUE(req) << req.error().message();
        ASSERT_TRUE(req->has_value());
        auto ok =
            server.reply(**req, "pid " + std::to_string((*req)->client) + " said " + (*req)->body);
        ASSERT_TRUE(ok) << ok.error().message();
        EXPECT_TRUE(*ok);
    }
    for (auto& c : clients) {
        EXPECT_CHILD_OK(c.wait_for(10s));
        EXPECT_FALSE(exists(FifoServer::client_fifo_path(path, c.pid())));  // each cleaned up
    }
}

TEST(FifoClientServer, ServerSurvivesAClientThatVanishedBeforeItsReply) {
    const std::string path = test::unique_path("server");
    auto server = FifoServer::create(path).value();
    auto client = test::ForkedChild::spawn([&] {
        auto c = FifoClient::connect(path);
        CHILD_CHECK(c);
        // Send a request by hand and die without reading or cleaning up (like a crash).
        auto w = Fifo::open(path)->open_writer();
        const FifoFrame frame{FifoFrame::kRequestMagic, ::getpid(), 0, 3};
        std::string wire(reinterpret_cast<const char*>(&frame), sizeof frame);
        wire += "bye";
        CHILD_CHECK(w->write_all(wire));
        ::_exit(0);
        return 0;
    });
    EXPECT_CHILD_OK(client.wait_for(10s));
    const std::string reply_fifo = FifoServer::client_fifo_path(path, client.pid());
    EXPECT_TRUE(exists(reply_fifo));  // left behind by the crash
    auto req = server.receive(Deadline::after(10s)).value();
    ASSERT_TRUE(req.has_value());
    auto delivered = server.reply(*req, "too late");
    ASSERT_TRUE(delivered) << delivered.error().message();
    EXPECT_FALSE(*delivered);          // ENXIO: nobody reads it
    EXPECT_FALSE(exists(reply_fifo));  // and the stale FIFO is gone
}

TEST(FifoClientServer, ServerSurvivesAClientThatDiesInTheMiddleOfALargeReply) {
    const std::string path = test::unique_path("server");
    auto server = FifoServer::create(path).value();
    auto client = test::ForkedChild::spawn([&] {
        // A client by hand: reply FIFO, one request, then read only the start of the reply.
        auto mine = Fifo::create(FifoServer::client_fifo_path(path, ::getpid()));
        CHILD_CHECK(mine);
        auto replies = mine->open_read_write();
        CHILD_CHECK(replies);
        auto w = Fifo::open(path)->open_writer();
        const FifoFrame frame{FifoFrame::kRequestMagic, ::getpid(), 0, 3};
        std::string wire(reinterpret_cast<const char*>(&frame), sizeof frame);
        wire += "big";
        CHILD_CHECK(w->write_all(wire));
        std::byte some[1000];
        CHILD_CHECK(replies->read_exact(some, Deadline::after(10s)) && true);
        ::_exit(0);  // dies mid-reply, leaving its FIFO behind
        return 0;
    });
    auto req = server.receive(Deadline::after(10s)).value();
    ASSERT_TRUE(req.has_value());
    // 1 MiB: far more than the FIFO holds, so the server is still writing when the client dies.
    // The write meets a FIFO with no reader: EPIPE, never SIGPIPE; the server goes on.
    auto delivered =
        server.reply(*req, std::string(FifoFrame::kMaxReply, 'r'), Deadline::after(10s));
    ASSERT_TRUE(delivered) << delivered.error().message();
    EXPECT_FALSE(*delivered);
    EXPECT_CHILD_OK(client.wait_for(10s));
    EXPECT_FALSE(exists(FifoServer::client_fifo_path(path, client.pid())));
}

TEST(FifoClientServer, StaleClientFifosOfDeadProcessesAreRemoved) {
    const std::string path = test::unique_path("server");
    auto server = FifoServer::create(path).value();
    auto dead = test::ForkedChild::spawn([] { return 0; });
    EXPECT_CHILD_OK(dead.wait_for(10s));  // reaped: its pid no longer exists
    auto stale = Fifo::create(FifoServer::client_fifo_path(path, dead.pid())).value();
    auto alive = Fifo::create(FifoServer::client_fifo_path(path, ::getpid())).value();
    auto removed = server.remove_stale_clients();
    ASSERT_TRUE(removed) << removed.error().message();
    EXPECT_EQ(*removed, 1U);
    EXPECT_FALSE(exists(stale.path()));
    EXPECT_TRUE(exists(alive.path()));
    (void)stale.release();
}

TEST(FifoClientServer, MalformedRequestIsBadMessageAndTheServerGoesOn) {
    const std::string path = test::unique_path("server");
    auto server = FifoServer::create(path).value();
    auto w = Fifo::open(path)->open_writer().value();
    ASSERT_TRUE(w.write_all("garbage that is not a frame"));
    auto bad = server.receive(Deadline::after(10s));
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code(), std::errc::bad_message);
    auto client = test::ForkedChild::spawn([&] {
        auto c = FifoClient::connect(path);
        CHILD_CHECK(c);
        auto r = c->call("ok?", Deadline::after(10s));
        CHILD_CHECK(r && *r == "yes");
        return 0;
    });
    auto req = server.receive(Deadline::after(10s)).value();
    ASSERT_TRUE(req.has_value());
    EXPECT_TRUE(*server.reply(*req, "yes"));
    EXPECT_CHILD_OK(client.wait_for(10s));
}

std::string request_frame(std::uint32_t seq, std::string_view body) {
    const FifoFrame frame{
        FifoFrame::kRequestMagic, ::getpid(), seq, static_cast<std::uint32_t>(body.size())};
    std::string wire(reinterpret_cast<const char*>(&frame), sizeof frame);  // NOLINT: bytes
    return wire.append(body);
}

TEST(FifoClientServer, RequestsQueuedBehindAMalformedOneAreStillServed) {
    const std::string path = test::unique_path("server");
    auto server = FifoServer::create(path).value();
    auto w = Fifo::open(path)->open_writer().value();
    // Garbage holding a torn magic (the first 3 bytes of one), then two good requests, all in
    // the FIFO before the server reads anything.
    const std::string torn_magic = request_frame(0, "").substr(0, 3);
    ASSERT_TRUE(w.write_all("garbage " + torn_magic + " more garbage"));
    ASSERT_TRUE(w.write_all(request_frame(7, "first")));
    ASSERT_TRUE(w.write_all(request_frame(8, "second")));
    auto bad = server.receive(Deadline::after(10s));
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code(), std::errc::bad_message);
    auto first = server.receive(Deadline::after(10s));
    ASSERT_TRUE(first) << first.error().message();
    ASSERT_TRUE(first->has_value());
    EXPECT_EQ((*first)->seq, 7U);
    EXPECT_EQ((*first)->body, "first");
    auto second = server.receive(Deadline::after(10s));
    ASSERT_TRUE(second) << second.error().message();
    ASSERT_TRUE(second->has_value());
    EXPECT_EQ((*second)->seq, 8U);
    EXPECT_EQ((*second)->body, "second");
    EXPECT_FALSE(server.receive(Deadline::now()).value().has_value());  // nothing left over
}

TEST(FifoClientServer, TruncatedRequestsAreBadMessageWithoutWaitingForTheRest) {
    const std::string path = test::unique_path("server");
    auto server = FifoServer::create(path).value();
    auto w = Fifo::open(path)->open_writer().value();
    // Half a header. The server used to wait a second for the rest and fail with timed_out.
    ASSERT_TRUE(w.write_all(request_frame(1, "x").substr(0, 8)));
    auto half_header = server.receive(Deadline::after(10s));
    ASSERT_FALSE(half_header);
    EXPECT_EQ(half_header.error().code(), std::errc::bad_message);
    // A whole header whose body is cut short.
    ASSERT_TRUE(w.write_all(
        request_frame(2, std::string(100, 'b')).substr(0, FifoFrame::kHeaderSize + 10)));
    auto half_body = server.receive(Deadline::after(10s));
    ASSERT_FALSE(half_body);
    EXPECT_EQ(half_body.error().code(), std::errc::bad_message);
    // The server still serves the next good request.
    ASSERT_TRUE(w.write_all(request_frame(3, "fine")));
    auto good = server.receive(Deadline::after(10s));
    ASSERT_TRUE(good) << good.error().message();
    ASSERT_TRUE(good->has_value());
    EXPECT_EQ((*good)->seq, 3U);
    EXPECT_EQ((*good)->body, "fine");
}

TEST(FifoClientServer, ConnectWithoutServerIsNoReader) {
    const std::string path = test::unique_path("server");
    auto lone = Fifo::create(path).value();
    auto c = FifoClient::connect(path);
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().code(), std::errc::no_such_device_or_address);
    EXPECT_FALSE(exists(FifoServer::client_fifo_path(path, ::getpid())));
    auto oversize = std::string(FifoFrame::kMaxRequest + 1, 'q');
    auto server = FifoServer::create(test::unique_path("server")).value();
    auto c2 = FifoClient::connect(server.path()).value();
    auto r = c2.call(oversize);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), std::errc::message_size);
}

}  // namespace
}  // namespace ipckit
