// SPDX-License-Identifier: MIT
// TCP and UDP over the loopback interface (127.0.0.1 and ::1), ephemeral ports only.
#include "../../multiprocess/socket/socket_test_util.hpp"
#include "ipckit/socket/listener.hpp"
#include "ipckit/socket/socket.hpp"
#include "ipckit/stream/framing.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <array>

#include <gtest/gtest.h>

namespace ipckit {
namespace {

using namespace std::chrono_literals;
using socket_test::bytes_of;
using socket_test::text_of;

class Inet : public ::testing::TestWithParam<AddressFamily> {
protected:
    void SetUp() override {
        if (GetParam() == AddressFamily::Ipv6 && !socket_test::have_ipv6_loopback()) {
            GTEST_SKIP() << "no IPv6 loopback on this host";
        }
    }
    SocketAddress any_port() const {
        return GetParam() == AddressFamily::Ipv4 ? SocketAddress::loopback_v4(0)
                                                 : SocketAddress::loopback_v6(0);
    }
};

TEST_P(Inet, EphemeralPortConnectNoDelayAndGracefulShutdown) {
    auto listener = Listener::bind(any_port());
    ASSERT_TRUE(listener) << listener.error().message();
    const SocketAddress bound = listener->local_address().value();
    ASSERT_NE(bound.port(), 0);
    EXPECT_EQ(listener->name(), bound.to_string());

    auto client = Socket::connect(bound, SocketType::Stream, Deadline::after(5s));
    ASSERT_TRUE(client) << client.error().message();
    ASSERT_TRUE(client->set_no_delay(true));
    int nodelay = 0;
    socklen_t len = sizeof nodelay;
    ASSERT_EQ(::getsockopt(client->native_handle(), IPPROTO_TCP, TCP_NODELAY, &nodelay, &len), 0);
    EXPECT_EQ(nodelay, 1);
    int reuse = 0;
    len = sizeof reuse;
    ASSERT_EQ(::getsockopt(listener->native_handle(), SOL_SOCKET, SO_REUSEADDR, &reuse, &len), 0);
    EXPECT_EQ(reuse, 1);

    auto server = listener->accept(Deadline::after(5s));
    ASSERT_TRUE(server && server->has_value());
    EXPECT_EQ((*server)->peer_address().value(), client->local_address().value());

    // The client says its piece and shuts down its sending side: the server sees EOF yet can
    // still answer on the same connection.
    ASSERT_TRUE(client->send(bytes_of("request"), Deadline::after(5s)));
    ASSERT_TRUE(client->shutdown(ShutdownHow::Write));
    std::string got;
    std::array<std::byte, 64> buf{};
    for (;;) {
        auto n = (*server)->receive(buf, Deadline::after(5s));
        ASSERT_TRUE(n && n->has_value());
        if (**n == 0) {
            break;
        }
        got += text_of(std::span(buf).first(**n));
    }
    EXPECT_EQ(got, "request");
    ASSERT_TRUE((*server)->send(bytes_of("reply"), Deadline::after(5s)));
    ASSERT_TRUE((*server)->close_gracefully(Deadline::after(5s)));  // client already shut down
    auto n = client->receive(buf, Deadline::after(5s));
    ASSERT_TRUE(n && n->has_value());
    EXPECT_EQ(text_of(std::span(buf).first(**n)), "reply");
    auto eof = client->receive(buf, Deadline::after(5s));
    ASSERT_TRUE(eof && eof->has_value());
    EXPECT_EQ(**eof, 0U);
}

TEST_P(Inet, ConnectToAClosedPortIsRefused) {
    // Bind, read the port back, close: nobody listens there now.
    std::uint16_t port = 0;
    {
        auto l = Listener::bind(any_port());
        ASSERT_TRUE(l);
        port = l->local_address().value().port();
    }
    const SocketAddress target = GetParam() == AddressFamily::Ipv4
                                     ? SocketAddress::loopback_v4(port)
                                     : SocketAddress::loopback_v6(port);
    auto c = Socket::connect(target, SocketType::Stream, Deadline::after(5s));
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().code(), std::errc::connection_refused);
    EXPECT_NE(c.error().message().find(target.to_string()), std::string::npos);
}

TEST_P(Inet, AResetIsNamedEconnreset) {
    auto listener = Listener::bind(any_port());
    ASSERT_TRUE(listener);
    auto client =
        Socket::connect(listener->local_address().value(), SocketType::Stream, Deadline::after(5s));
    ASSERT_TRUE(client);
    auto server = listener->accept(Deadline::after(5s));
    ASSERT_TRUE(server && server->has_value());
    ASSERT_TRUE(write_frame(
        client->native_handle(), bytes_of("hello"), FdKind::Socket, Deadline::after(5s), "client"));
    // SO_LINGER 0 makes close() send RST instead of FIN.
    const linger lg{1, 0};
    ASSERT_EQ(::setsockopt((*server)->native_handle(), SOL_SOCKET, SO_LINGER, &lg, sizeof lg), 0);
    server->reset();
    FrameReader reader(client->native_handle(), 1024, client->name());
    auto f = reader.read(Deadline::after(5s));
    ASSERT_FALSE(f);
    EXPECT_EQ(f.error().code(), std::errc::connection_reset);
    EXPECT_EQ(f.error().errno_name(), "ECONNRESET");
    EXPECT_NE(f.error().message().find("Connection reset by peer"), std::string::npos);
}

TEST_P(Inet, UdpSendAndReceiveWithTheSendersAddress) {
    auto server = Socket::bind(any_port(), SocketType::Datagram);
    ASSERT_TRUE(server) << server.error().message();
    auto client = Socket::bind(any_port(), SocketType::Datagram);
    ASSERT_TRUE(client);
    const SocketAddress server_addr = server->local_address().value();
    ASSERT_NE(server_addr.port(), 0);
    ASSERT_TRUE(client->send_to(bytes_of("ping"), server_addr, Deadline::after(5s)));
    std::array<std::byte, 64> buf{};
    auto d = server->receive_from(buf, Deadline::after(5s));
    ASSERT_TRUE(d && d->has_value());
    EXPECT_EQ(text_of(std::span(buf).first((*d)->size)), "ping");
    EXPECT_EQ((*d)->from, client->local_address().value());
    ASSERT_TRUE(server->send_to(bytes_of("pong"), (*d)->from));
    auto n = client->receive(buf, Deadline::after(5s));
    ASSERT_TRUE(n && n->has_value());
    EXPECT_EQ(text_of(std::span(buf).first(**n)), "pong");
}

TEST_P(Inet, UdpTruncationIsReported) {
    auto server = Socket::bind(any_port(), SocketType::Datagram).value();
    auto client = Socket::open(GetParam(), SocketType::Datagram).value();
    ASSERT_TRUE(client.send_to(bytes_of("0123456789abcdef"), server.local_address().value()));
    std::array<std::byte, 8> buf{};
    auto d = server.receive_from(buf, Deadline::after(5s));
    ASSERT_FALSE(d);
    EXPECT_EQ(d.error().code(), std::errc::message_size);
    EXPECT_NE(d.error().message().find("16 bytes did not fit the 8-byte buffer"), std::string::npos)
        << d.error().message();
}

TEST_P(Inet, UdpIcmpErrorIsReportedOnTheNextCall) {
    std::uint16_t port = 0;
    {
        auto gone = Socket::bind(any_port(), SocketType::Datagram);
        ASSERT_TRUE(gone);
        port = gone->local_address().value().port();
    }
    const SocketAddress closed = GetParam() == AddressFamily::Ipv4
                                     ? SocketAddress::loopback_v4(port)
                                     : SocketAddress::loopback_v6(port);
    auto client = Socket::open(GetParam(), SocketType::Datagram).value();
    ASSERT_TRUE(client.connect_to(closed));
    ASSERT_TRUE(client.send(bytes_of("anyone?")));  // accepted locally; the ICMP comes later
    std::array<std::byte, 16> buf{};
    auto n = client.receive(buf, Deadline::after(5s));
    ASSERT_FALSE(n) << "the port-unreachable error was lost";
    EXPECT_EQ(n.error().code(), std::errc::connection_refused);
    EXPECT_NE(n.error().message().find(closed.to_string()), std::string::npos)
        << n.error().message();
}

TEST_P(Inet, TcpConnectGivesUpAtTheDeadline) {
    // A full accept queue makes Linux drop further SYNs, so the handshake cannot finish: the
    // only way out of connect() is the deadline.
    ListenOptions o;
    o.backlog = 0;
    auto listener = Listener::bind(any_port(), SocketType::Stream, o);
    ASSERT_TRUE(listener);
    const SocketAddress target = listener->local_address().value();
    std::vector<Socket> queued;
    for (int i = 0; i < 8; ++i) {
        auto c = Socket::connect(target, SocketType::Stream, Deadline::after(100ms));
        if (!c) {
            EXPECT_EQ(c.error().code(), std::errc::timed_out) << c.error().message();
            EXPECT_NE(c.error().message().find("connect " + target.to_string()), std::string::npos);
            return;
        }
        queued.push_back(std::move(*c));
    }
    GTEST_SKIP() << "this kernel kept accepting with backlog 0";
}

std::string family_name(const ::testing::TestParamInfo<AddressFamily>& p) {
    return p.param == AddressFamily::Ipv4 ? "Ipv4" : "Ipv6";
}

INSTANTIATE_TEST_SUITE_P(Loopback,
                         Inet,
                         ::testing::Values(AddressFamily::Ipv4, AddressFamily::Ipv6),
                         family_name);

}  // namespace
}  // namespace ipckit
