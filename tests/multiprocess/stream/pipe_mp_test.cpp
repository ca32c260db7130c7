// SPDX-License-Identifier: MIT
// Pipes across fork: PIPE_BUF atomicity with several writer processes, reader gone, writer gone,
// and EINTR during a blocking read (a real signal, synchronised through /proc: no sleeps).
#include "eventually.hpp"
#include "forked_child.hpp"
#include "ipckit/core/mapping.hpp"
#include "ipckit/stream/pipe.hpp"
#include "ipckit/stream/tell_wait.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <vector>

#include <gtest/gtest.h>

namespace ipckit {
namespace {

using namespace std::chrono_literals;

TEST(PipeAcrossFork, RecordsOfPipeBufBytesFromConcurrentWritersNeverInterleave) {
    constexpr int kWriters = 4;
    constexpr int kRecords = 200;
    auto pipe = Pipe::create().value();
    std::vector<test::ForkedChild> writers;
    for (int w = 0; w < kWriters; ++w) {
        writers.push_back(test::ForkedChild::spawn([&, w] {
            pipe.reader.close();
            // Every byte of a record is the writer's id: any interleaving shows as a mixed record.
            std::vector<std::byte> record(kPipeBuf, std::byte(static_cast<unsigned char>('A' + w)));
            for (int i = 0; i < kRecords; ++i) {
                auto n = pipe.writer.write(record);
                CHILD_CHECK(n && *n == kPipeBuf);  // <= PIPE_BUF: never partial on a blocking end
            }
            return 0;
        }));
    }
    pipe.writer.close();
    std::map<char, int> per_writer;
    std::vector<std::byte> record(kPipeBuf);
    for (;;) {
        auto n = pipe.reader.read_exact(record, Deadline::after(20s));
        ASSERT_TRUE(n) << n.error().message();
        if (*n == 0) {
            break;
        }
        ASSERT_EQ(*n, kPipeBuf);
        const auto first = record[0];
        for (std::size_t i = 1; i < kPipeBuf; ++i) {
            ASSERT_EQ(record[i], first) << "record interleaved at byte " << i;
        }
        ++per_writer[static_cast<char>(first)];
    }
    for (auto& w : writers) {
        EXPECT_CHILD_OK(w.wait_for(20s));
    }
    ASSERT_EQ(per_writer.size(), static_cast<std::size_t>(kWriters));
    for (auto [id, count] : per_writer) {
        EXPECT_EQ(count, kRecords) << "writer " << id;
    }
}

TEST(PipeAcrossFork, WriterSeesBrokenPipeWhenTheReaderProcessExits) {
    auto pipe = Pipe::create().value();
    auto reader = test::ForkedChild::spawn([&] {
        pipe.writer.close();
        std::byte b[5];
        auto n = pipe.reader.read_exact(b);
        CHILD_CHECK(n && *n == 5);
        return 0;  // exits: the last read end closes
    });
    pipe.reader.close();
    ASSERT_TRUE(pipe.writer.write_all("first"));
    EXPECT_CHILD_OK(reader.wait_for(10s));
    auto r = pipe.writer.write_all("second");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), std::errc::broken_pipe);  // and no SIGPIPE killed us
}

TEST(PipeAcrossFork, ReaderSeesDataThenEndOfFileWhenTheWriterProcessExits) {
    auto pipe = Pipe::create().value();
    auto writer = test::ForkedChild::spawn([&] {
        pipe.reader.close();
        CHILD_CHECK(pipe.writer.write_all("last words"));
        ::_exit(0);  // dies without closing anything explicitly
        return 0;
    });
    pipe.writer.close();
    auto text = pipe.reader.read_to_end(Deadline::after(10s));
    ASSERT_TRUE(text) << text.error().message();
    EXPECT_EQ(*text, "last words");
    EXPECT_CHILD_OK(writer.wait_for(10s));
}

TEST(PipeAcrossFork, WriterKilledBySignalGivesEndOfFile) {
    auto pipe = Pipe::create().value();
    auto writer = test::ForkedChild::spawn([&] {
        pipe.reader.close();
        CHILD_CHECK(pipe.writer.write_all("partial"));
        ::pause();
        return 0;
    });
    pipe.writer.close();
    std::byte b[7];
    ASSERT_EQ(*pipe.reader.read_exact(b, Deadline::after(10s)), 7U);
    writer.kill(SIGKILL);
    std::byte more[1];
    auto n = pipe.reader.read_until(more, Deadline::after(10s));
    ASSERT_TRUE(n);
    ASSERT_TRUE(n->has_value());
    EXPECT_EQ(**n, 0U);
    auto res = writer.wait_for(10s);
    EXPECT_EQ(res.signal, SIGKILL);
}

std::atomic<int>* g_handled = nullptr;
void count_signal(int /*sig*/) { g_handled->fetch_add(1); }

TEST(PipeAcrossFork, BlockingReadIsResumedAfterARealSignal) {
    auto shared = Mapping::map_anonymous(4096).value();
    g_handled = new (shared.data()) std::atomic<int>(0);
    struct sigaction sa {};
    struct sigaction old {};
    sa.sa_handler = count_signal;
    sa.sa_flags = 0;  // no SA_RESTART: the kernel returns EINTR to read(2)
    ASSERT_EQ(::sigaction(SIGUSR1, &sa, &old), 0);
    auto pipe = Pipe::create().value();
    const pid_t parent = ::getpid();
    auto child = test::ForkedChild::spawn([&] {
        pipe.reader.close();
        for (int i = 0; i < 2; ++i) {
            CHILD_CHECK(test::wait_until_blocked_in(parent, SYS_read, 10s));
            CHILD_CHECK(::kill(parent, SIGUSR1) == 0);
            CHILD_CHECK(test::eventually(
                10s,
                "the parent's SIGUSR1 handler to run",
                [&] { return g_handled->load() > i; },
                100us));
            CHILD_CHECK(g_handled->load() == i + 1);
        }
        CHILD_CHECK(test::wait_until_blocked_in(parent, SYS_read, 10s));
        CHILD_CHECK(pipe.writer.write_all("z"));
        return 0;
    });
    std::byte b{};
    auto n = pipe.reader.read(std::span(&b, 1));  // never-deadline: a plain blocking read(2)
    ::sigaction(SIGUSR1, &old, nullptr);
    ASSERT_TRUE(n) << n.error().message();
    EXPECT_EQ(*n, 1U);
    EXPECT_EQ(static_cast<char>(b), 'z');
    EXPECT_EQ(g_handled->load(), 2);
    EXPECT_CHILD_OK(child.wait_for(10s));
}

}  // namespace
}  // namespace ipckit

namespace ipckit {
namespace {

TEST(TellWaitAcrossFork, AlternatesAndReportsADeadPeerAsBrokenPipe) {
    auto tw = TellWait::create().value();
    auto child = test::ForkedChild::spawn([&] {
        tw.become_child();
        CHILD_CHECK(tw.wait_parent(Deadline::after(10s)));
        CHILD_CHECK(tw.tell_parent());
        return 0;  // dies without a second tell
    });
    tw.become_parent();
    ASSERT_TRUE(tw.tell_child());
    ASSERT_TRUE(tw.wait_child(Deadline::after(10s)));
    auto second = tw.wait_child(Deadline::after(10s));
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error().code(), std::errc::broken_pipe);
    EXPECT_CHILD_OK(child.wait_for(10s));  // all its descriptors are closed now
    auto tell = tw.tell_child();
    ASSERT_FALSE(tell);
    EXPECT_EQ(tell.error().code(), std::errc::broken_pipe);  // no SIGPIPE
}

}  // namespace
}  // namespace ipckit
