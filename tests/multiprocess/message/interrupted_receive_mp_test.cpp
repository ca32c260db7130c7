// SPDX-License-Identifier: MIT
// F9: a signal handler installed without SA_RESTART makes mq_receive fail with EINTR, and msgrcv
// fails with EINTR whatever SA_RESTART says. A blocking receive must retry and still get the
// message. The parent interrupts the child while it is asleep in the call (from /proc), waits
// until it is asleep in the same call again, then sends: no guessed sleeps.
#include "eventually.hpp"
#include "forked_child.hpp"
#include "ipc_registry.hpp"
#include "ipckit/core/mapping.hpp"
#include "ipckit/message/posix_mq.hpp"
#include "ipckit/message/sysv_msg_queue.hpp"

#include <signal.h>
#include <sys/syscall.h>

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

namespace ipckit {
namespace {

using namespace std::chrono_literals;

// In a shared mapping, so the parent sees when the child's handler has run.
std::atomic<int>* g_interruptions = nullptr;
void count_interruption(int /*sig*/) {
    g_interruptions->fetch_add(1);
}

bool install_handler_without_restart() {
    struct sigaction sa {};
    sa.sa_handler = count_interruption;
    sa.sa_flags = 0;  // no SA_RESTART
    return ::sigaction(SIGUSR1, &sa, nullptr) == 0;
}

class InterruptedReceive : public ::testing::Test {
protected:
    void SetUp() override {
#if defined(__SANITIZE_THREAD__)
        // TSan runs a handler only at its next intercepted call; the retried mq_receive is not
        // one, so the handler (and our count) would wait until the message arrives.
        GTEST_SKIP() << "TSan defers signal handlers past a blocking system call";
#endif
        shared_ = std::move(Mapping::map_anonymous(4096).value());
        g_interruptions = new (shared_.data()) std::atomic<int>(0);
    }
    // Interrupts the child twice while it sleeps in `syscall_nr`, waiting each time until its
    // handler ran; asleep in the same call again afterwards means the library retried.
    static void interrupt_twice_while_blocked(const test::ForkedChild& child, long syscall_nr) {
        for (int i = 0; i < 2; ++i) {
            ASSERT_TRUE(test::wait_until_blocked_in(child.pid(), syscall_nr, 10s));
            child.kill(SIGUSR1);
            ASSERT_TRUE(test::eventually(
                10s,
                "the child's SIGUSR1 handler to run",
                [&] { return g_interruptions->load() > i; },
                100us));
            ASSERT_EQ(g_interruptions->load(), i + 1);
        }
        ASSERT_TRUE(test::wait_until_blocked_in(child.pid(), syscall_nr, 10s));
    }
    Mapping shared_;
};

TEST_F(InterruptedReceive, PosixMqReceiveRetriesAfterEintr) {
    const auto name = PosixName::make(test::unique_mq_name()).value();
    auto q = PosixMq::create(name).value();
    auto child = test::ForkedChild::spawn([&] {
        CHILD_CHECK(install_handler_without_restart());
        auto in = PosixMq::open(name, Access::ReadOnly);
        CHILD_CHECK(in);
        auto m = in->receive();
        CHILD_CHECK(m && m->text() == "after the signals");
        CHILD_CHECK(g_interruptions->load() == 2);
        return 0;
    });
    interrupt_twice_while_blocked(child, SYS_mq_timedreceive);
    q.send("after the signals").value();
    EXPECT_CHILD_OK(child.wait_for(10s));
}

TEST_F(InterruptedReceive, SysvReceiveRetriesAfterEintr) {
    auto q = SysvMsgQueue::create(SysvKey::private_key()).value();
    test::track_sysv_id(test::IpcKind::SysvMsg, q.id());
    auto child = test::ForkedChild::spawn([&] {
        CHILD_CHECK(install_handler_without_restart());
        auto m = q.receive(3);
        CHILD_CHECK(m && m->text() == "after the signals");
        CHILD_CHECK(g_interruptions->load() == 2);
        return 0;
    });
    interrupt_twice_while_blocked(child, SYS_msgrcv);
    q.send(3, "after the signals").value();
    EXPECT_CHILD_OK(child.wait_for(10s));
}

}  // namespace
}  // namespace ipckit
