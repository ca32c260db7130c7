// SPDX-License-Identifier: MIT
// Unix-domain sockets in one process: addresses, listen/accept/connect, message boundaries,
// truncation, stale socket files, descriptor passing and credentials.
#include "../../multiprocess/socket/socket_test_util.hpp"
#include "ipc_registry.hpp"
#include "ipckit/socket/listener.hpp"
#include "ipckit/socket/socket.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <optional>

#include <gtest/gtest.h>

namespace ipckit {
namespace {

using namespace std::chrono_literals;
using socket_test::bytes_of;
using socket_test::text_of;

// Leaves a socket file with nobody behind it, as a crashed server would.
void make_stale_socket(const std::string& path, int type = SOCK_STREAM) {
    const int fd = ::socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
    ASSERT_GE(fd, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    ASSERT_LT(path.size(), sizeof a.sun_path);
    std::copy(path.begin(), path.end(), a.sun_path);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);  // NOLINT: sockaddr API
    ::close(fd);
    ASSERT_TRUE(socket_test::path_exists(path));
}

TEST(UnixSocket, StreamListenAcceptConnectAndTheFileIsRemovedAfterwards) {
    const std::string path = test::unique_path("stream.sock");
    {
        auto addr = SocketAddress::unix_domain(path).value();
        auto listener = Listener::bind(addr);
        ASSERT_TRUE(listener) << listener.error().message();
        auto client = Socket::connect(addr, SocketType::Stream, Deadline::after(5s));
        ASSERT_TRUE(client) << client.error().message();
        auto server = listener->accept(Deadline::after(5s));
        ASSERT_TRUE(server && server->has_value());
        ASSERT_TRUE(client->send(bytes_of("ping"), Deadline::after(5s)));
        std::array<std::byte, 16> buf{};
        auto n = (*server)->receive(buf, Deadline::after(5s));
        ASSERT_TRUE(n && n->has_value());
        EXPECT_EQ(text_of(std::span(buf).first(**n)), "ping");
        EXPECT_TRUE(socket_test::is_cloexec(client->native_handle()));
        EXPECT_TRUE(socket_test::is_cloexec((*server)->native_handle()));
        EXPECT_TRUE(socket_test::is_cloexec(listener->native_handle()));
        EXPECT_EQ(listener->local_address().value().path(), path);
    }
    EXPECT_FALSE(socket_test::path_exists(path));
}

TEST(UnixSocket, AbstractNamesNeedNoFile) {
    const std::string name = "@" + test::unique_path("abstract");
    auto addr = SocketAddress::unix_domain(name).value();
    auto listener = Listener::bind(addr, SocketType::SeqPacket);
    ASSERT_TRUE(listener) << listener.error().message();
    EXPECT_FALSE(socket_test::path_exists(name.substr(1)));
    auto client = Socket::connect(addr, SocketType::SeqPacket, Deadline::after(5s));
    ASSERT_TRUE(client) << client.error().message();
    auto server = listener->accept(Deadline::after(5s));
    ASSERT_TRUE(server && server->has_value());
    EXPECT_EQ(listener->local_address().value().to_string(), name);
}

TEST(UnixSocket, AcceptTimesOutAsAnOrdinaryOutcome) {
    auto listener =
        Listener::bind(SocketAddress::unix_domain(test::unique_path("idle.sock")).value());
    ASSERT_TRUE(listener);
    auto c = listener->accept(Deadline::after(20ms));
    ASSERT_TRUE(c) << c.error().message();
    EXPECT_FALSE(c->has_value());
    auto t = listener->try_accept();
    ASSERT_TRUE(t);
    EXPECT_FALSE(t->has_value());
}

TEST(UnixSocket, ConnectWithNobodyListeningIsRefusedAndNamesThePath) {
    const std::string path = test::unique_path("dead.sock");
    make_stale_socket(path);
    auto c = Socket::connect(
        SocketAddress::unix_domain(path).value(), SocketType::Stream, Deadline::after(5s));
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().code(), std::errc::connection_refused);
    EXPECT_EQ(c.error().errno_name(), "ECONNREFUSED");
    EXPECT_NE(c.error().message().find("connect " + path), std::string::npos)
        << c.error().message();
    EXPECT_NE(c.error().message().find("nobody is listening"), std::string::npos);
    ::unlink(path.c_str());
}

TEST(UnixSocket, ConnectToAMissingPathSaysSo) {
    const std::string path = test::unique_path("missing.sock");
    auto c = Socket::connect(SocketAddress::unix_domain(path).value(), SocketType::Stream);
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().code(), std::errc::no_such_file_or_directory);
    EXPECT_NE(c.error().message().find(path), std::string::npos);
}

TEST(UnixSocket, BindOverAnExistingNonSocketFileIsRefusedAndTheFileKept) {
    const std::string path = test::unique_path("regular");
    const int fd = ::open(path.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::write(fd, "keep", 4), 4);
    ::close(fd);
    auto l = Listener::bind(SocketAddress::unix_domain(path).value());
    ASSERT_FALSE(l);
    EXPECT_EQ(l.error().code(), std::errc::address_in_use);
    EXPECT_NE(l.error().message().find("not a socket"), std::string::npos) << l.error().message();
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_TRUE(S_ISREG(st.st_mode));
    EXPECT_EQ(st.st_size, 4);
    ::unlink(path.c_str());
}

TEST(UnixSocket, BindReplacesAStaleSocketFileOfOurOwn) {
    const std::string path = test::unique_path("stale.sock");
    make_stale_socket(path);
    auto l = Listener::bind(SocketAddress::unix_domain(path).value());
    ASSERT_TRUE(l) << l.error().message();
    auto c = Socket::connect(
        SocketAddress::unix_domain(path).value(), SocketType::Stream, Deadline::after(5s));
    EXPECT_TRUE(c) << c.error().message();
}

TEST(UnixSocket, BindNeverTakesOverALiveServersPath) {
    const std::string path = test::unique_path("live.sock");
    auto addr = SocketAddress::unix_domain(path).value();
    auto first = Listener::bind(addr);
    ASSERT_TRUE(first);
    auto second = Listener::bind(addr);
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error().code(), std::errc::address_in_use);
    EXPECT_NE(second.error().message().find("a server is listening"), std::string::npos);
    // The first server still works.
    EXPECT_TRUE(Socket::connect(addr, SocketType::Stream, Deadline::after(5s)));
}

TEST(UnixSocket, StaleRemovalCanBeTurnedOff) {
    const std::string path = test::unique_path("nostale.sock");
    make_stale_socket(path);
    ListenOptions o;
    o.remove_stale_socket = false;
    auto l = Listener::bind(SocketAddress::unix_domain(path).value(), SocketType::Stream, o);
    ASSERT_FALSE(l);
    EXPECT_EQ(l.error().code(), std::errc::address_in_use);
    EXPECT_TRUE(socket_test::path_exists(path));
    ::unlink(path.c_str());
}

TEST(UnixSocket, DatagramBoundariesArePreserved) {
    auto [a, b] = Socket::pair(SocketType::Datagram).value();
    ASSERT_TRUE(a.send(bytes_of("one")));
    ASSERT_TRUE(a.send(bytes_of("")));
    ASSERT_TRUE(a.send(bytes_of("three33")));
    std::array<std::byte, 64> buf{};
    for (std::string_view expected : {"one", "", "three33"}) {
        auto n = b.receive(buf, Deadline::after(5s));
        ASSERT_TRUE(n && n->has_value());
        EXPECT_EQ(text_of(std::span(buf).first(**n)), expected);
    }
}

TEST(UnixSocket, SeqPacketBoundariesArePreserved) {
    auto [a, b] = Socket::pair(SocketType::SeqPacket).value();
    ASSERT_TRUE(a.send(bytes_of("alpha")));
    ASSERT_TRUE(a.send(bytes_of("be")));
    std::array<std::byte, 64> buf{};
    auto n1 = b.receive(buf, Deadline::after(5s));
    ASSERT_TRUE(n1 && n1->has_value());
    EXPECT_EQ(text_of(std::span(buf).first(**n1)), "alpha");
    auto n2 = b.receive(buf, Deadline::after(5s));
    ASSERT_TRUE(n2 && n2->has_value());
    EXPECT_EQ(text_of(std::span(buf).first(**n2)), "be");
}

// recvmsg returns 0 both for an empty record and once the peer has closed: the first is a
// message, the second is the end, and neither may pass for the other.
TEST(UnixSocket, SeqPacketEndOfConnectionIsNotAnEmptyRecord) {
    for (const bool accepted : {false, true}) {
        SCOPED_TRACE(accepted ? "accepted connection" : "socketpair");
        std::optional<Socket> sender;
        std::optional<Socket> receiver;
        std::optional<Listener> listener;
        if (accepted) {
            auto addr = SocketAddress::unix_domain("@" + test::unique_path("seq-eof")).value();
            listener.emplace(Listener::bind(addr, SocketType::SeqPacket).value());
            sender.emplace(Socket::connect(addr, SocketType::SeqPacket, Deadline::after(5s)).value());
            auto s = listener->accept(Deadline::after(5s));
            ASSERT_TRUE(s && s->has_value());
            receiver.emplace(std::move(**s));
        } else {
            auto [a, b] = Socket::pair(SocketType::SeqPacket).value();
            sender.emplace(std::move(a));
            receiver.emplace(std::move(b));
        }
        ASSERT_TRUE(sender->send({}));
        sender->close();
        std::array<std::byte, 8> buf{};
        auto empty = receiver->receive(buf, Deadline::after(5s));
        ASSERT_TRUE(empty) << empty.error().message();
        ASSERT_TRUE(empty->has_value());
        EXPECT_EQ(**empty, 0U);
        for (int i = 0; i < 2; ++i) {  // the end stays the end
            auto end = receiver->receive(buf, Deadline::after(5s));
            ASSERT_FALSE(end) << "a record of " << (end->has_value() ? **end : 99)
                              << " bytes after the peer closed";
            EXPECT_TRUE(end.error() == Socket::kEndOfConnection) << end.error().message();
        }
    }
}

TEST(UnixSocket, SeqPacketSocketsKeepCredentialsOn) {
    auto [a, b] = Socket::pair(SocketType::SeqPacket).value();
    auto off = a.set_pass_credentials(false);
    ASSERT_FALSE(off);
    EXPECT_TRUE(off.error() == std::errc::operation_not_supported);
}

TEST(UnixSocket, ADatagramLargerThanTheBufferIsReportedNotCut) {
    auto [a, b] = Socket::pair(SocketType::Datagram).value();
    ASSERT_TRUE(a.send(bytes_of("0123456789")));
    auto size = b.next_message_size(Deadline::after(5s));
    ASSERT_TRUE(size && size->has_value());
    EXPECT_EQ(**size, 10U);
    std::array<std::byte, 4> small{};
    auto n = b.receive(small, Deadline::after(5s));
    ASSERT_FALSE(n);
    EXPECT_EQ(n.error().code(), std::errc::message_size);
    EXPECT_NE(
        n.error().message().find("datagram truncated: 10 bytes did not fit the 4-byte buffer"),
        std::string::npos)
        << n.error().message();
    ASSERT_TRUE(a.send(bytes_of("0123456789")));
    auto d = b.receive_from(small, Deadline::after(5s));
    ASSERT_FALSE(d);
    EXPECT_EQ(d.error().code(), std::errc::message_size);
}

TEST(UnixSocket, ReceiveTimesOutAsAnOrdinaryOutcome) {
    auto [a, b] = Socket::pair(SocketType::Stream).value();
    std::array<std::byte, 4> buf{};
    auto n = b.receive(buf, Deadline::after(10ms));
    ASSERT_TRUE(n);
    EXPECT_FALSE(n->has_value());
}

TEST(UnixSocket, DatagramReceiveFromReportsTheSendersAddressForAReply) {
    const std::string path = test::unique_path("dgram.sock");
    auto server = Socket::bind(SocketAddress::unix_domain(path).value());
    ASSERT_TRUE(server) << server.error().message();
    auto client = Socket::bind(SocketAddress::unix_autobind());
    ASSERT_TRUE(client) << client.error().message();
    ASSERT_TRUE(client->send_to(bytes_of("question"), SocketAddress::unix_domain(path).value()));
    std::array<std::byte, 64> buf{};
    auto d = server->receive_from(buf, Deadline::after(5s));
    ASSERT_TRUE(d && d->has_value()) << (d ? "" : d.error().message());
    EXPECT_EQ(text_of(std::span(buf).first((*d)->size)), "question");
    EXPECT_TRUE((*d)->from.is_abstract());  // autobind gives the client an abstract name
    EXPECT_EQ((*d)->from, client->local_address().value());
    ASSERT_TRUE(server->send_to(bytes_of("answer"), (*d)->from));
    auto n = client->receive(buf, Deadline::after(5s));
    ASSERT_TRUE(n && n->has_value());
    EXPECT_EQ(text_of(std::span(buf).first(**n)), "answer");
}

TEST(UnixSocket, DatagramSendToADeadReceiverIsRefused) {
    const std::string path = test::unique_path("gone.sock");
    auto addr = SocketAddress::unix_domain(path).value();
    auto client = Socket::open(AddressFamily::Unix, SocketType::Datagram).value();
    {
        auto receiver = Socket::bind(addr);
        ASSERT_TRUE(receiver);
        ASSERT_TRUE(client.connect_to(addr));
        ASSERT_TRUE(client.send(bytes_of("first")));
    }
    auto r = client.send(bytes_of("second"), Deadline::after(5s));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), std::errc::connection_refused);
    EXPECT_NE(r.error().message().find(path), std::string::npos) << r.error().message();
    // A stale file with no receiver: also refused, never silently dropped.
    make_stale_socket(path, SOCK_DGRAM);
    auto again = client.send_to(bytes_of("third"), addr);
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code(), std::errc::connection_refused);
    ::unlink(path.c_str());
}

TEST(UnixSocket, PassesSeveralDescriptorsAtOnceReceivedCloseOnExec) {
    auto [a, b] = Socket::pair(SocketType::Stream).value();
    int p1[2];
    int p2[2];
    ASSERT_EQ(::pipe2(p1, O_CLOEXEC), 0);
    ASSERT_EQ(::pipe2(p2, O_CLOEXEC), 0);
    UniqueFd r1(p1[0]), w1(p1[1]), r2(p2[0]), w2(p2[1]);
    const std::array<int, 3> fds{w1.get(), w2.get(), r1.get()};
    ASSERT_TRUE(a.send_fds(bytes_of("F"), fds, Deadline::after(5s)));
    std::array<std::byte, 8> buf{};
    auto m = b.receive_with_fds(buf, 8, Deadline::after(5s));
    ASSERT_TRUE(m && m->has_value()) << (m ? "" : m.error().message());
    ASSERT_EQ((*m)->fds.size(), 3U);
    EXPECT_EQ((*m)->size, 1U);
    for (const auto& fd : (*m)->fds) {
        EXPECT_TRUE(socket_test::is_cloexec(fd.get()));
    }
    // The received write end feeds the original pipe.
    ASSERT_EQ(::write((*m)->fds[0].get(), "x", 1), 1);
    char c = 0;
    ASSERT_EQ(::read(r1.get(), &c, 1), 1);
    EXPECT_EQ(c, 'x');
}

TEST(UnixSocket, TruncatedAncillaryDataIsReportedAndLeaksNothing) {
    auto [a, b] = Socket::pair(SocketType::SeqPacket).value();
    std::vector<UniqueFd> owned;
    std::vector<int> fds;
    for (int i = 0; i < 10; ++i) {
        owned.emplace_back(::open("/dev/null", O_RDONLY | O_CLOEXEC));
        fds.push_back(owned.back().get());
    }
    const int before = socket_test::open_fd_count();
    ASSERT_TRUE(a.send_fds(bytes_of("ten"), fds, Deadline::after(5s)));
    std::array<std::byte, 8> buf{};
    auto m = b.receive_with_fds(buf, 3, Deadline::after(5s));
    ASSERT_FALSE(m);
    EXPECT_EQ(m.error().code(), std::errc::message_size);
    EXPECT_NE(m.error().message().find("ancillary data truncated"), std::string::npos)
        << m.error().message();
    EXPECT_EQ(socket_test::open_fd_count(), before);
}

TEST(UnixSocket, DescriptorsSentToAPlainReceiveAreClosedNotLeaked) {
    auto [a, b] = Socket::pair(SocketType::Datagram).value();
    UniqueFd f(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    const int before = socket_test::open_fd_count();
    const std::array<int, 1> fds{f.get()};
    ASSERT_TRUE(a.send_fds(bytes_of("x"), fds));
    std::array<std::byte, 8> buf{};
    auto n = b.receive(buf, Deadline::after(5s));
    ASSERT_FALSE(n);
    EXPECT_NE(n.error().message().find("ancillary data truncated"), std::string::npos);
    EXPECT_EQ(socket_test::open_fd_count(), before);
}

TEST(UnixSocket, TooManyDescriptorsInOneMessageIsRefusedBeforeSending) {
    auto [a, b] = Socket::pair(SocketType::Stream).value();
    UniqueFd f(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    std::vector<int> fds(Socket::kMaxFdsPerMessage + 1, f.get());
    auto r = a.send_fds(bytes_of("x"), fds);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), std::errc::argument_list_too_long);
    EXPECT_NE(r.error().message().find("254 > SCM_MAX_FD 253"), std::string::npos)
        << r.error().message();
    // Exactly the limit works.
    fds.pop_back();
    const int before = socket_test::open_fd_count();
    ASSERT_TRUE(a.send_fds(bytes_of("x"), fds));
    std::array<std::byte, 8> buf{};
    auto m = b.receive_with_fds(buf, Socket::kMaxFdsPerMessage, Deadline::after(5s));
    ASSERT_TRUE(m && m->has_value()) << (m ? "" : m.error().message());
    EXPECT_EQ((*m)->fds.size(), Socket::kMaxFdsPerMessage);
    m->reset();
    EXPECT_EQ(socket_test::open_fd_count(), before);
}

TEST(UnixSocket, StreamDescriptorsNeedAByteOfData) {
    auto [a, b] = Socket::pair(SocketType::Stream).value();
    const std::array<int, 1> fds{0};
    auto r = a.send_fds({}, fds);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), std::errc::invalid_argument);
}

TEST(UnixSocket, PeerCredentialsAndPidfdOfASocketpair) {
    auto [a, b] = Socket::pair(SocketType::Stream).value();
    auto cred = b.peer_credentials();
    ASSERT_TRUE(cred) << cred.error().message();
    EXPECT_EQ(cred->pid, ::getpid());
    EXPECT_EQ(cred->uid, ::geteuid());
    EXPECT_EQ(cred->gid, ::getegid());
    auto pidfd = b.peer_pidfd();
    ASSERT_TRUE(pidfd) << pidfd.error().message();
    if (!pidfd->has_value()) {
        GTEST_SKIP() << "SO_PEERPIDFD needs Linux 6.5";
    }
    EXPECT_TRUE(socket_test::is_cloexec((*pidfd)->get()));
}

TEST(UnixSocket, CredentialsTravelWithEachMessageWhenAsked) {
    auto [a, b] = Socket::pair(SocketType::Datagram).value();
    ASSERT_TRUE(b.set_pass_credentials(true));
    ASSERT_TRUE(a.send(bytes_of("who")));
    std::array<std::byte, 8> buf{};
    auto m = b.receive_with_fds(buf, 0, Deadline::after(5s));
    ASSERT_TRUE(m && m->has_value());
    ASSERT_TRUE((*m)->credentials.has_value());
    EXPECT_EQ((*m)->credentials->pid, ::getpid());
    EXPECT_EQ((*m)->credentials->uid, ::getuid());
}

TEST(UnixSocket, AdoptTakesAnExistingSocket) {
    int sv[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
    UniqueFd other(sv[1]);
    auto s = Socket::adopt(UniqueFd(sv[0]));
    ASSERT_TRUE(s) << s.error().message();
    EXPECT_EQ(s->type(), SocketType::SeqPacket);
    EXPECT_TRUE(socket_test::is_cloexec(s->native_handle()));
    auto not_socket = Socket::adopt(UniqueFd(::open("/dev/null", O_RDONLY | O_CLOEXEC)));
    ASSERT_FALSE(not_socket);
    EXPECT_EQ(not_socket.error().code(), std::errc::not_a_socket);
}

TEST(UnixSocket, ConnectGivesUpAtTheDeadlineWhenTheBacklogIsFull) {
    const std::string path = test::unique_path("full.sock");
    auto addr = SocketAddress::unix_domain(path).value();
    ListenOptions o;
    o.backlog = 0;
    auto listener = Listener::bind(addr, SocketType::Stream, o);
    ASSERT_TRUE(listener);
    std::vector<Socket> queued;
    for (int i = 0; i < 8; ++i) {  // fill the backlog (its exact size is the kernel's business)
        auto c = Socket::connect(addr, SocketType::Stream, Deadline::after(20ms));
        if (!c) {
            EXPECT_EQ(c.error().code(), std::errc::timed_out) << c.error().message();
            EXPECT_NE(c.error().message().find("backlog"), std::string::npos);
            return;
        }
        queued.push_back(std::move(*c));
    }
    FAIL() << "the listener never refused a connection with backlog 0";
}

TEST(UnixSocket, ASendToAPeerThatStopsReadingTimesOutWithProgress) {
    auto [a, b] = Socket::pair(SocketType::Stream).value();
    std::vector<std::byte> big(16 << 20);
    auto r = a.send(big, Deadline::after(50ms));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), std::errc::timed_out);
    EXPECT_NE(r.error().message().find(" of 16777216 bytes"), std::string::npos)
        << r.error().message();
}

TEST(UnixSocket, ZeroDescriptorsAndCredentialsInsteadOfDescriptorsAreFine) {
    auto [a, b] = Socket::pair(SocketType::SeqPacket).value();
    ASSERT_TRUE(b.set_pass_credentials(true));
    ASSERT_TRUE(a.send_fds(bytes_of("no fds"), {}));
    std::array<std::byte, 16> buf{};
    auto m = b.receive_with_fds(buf, 4, Deadline::after(5s));
    ASSERT_TRUE(m && m->has_value()) << (m ? "" : m.error().message());
    EXPECT_TRUE((*m)->fds.empty());
    ASSERT_TRUE((*m)->credentials.has_value());  // SCM_CREDENTIALS where fds were expected
    EXPECT_EQ((*m)->credentials->pid, ::getpid());
}

// SIGPIPE at its default action (death) proves no send path raises it.
TEST(UnixSocket, SendingToAClosedPeerIsBrokenPipeNeverSigpipe) {
    const auto old = ::signal(SIGPIPE, SIG_DFL);
    for (SocketType type : {SocketType::Stream, SocketType::SeqPacket}) {
        auto [a, b] = Socket::pair(type).value();
        b.close();
        auto r = a.send(bytes_of("into the void"), Deadline::after(5s));
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().code(), std::errc::broken_pipe);
        UniqueFd f(::open("/dev/null", O_RDONLY | O_CLOEXEC));
        const std::array<int, 1> fds{f.get()};
        auto with_fd = a.send_fds(bytes_of("x"), fds, Deadline::after(5s));
        ASSERT_FALSE(with_fd);
        EXPECT_EQ(with_fd.error().code(), std::errc::broken_pipe);
    }
    ::signal(SIGPIPE, old);
}

TEST(UnixSocket, BindNeverRemovesAnotherUsersStaleSocket) {
    if (::geteuid() != 0) {
        GTEST_SKIP() << "needs root to chown a socket file to another user";
    }
    const std::string path = test::unique_path("foreign.sock");
    make_stale_socket(path);
    ASSERT_EQ(::lchown(path.c_str(), 65534, 65534), 0);
    auto l = Listener::bind(SocketAddress::unix_domain(path).value());
    ASSERT_FALSE(l);
    EXPECT_EQ(l.error().code(), std::errc::address_in_use);
    EXPECT_NE(l.error().message().find("owned by uid 65534"), std::string::npos)
        << l.error().message();
    EXPECT_TRUE(socket_test::path_exists(path));
    ::unlink(path.c_str());
}

TEST(UnixSocket, AbstractNameLimitIs107Bytes) {
    EXPECT_TRUE(SocketAddress::unix_abstract(std::string(107, 'a')));
    auto too_long = SocketAddress::unix_abstract(std::string(108, 'a'));
    ASSERT_FALSE(too_long);
    EXPECT_EQ(too_long.error().code(), std::errc::filename_too_long);
    // The longest abstract name binds and round-trips through getsockname.
    auto s = Socket::bind(
        SocketAddress::unix_abstract(std::string(100, 'z') + std::to_string(::getpid())).value());
    ASSERT_TRUE(s) << s.error().message();
    EXPECT_TRUE(s->local_address().value().is_abstract());
}

TEST(UnixSocket, AForkedChildsCopyNeverRemovesTheParentsSocketFile) {
    const std::string path = test::unique_path("forked.sock");
    auto l = Listener::bind(SocketAddress::unix_domain(path).value());
    ASSERT_TRUE(l);
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        { Listener moved = std::move(*l); }  // runs the destructor in the child
        ::_exit(0);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(socket_test::path_exists(path));
}

}  // namespace
}  // namespace ipckit
