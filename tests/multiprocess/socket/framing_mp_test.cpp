// SPDX-License-Identifier: MIT
// Length-prefixed framing against a peer process that misbehaves: 1-byte writes, closing
// mid-frame, announcing a huge frame.
#include "ipckit/stream/framing.hpp"

#include "forked_child.hpp"
#include "ipckit/socket/socket.hpp"
#include "socket_test_util.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <numeric>

#include <gtest/gtest.h>

namespace ipckit {
namespace {

using namespace std::chrono_literals;
using socket_test::bytes_of;
using socket_test::text_of;

// Raw bytes on the wire, written one byte per send(), so every read sees a fragment.
void trickle(int fd, std::span<const std::byte> wire) {
    for (std::byte b : wire) {
        CHILD_CHECK(write_all(fd, std::span(&b, 1), FdKind::Socket, Deadline::after(10s), "child"));
    }
}

std::vector<std::byte> header(std::uint32_t length) {
    return {std::byte(length >> 24),
            std::byte(length >> 16),
            std::byte(length >> 8),
            std::byte(length)};
}

TEST(Framing, WireFormatIsFourByteBigEndianLengthThenPayload) {
    auto [a, b] = Socket::pair(SocketType::Stream).value();
    ASSERT_TRUE(
        write_frame(a.native_handle(), bytes_of("hi!"), FdKind::Socket, Deadline::after(5s), "a"));
    std::array<std::byte, 7> raw{};
    auto n = read_exact(b.native_handle(), raw, Deadline::after(5s), "b");
    ASSERT_TRUE(n);
    ASSERT_EQ(*n, 7U);
    const std::array<std::byte, 7> expected{std::byte{0},
                                            std::byte{0},
                                            std::byte{0},
                                            std::byte{3},
                                            std::byte{'h'},
                                            std::byte{'i'},
                                            std::byte{'!'}};
    EXPECT_EQ(raw, expected);
}

TEST(Framing, ReassemblesFramesFromAPeerWritingOneByteAtATime) {
    auto [a, b] = Socket::pair(SocketType::Stream).value();
    auto child = test::ForkedChild::spawn([&] {
        b.close();  // the child keeps only its end
        std::vector<std::byte> wire;
        for (std::string_view msg : {"first frame", "", "third: a longer payload of bytes"}) {
            auto h = header(static_cast<std::uint32_t>(msg.size()));
            wire.insert(wire.end(), h.begin(), h.end());
            auto p = bytes_of(msg);
            wire.insert(wire.end(), p.begin(), p.end());
        }
        trickle(a.native_handle(), wire);
        return 0;
    });
    a.close();  // the parent keeps only its end
    FrameReader reader(b.native_handle(), 1024, "b");
    for (std::string_view expected : {"first frame", "", "third: a longer payload of bytes"}) {
        auto f = reader.read(Deadline::after(10s));
        ASSERT_TRUE(f) << f.error().message();
        ASSERT_TRUE(f->has_value());
        EXPECT_EQ(text_of(**f), expected);
    }
    auto end = reader.read(Deadline::after(10s));
    ASSERT_FALSE(end);  // clean close between frames
    EXPECT_EQ(end.error().code(), FrameReader::kEndOfStream) << end.error().message();
    EXPECT_CHILD_OK(child.wait_for(10s));
}

// The error model's rule (docs/design/error-model.md): an empty optional means only "nothing
// yet" (would block, or the deadline passed); end of stream is not nothing, it is an outcome the
// caller must not mistake for a slow peer.
TEST(Framing, EndOfStreamIsToldApartFromNothingYet) {
    auto [a, b] = Socket::pair(SocketType::Stream).value();
    FrameReader reader(b.native_handle(), 1024, "peer");
    auto idle = reader.read(Deadline::now());  // the peer is there but sent nothing: would block
    EXPECT_TRUE(idle && !idle->has_value()) << (idle ? "a frame" : idle.error().message());
    a.close();
    auto end = reader.read(Deadline::after(5s));
    ASSERT_FALSE(end) << "end of stream came back as "
                      << (end->has_value() ? "a frame" : "nothing");
    EXPECT_EQ(end.error().code(), std::errc::no_message_available);
    EXPECT_NE(end.error().message().find("end of stream"), std::string::npos)
        << end.error().message();
}

TEST(Framing, PeerClosingMidFrameIsReportedWithProgress) {
    auto [a, b] = Socket::pair(SocketType::Stream).value();
    auto child = test::ForkedChild::spawn([&] {
        auto h = header(100);
        std::vector<std::byte> wire(h.begin(), h.end());
        wire.resize(wire.size() + 37, std::byte{'x'});
        CHILD_CHECK(write_all(a.native_handle(), wire, FdKind::Socket, Deadline::after(10s), "c"));
        return 0;  // exits: the socket closes after 37 of 100 payload bytes
    });
    a.close();
    FrameReader reader(b.native_handle(), 1024, "peer");
    auto f = reader.read(Deadline::after(10s));
    ASSERT_FALSE(f);
    EXPECT_EQ(f.error().code(), std::errc::connection_aborted);
    EXPECT_NE(f.error().message().find("connection closed mid-message (received 37 of 100 bytes)"),
              std::string::npos)
        << f.error().message();
    EXPECT_CHILD_OK(child.wait_for(10s));
}

TEST(Framing, PeerClosingMidHeaderIsReported) {
    auto [a, b] = Socket::pair(SocketType::Stream).value();
    const std::array<std::byte, 2> half{std::byte{0}, std::byte{0}};
    ASSERT_TRUE(a.send(half));
    a.close();
    FrameReader reader(b.native_handle(), 1024, "peer");
    auto f = reader.read(Deadline::after(5s));
    ASSERT_FALSE(f);
    EXPECT_NE(f.error().message().find("connection closed mid-message (received 2 of 4 header"),
              std::string::npos)
        << f.error().message();
}

TEST(Framing, AFrameLengthOverTheMaximumIsRefusedWithoutAllocating) {
    auto [a, b] = Socket::pair(SocketType::Stream).value();
    auto h = header(0xfffffff0U);  // ~4 GiB announced
    ASSERT_TRUE(a.send(h));
    FrameReader reader(b.native_handle(), 1 << 20, "peer");
    auto f = reader.read(Deadline::after(5s));
    ASSERT_FALSE(f);
    EXPECT_EQ(f.error().code(), std::errc::message_size);
    EXPECT_NE(f.error().message().find("frame length 4294967280 exceeds the maximum 1048576"),
              std::string::npos)
        << f.error().message();
}

TEST(Framing, WriterRefusesAPayloadOverTheMaximum) {
    auto [a, b] = Socket::pair(SocketType::Stream).value();
    std::vector<std::byte> big(2048);
    auto r = write_frame(a.native_handle(), big, FdKind::Socket, Deadline::after(5s), "a", 1024);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), std::errc::message_size);
    std::array<std::byte, 1> nothing{};
    auto n = b.receive(nothing, Deadline::now());
    ASSERT_TRUE(n);
    EXPECT_FALSE(n->has_value());  // nothing was written
}

TEST(Framing, ATimeoutMidFrameKeepsProgressAndTheNextReadFinishes) {
    auto [a, b] = Socket::pair(SocketType::Stream).value();
    auto h = header(6);
    ASSERT_TRUE(a.send(h));
    ASSERT_TRUE(a.send(bytes_of("abc")));
    FrameReader reader(b.native_handle(), 64, "b");
    auto first = reader.read(Deadline::after(10ms));
    ASSERT_TRUE(first) << first.error().message();
    EXPECT_FALSE(first->has_value());  // timed out: nothing yet, the 3 bytes are kept
    ASSERT_TRUE(a.send(bytes_of("def")));
    auto second = reader.read(Deadline::after(5s));
    ASSERT_TRUE(second && second->has_value());
    EXPECT_EQ(text_of(**second), "abcdef");
}

TEST(Framing, WorksOverAPipeToo) {
    int p[2];
    ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
    UniqueFd r(p[0]);
    UniqueFd w(p[1]);
    auto child = test::ForkedChild::spawn([&] {
        r.reset();
        std::vector<std::byte> big(100000);
        std::iota(reinterpret_cast<unsigned char*>(big.data()),  // NOLINT: byte pattern
                  reinterpret_cast<unsigned char*>(big.data()) + big.size(),
                  0);  // NOLINT
        CHILD_CHECK(write_frame(w.get(), big, FdKind::Other, Deadline::after(10s), "pipe"));
        return 0;
    });
    w.reset();
    FrameReader reader(r.get(), 1 << 20, "pipe");
    auto f = reader.read(Deadline::after(10s));
    ASSERT_TRUE(f && f->has_value()) << (f ? "" : f.error().message());
    ASSERT_EQ((*f)->size(), 100000U);
    EXPECT_EQ((**f)[99999], std::byte{static_cast<unsigned char>(99999 % 256)});
    EXPECT_CHILD_OK(child.wait_for(10s));
}

}  // namespace
}  // namespace ipckit
