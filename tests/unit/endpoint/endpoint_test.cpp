// SPDX-License-Identifier: MIT
// Endpoint: one send/receive interface over the message schemes (single process: both ends).
#include "ipckit/endpoint/endpoint.hpp"

#include "ipc_registry.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace ipckit {
namespace {

using namespace std::chrono_literals;
using test::IpcKind;

std::span<const std::byte> bytes(std::string_view s) {
    return std::as_bytes(std::span(s.data(), s.size()));
}
std::string text(const EndpointMessage& m) {
    return {reinterpret_cast<const char*>(m.data.data()), m.data.size()};  // NOLINT
}
EndpointOptions create_opts() {
    EndpointOptions o;
    o.create = true;
    return o;
}
EndpointOptions deadline_opts(std::chrono::seconds s) {
    EndpointOptions o;
    o.deadline = Deadline::after(s);
    return o;
}
SendOptions prio(unsigned p) {
    SendOptions o;
    o.priority = p;
    return o;
}
SendOptions type(long t) {
    SendOptions o;
    o.type = t;
    return o;
}
Uri parse(const std::string& s) {
    auto u = Uri::parse(s);
    EXPECT_TRUE(u) << s << ": " << (u ? "" : u.error().message());
    return *u;
}

TEST(Endpoint, MqPriorityZeroLengthTimeoutAndSize) {
    const Uri uri = parse("mq:" + test::unique_mq_name("ep") + "?msgsize=32&maxmsg=4&prio=2");
    auto tx = Endpoint::open(uri, EndpointRole::Sender, create_opts());
    ASSERT_TRUE(tx) << tx.error().message();
    auto rx = Endpoint::open(uri, EndpointRole::Receiver);
    ASSERT_TRUE(rx) << rx.error().message();
    ASSERT_TRUE(tx->send(bytes("low")));        // ?prio=2
    ASSERT_TRUE(tx->send(bytes(""), prio(7)));  // A05, higher priority first
    auto m = rx->receive(Deadline::now());
    ASSERT_TRUE(m && *m);
    EXPECT_EQ((*m)->data.size(), 0U);
    EXPECT_EQ((*m)->priority, 7U);
    m = rx->receive(Deadline::now());
    ASSERT_TRUE(m && *m);
    EXPECT_EQ(text(**m), "low");
    EXPECT_EQ((*m)->priority, 2U);
    m = rx->receive(Deadline::now());
    ASSERT_TRUE(m);
    EXPECT_FALSE(*m);  // nothing: an ordinary outcome, not an error
    auto big = tx->send(bytes(std::string(33, 'x')));
    ASSERT_FALSE(big);
    EXPECT_EQ(big.error().code(), std::errc::message_size);
    EXPECT_EQ(tx->max_message_size(), 32U);
}

TEST(Endpoint, MissingMqIsAnError) {
    auto e = Endpoint::open(parse("mq:/ipckit-ep-missing-queue"), EndpointRole::Receiver);
    ASSERT_FALSE(e);
    EXPECT_EQ(e.error().code(), std::errc::no_such_file_or_directory);
}

TEST(Endpoint, SysvPrivateAndKeyTypes) {
    auto priv = Endpoint::open(parse("sysvmq:private?create"), EndpointRole::Sender);
    ASSERT_TRUE(priv) << priv.error().message();
    test::track_sysv_id(IpcKind::SysvMsg, priv->sysv_id());
    EXPECT_FALSE(Endpoint::open(parse("sysvmq:private"), EndpointRole::Sender));  // needs create

    char key[40];
    std::snprintf(key,
                  sizeof key,
                  "sysvmq:0x%08x",
                  static_cast<unsigned>(test::unique_sysv_key(IpcKind::SysvMsg)));
    auto tx =
        Endpoint::open(parse(std::string(key) + "?type=4"), EndpointRole::Sender, create_opts());
    ASSERT_TRUE(tx) << tx.error().message();
    ASSERT_TRUE(tx->send(bytes("four")));
    ASSERT_TRUE(tx->send(bytes(""), type(2)));
    auto bad = tx->send(bytes("x"), type(0));
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code(), std::errc::invalid_argument);
    auto rx = Endpoint::open(parse(std::string(key) + "?type=-3"), EndpointRole::Receiver);
    ASSERT_TRUE(rx);
    auto m = rx->receive(Deadline::now());
    ASSERT_TRUE(m && *m);
    EXPECT_EQ((*m)->type, 2);
    EXPECT_TRUE((*m)->data.empty());
    m = rx->receive(Deadline::now());
    ASSERT_TRUE(m);
    EXPECT_FALSE(*m);  // "four" has type 4 > 3
}

void stream_round_trip(const std::string& uri_text) {
    const Uri uri = parse(uri_text);
    auto rx = Endpoint::open(uri, EndpointRole::Receiver);
    ASSERT_TRUE(rx) << rx.error().message();
    {
        auto tx = Endpoint::open(uri, EndpointRole::Sender, deadline_opts(5s));
        ASSERT_TRUE(tx) << tx.error().message();
        ASSERT_TRUE(tx->send(bytes("one")));
        ASSERT_TRUE(tx->send(bytes("")));
        auto wrong = rx->send(bytes("x"));
        EXPECT_FALSE(wrong);  // a receiving endpoint does not send
    }                         // the sender closes right after an empty message
    auto m = rx->receive(Deadline::after(5s));
    ASSERT_TRUE(m && *m) << (m ? "timeout" : m.error().message());
    EXPECT_EQ(text(**m), "one");
    m = rx->receive(Deadline::after(5s));
    ASSERT_TRUE(m && *m) << (m ? "timeout" : m.error().message());
    EXPECT_TRUE((*m)->data.empty());  // A05: not mistaken for end of stream
    if (uri.get_if<UnixUri>() != nullptr) {
        ASSERT_TRUE((*m)->credentials);
        EXPECT_EQ((*m)->credentials->pid, ::getpid());
    }
    m = rx->receive(Deadline::after(50ms));
    ASSERT_TRUE(m) << m.error().message();
    EXPECT_FALSE(*m);  // peer gone: the server waits for the next one
}

TEST(Endpoint, UnixStreamSeqpacketDgramFifo) {
    stream_round_trip("unix:" + test::unique_path("eps"));
    stream_round_trip("unix-seqpacket:" + test::unique_path("epq"));
    stream_round_trip("unix-dgram:" + test::unique_path("epd"));
    stream_round_trip("unix:@ipckit-ep-" + std::to_string(::getpid()));
    stream_round_trip("fifo:" + test::unique_path("epf") + "?create");
    stream_round_trip("fifo:" + test::unique_path("epr") + "?create&raw");
}

TEST(Endpoint, RawRefusesNewlineInMessage) {
    const Uri uri = parse("unix:" + test::unique_path("epraw") + "?raw");
    auto rx = Endpoint::open(uri, EndpointRole::Receiver);
    ASSERT_TRUE(rx);
    auto tx = Endpoint::open(uri, EndpointRole::Sender);
    ASSERT_TRUE(tx);
    auto r = tx->send(bytes("a\nb"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), std::errc::invalid_argument);
}

TEST(Endpoint, ChanAndNonMessageSchemes) {
    const std::string dir = test::unique_path("epchan");
    ASSERT_EQ(::mkdir(dir.c_str(), 0700), 0);
    auto chan = Endpoint::open(parse("chan:jobs?dir=" + dir), EndpointRole::Sender);
    ASSERT_FALSE(chan);  // missing and no create
    EXPECT_EQ(chan.error().code(), std::errc::no_such_file_or_directory);
    {
        EndpointOptions create;
        create.create = true;
        auto rx = Endpoint::open(parse("chan:jobs?dir=" + dir + "&msgsize=128"),
                                 EndpointRole::Receiver, create);
        ASSERT_TRUE(rx) << rx.error().message();
        EXPECT_EQ(rx->max_message_size(), 128U);
        auto tx = Endpoint::open(parse("chan:jobs?dir=" + dir), EndpointRole::Sender);
        ASSERT_TRUE(tx) << tx.error().message();
        ASSERT_TRUE(tx->send({}));  // zero-length (A05)
        ASSERT_TRUE(tx->send(bytes("hi")));
        auto too_big = tx->send(std::vector<std::byte>(129));
        ASSERT_FALSE(too_big);
        EXPECT_EQ(too_big.error().code(), std::errc::message_size);
        auto m = rx->receive(Deadline::after(std::chrono::seconds(5)));
        ASSERT_TRUE(m && *m);
        EXPECT_TRUE((*m)->data.empty());
        EXPECT_EQ((*m)->lost.value_or(99), 0U);
        m = rx->receive(Deadline::after(std::chrono::seconds(5)));
        ASSERT_TRUE(m && *m);
        EXPECT_EQ(std::string(reinterpret_cast<const char*>((*m)->data.data()),  // NOLINT
                              (*m)->data.size()),
                  "hi");
        m = rx->receive(Deadline::now());
        ASSERT_TRUE(m);
        EXPECT_FALSE(*m);
        EXPECT_FALSE(rx->send(bytes("x")));  // a subscriber cannot publish
    }
    std::filesystem::remove_all(dir);
    auto shm = Endpoint::open(parse("shm:/x"), EndpointRole::Sender);
    ASSERT_FALSE(shm);
    EXPECT_EQ(shm.error().code(), std::errc::invalid_argument);
}

}  // namespace
}  // namespace ipckit
