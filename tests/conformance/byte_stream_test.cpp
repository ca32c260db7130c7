// SPDX-License-Identifier: MIT
// Conformance of the byte streams: one set of typed tests over a pipe, a FIFO, a Unix stream
// socket pair and a pseudoterminal, through the public API only. Round trip (incl. partial
// reads), end of file when the writer closes, a deadline read that times out as the empty
// outcome, and a gone reader as an error, never SIGPIPE (F18, F30, B31).
#include "conformance_util.hpp"
#include "eventually.hpp"
#include "forked_child.hpp"
#include "ipc_registry.hpp"
#include "ipckit/core/io.hpp"
#include "ipckit/socket/socket.hpp"
#include "ipckit/stream/fifo.hpp"
#include "ipckit/stream/pipe.hpp"
#include "ipckit/stream/pty.hpp"

#include <fcntl.h>
#include <signal.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include <gtest/gtest.h>

namespace ipckit {
namespace {

using namespace std::chrono_literals;

// ---- the implementations. Each is a writer end and a reader end with the same five calls:
// write_all, read_until, close_writer, close_reader, and make() for a fresh connected pair.
// Traits say where an implementation really differs.

struct PipeStream {
    static constexpr const char* kName = "Pipe";
    /// What a write gets once every reader is gone.
    static constexpr std::errc kReaderGone = std::errc::broken_pipe;

    PipeReader reader;
    PipeWriter writer;

    static PipeStream make() {
        auto p = Pipe::create().value();
        return {std::move(p.reader), std::move(p.writer)};
    }
    Result<void> write_all(std::span<const std::byte> b, Deadline d) {
        return writer.write_all(b, d);
    }
    Result<std::optional<std::size_t>> read_until(std::span<std::byte> b, Deadline d) {
        return reader.read_until(b, d);
    }
    void close_writer() { writer.close(); }
    void close_reader() { reader.close(); }
};

struct FifoStream {
    static constexpr const char* kName = "Fifo";
    static constexpr std::errc kReaderGone = std::errc::broken_pipe;

    std::optional<Fifo> fifo;  // unlinks its path when destroyed
    PipeReader reader;
    PipeWriter writer;

    static FifoStream make() {
        FifoStream s;
        s.fifo.emplace(Fifo::create(test::unique_path("fifo")).value());
        // The reader first, non-blocking, so the writer's open finds it and does not wait (F20).
        s.reader = s.fifo->open_reader(/*nonblocking_io=*/true).value();
        s.writer = s.fifo->open_writer().value();
        return s;
    }
    Result<void> write_all(std::span<const std::byte> b, Deadline d) {
        return writer.write_all(b, d);
    }
    Result<std::optional<std::size_t>> read_until(std::span<std::byte> b, Deadline d) {
        return reader.read_until(b, d);
    }
    void close_writer() { writer.close(); }
    void close_reader() { reader.close(); }
};

struct UnixStream {
    static constexpr const char* kName = "UnixStream";
    static constexpr std::errc kReaderGone = std::errc::broken_pipe;

    std::optional<Socket> writer;
    std::optional<Socket> reader;

    static UnixStream make() {
        auto [a, b] = Socket::pair(SocketType::Stream).value();
        UnixStream s;
        s.writer.emplace(std::move(a));
        s.reader.emplace(std::move(b));
        return s;
    }
    Result<void> write_all(std::span<const std::byte> b, Deadline d) { return writer->send(b, d); }
    Result<std::optional<std::size_t>> read_until(std::span<std::byte> b, Deadline d) {
        return reader->receive(b, d);
    }
    void close_writer() { writer->close(); }
    void close_reader() { reader->close(); }
};

/// The master of a Pty reads what a program writes on the slave. Differences (traits):
/// - the line discipline translates output ("\n" becomes "\r\n", OPOST/ONLCR): make() puts the
///   slave in raw mode (cfmakeraw) so that bytes arrive as written;
/// - the Pty holds a slave descriptor itself until spawn() hands it to a child, and the master
///   sees end of file only when every slave descriptor is closed (F30): close_writer() closes
///   ours and lets a child that exits at once take the Pty's;
/// - a slave whose master is gone is hung up: writes fail with EIO, not EPIPE.
struct PtyStream {
    static constexpr const char* kName = "Pty";
    static constexpr std::errc kReaderGone = std::errc::io_error;

    std::optional<Pty> pty;
    UniqueFd slave;  // our own descriptor of the slave: the writer

    static PtyStream make() {
        PtyStream s;
        s.pty.emplace(Pty::open().value());
        s.slave = UniqueFd(::fcntl(s.pty->slave_handle(), F_DUPFD_CLOEXEC, 0));
        if (!s.slave.valid()) {
            throw std::system_error(errno, std::generic_category(), "dup of the pty slave");
        }
        termios t{};
        if (::tcgetattr(s.slave.get(), &t) != 0) {
            throw std::system_error(errno, std::generic_category(), "tcgetattr");
        }
        ::cfmakeraw(&t);
        if (::tcsetattr(s.slave.get(), TCSANOW, &t) != 0) {
            throw std::system_error(errno, std::generic_category(), "tcsetattr");
        }
        return s;
    }
    Result<void> write_all(std::span<const std::byte> b, Deadline d) {
        return ipckit::write_all(slave.get(), b, FdKind::Other, d, pty->slave_path());
    }
    Result<std::optional<std::size_t>> read_until(std::span<std::byte> b, Deadline d) {
        return pty->read_until(b, d);
    }
    void close_writer() {
        slave.reset();
        if (pty->slave_handle() >= 0) {
            auto child = pty->spawn({"true"}).value();
            (void)child.wait().value();
        }
    }
    void close_reader() { pty.reset(); }
};

// ---- the tests

template <class S>
class ByteStream : public ::testing::Test {
protected:
    void SetUp() override { s_.emplace(S::make()); }
    S& s() { return *s_; }

    /// Reads until end of file or `limit` bytes, each read waiting at most until `deadline`.
    std::vector<std::byte> read_to_end(Deadline deadline, std::size_t limit = 1U << 20) {
        std::vector<std::byte> all;
        std::array<std::byte, 4096> buf{};
        while (all.size() < limit) {
            auto r = s().read_until(buf, deadline);
            EXPECT_TRUE(r) << r.error().message();
            if (!r) {
                break;
            }
            EXPECT_TRUE(r->has_value()) << S::kName << ": no end of file before the deadline";
            if (!r->has_value() || **r == 0) {
                break;
            }
            all.insert(all.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(**r));
        }
        return all;
    }

    std::optional<S> s_;
};

using Streams = ::testing::Types<PipeStream, FifoStream, UnixStream, PtyStream>;
TYPED_TEST_SUITE(ByteStream, Streams, conformance::ImplName);

TYPED_TEST(ByteStream, EveryByteValueMakesTheRoundTrip) {
    const auto data = conformance::pattern(1000, 7);
    ASSERT_TRUE(this->s().write_all(data, Deadline::after(10s)));
    this->s().close_writer();
    EXPECT_EQ(this->read_to_end(Deadline::after(10s)), data);
}

TYPED_TEST(ByteStream, AShortBufferGetsAPartOfTheDataAndTheRestStaysForTheNextRead) {
    const auto data = conformance::pattern(10, 1);
    ASSERT_TRUE(this->s().write_all(data, Deadline::after(10s)));
    std::array<std::byte, 4> small{};
    auto first = this->s().read_until(small, Deadline::after(10s));
    ASSERT_TRUE(first) << first.error().message();
    ASSERT_TRUE(first->has_value());
    ASSERT_GE(**first, 1U);
    ASSERT_LE(**first, small.size());
    std::vector<std::byte> got(small.begin(), small.begin() + static_cast<std::ptrdiff_t>(**first));
    this->s().close_writer();
    const auto rest = this->read_to_end(Deadline::after(10s));
    got.insert(got.end(), rest.begin(), rest.end());
    EXPECT_EQ(got, data);
}

TYPED_TEST(ByteStream, AReadWithADeadlineOnAnEmptyStreamIsTheEmptyOutcome) {
    std::array<std::byte, 16> buf{};
    const auto start = std::chrono::steady_clock::now();
    auto r = this->s().read_until(buf, Deadline::after(50ms));
    const auto waited = std::chrono::steady_clock::now() - start;
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_FALSE(r->has_value()) << "timed out, not data and not end of file";
    EXPECT_GE(waited, 50ms) << "never early";
    // Nothing was consumed: data written afterwards is read whole.
    const auto data = conformance::pattern(5, 3);
    ASSERT_TRUE(this->s().write_all(data, Deadline::after(10s)));
    this->s().close_writer();
    EXPECT_EQ(this->read_to_end(Deadline::after(10s)), data);
}

TYPED_TEST(ByteStream, AnExpiredDeadlineStillReadsWhatIsThere) {
    const auto data = conformance::pattern(3, 9);
    ASSERT_TRUE(this->s().write_all(data, Deadline::after(10s)));
    std::array<std::byte, 16> buf{};
    // The data is in the kernel once write_all returned, but a pty forwards it from the slave to
    // the master asynchronously: poll for it with an expired deadline (try_read).
    std::optional<std::size_t> n;
    ASSERT_TRUE(test::eventually(5s, "the written bytes to be readable at once", [&] {
        auto r = this->s().read_until(buf, Deadline::now());
        if (!r) {
            ADD_FAILURE() << r.error().message();
            return true;
        }
        n = *r;
        return n.has_value();
    }));
    ASSERT_TRUE(n.has_value());
    EXPECT_EQ(*n, data.size());
}

TYPED_TEST(ByteStream, EndOfFileOnceTheWriterClosesAfterTheDataIsRead) {
    const auto data = conformance::pattern(100, 5);
    ASSERT_TRUE(this->s().write_all(data, Deadline::after(10s)));
    this->s().close_writer();
    EXPECT_EQ(this->read_to_end(Deadline::after(10s)), data);
    // End of file again on every later read, at once.
    std::array<std::byte, 16> buf{};
    auto again = this->s().read_until(buf, Deadline::after(10s));
    ASSERT_TRUE(again) << again.error().message();
    ASSERT_TRUE(again->has_value());
    EXPECT_EQ(**again, 0U);
}

TYPED_TEST(ByteStream, AWriterInAnotherProcessStreamsMoreThanTheKernelBufferHolds) {
    const auto data = conformance::pattern(256 * 1024, 11);
    auto child = test::ForkedChild::spawn([&] {
        CHILD_CHECK(this->s().write_all(data, Deadline::after(20s)));
        return 0;
    });
    // Our copy of the writer must go too, or the reader never sees end of file.
    this->s().close_writer();
    EXPECT_EQ(this->read_to_end(Deadline::after(20s), data.size() + 1), data);
    EXPECT_CHILD_OK(child.wait_for(20s));
}

TYPED_TEST(ByteStream, WritingWithTheReaderGoneIsAnErrorAndNeverSigpipe) {
    // In a child with SIGPIPE at its default action (the test runner ignores it): a SIGPIPE the
    // library let through would kill the child, and the parent would report the signal.
    auto child = test::ForkedChild::spawn([] {
        CHILD_CHECK(::signal(SIGPIPE, SIG_DFL) != SIG_ERR);
        sigset_t none;
        sigemptyset(&none);
        CHILD_CHECK(::sigprocmask(SIG_SETMASK, &none, nullptr) == 0);
        auto s = TypeParam::make();
        s.close_reader();
        const auto data = conformance::pattern(64, 2);
        auto r = s.write_all(data, Deadline::after(10s));
        if (r) {
            test::child_fail("write with the reader gone succeeded");
        }
        if (r.error() != TypeParam::kReaderGone) {
            test::child_fail("expected " + std::make_error_code(TypeParam::kReaderGone).message() +
                             ", got: " + r.error().message());
        }
        sigset_t pending;
        sigemptyset(&pending);
        CHILD_CHECK(::sigpending(&pending) == 0);
        CHILD_CHECK(sigismember(&pending, SIGPIPE) == 0);
        return 0;
    });
    EXPECT_CHILD_OK(child.wait_for(10s));
}

}  // namespace
}  // namespace ipckit
