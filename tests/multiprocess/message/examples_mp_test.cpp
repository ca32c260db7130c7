// SPDX-License-Identifier: MIT
// The message-queue examples, built and run as programs: the seeds' System V server/client pair
// with a chosen key, the POSIX producer/consumer with priorities, and the mq_notify example.
#include "eventually.hpp"
#include "forked_child.hpp"
#include "ipc_registry.hpp"
#include "ipckit/core/posix_name.hpp"
#include "ipckit/core/sysv_key.hpp"
#include "ipckit/message/posix_mq.hpp"
#include "run_program.hpp"

#include <sys/ipc.h>
#include <sys/msg.h>

#include <string>
#include <thread>

#include <gtest/gtest.h>

namespace ipckit {
namespace {

using namespace std::chrono_literals;

// glibc runs SIGEV_THREAD notifications on a helper thread it creates inside libc, which
// ThreadSanitizer cannot see: the helper crashes in TSan's allocator when a notification fires.
// The thread-callback tests that fire a notification therefore skip under TSan.
#if defined(__SANITIZE_THREAD__)
#define IPCKIT_SKIP_IF_TSAN() \
    GTEST_SKIP() << "glibc's SIGEV_THREAD helper thread is invisible to TSan"
#else
#define IPCKIT_SKIP_IF_TSAN() static_cast<void>(0)
#endif

::testing::AssertionResult wait_for_sysv_queue(key_t key) {
    return test::eventually(
        10s, "the server to create its System V queue", [&] { return ::msgget(key, 0) >= 0; }, 5ms);
}

TEST(MessageExamples, SysvServerAndClientExchangeTheSeedMessages) {
    const key_t key = test::unique_sysv_key(test::IpcKind::SysvMsg);
    const std::string key_text = std::to_string(key);
    auto server = test::ForkedChild::spawn([&] {
        auto r =
            test::run_program({test::build_path("examples/example_sysv_msg_server"), key_text});
        CHILD_CHECK(r.exited && r.exit_code == 0);
        CHILD_CHECK(r.out == "server: received \"Did you get the Message ?\"\n");
        return 0;
    });
    ASSERT_TRUE(wait_for_sysv_queue(key));
    auto client =
        test::run_program({test::build_path("examples/example_sysv_msg_client"), key_text});
    EXPECT_TRUE(client.exited && client.exit_code == 0) << client.describe();
    EXPECT_EQ(client.out, "I received the message.\n");
    EXPECT_CHILD_OK(server.wait_for(10s));
}

TEST(MessageExamples, SysvClientWithoutServerExplainsWhatIsMissing) {
    const key_t key = test::unique_sysv_key(test::IpcKind::SysvMsg);
    auto client = test::run_program(
        {test::build_path("examples/example_sysv_msg_client"), std::to_string(key)});
    EXPECT_TRUE(client.exited && client.exit_code == 1) << client.describe();
    EXPECT_NE(client.err.find("msgget key " + SysvKey::from_number(key)->to_string() +
                              ": No such file or directory"),
              std::string::npos)
        << client.err;
}

TEST(MessageExamples, PosixProducerConsumerDeliversByPriority) {
    const std::string name = test::unique_mq_name("jobs");
    auto producer =
        test::run_program({test::build_path("examples/example_posix_mq_producer"), name});
    ASSERT_TRUE(producer.exited && producer.exit_code == 0) << producer.describe();
    EXPECT_NE(producer.out.find("producer: sent \"STOP\" (priority 0)\n"), std::string::npos);
    auto consumer = test::run_program(
        {test::build_path("examples/example_posix_mq_consumer"), name, "--timeout-ms", "10000"});
    ASSERT_TRUE(consumer.exited && consumer.exit_code == 0) << consumer.describe();
    EXPECT_EQ(consumer.out,
              "consumer: priority 30: URGENT: disk almost full\n"
              "consumer: priority 30: URGENT: certificate expires\n"
              "consumer: priority 10: normal: send report\n"
              "consumer: priority 10: normal: rebuild index\n"
              "consumer: priority  1: routine: rotate logs\n"
              "consumer: priority  1: routine: clean /tmp\n"
              "consumer: done, queue " +
                  name + " removed\n");
    EXPECT_EQ(PosixMq::open(PosixName::make(name).value()).error(),
              std::errc::no_such_file_or_directory);
}

TEST(MessageExamples, NotifyExampleReactsOnlyToTheEmptyToNonEmptyTransition) {
    IPCKIT_SKIP_IF_TSAN();
    const std::string name = test::unique_mq_name("notify");
    auto r = test::run_program(
        {test::build_path("examples/example_posix_mq_notify"), name, "first", "second"});
    ASSERT_TRUE(r.exited && r.exit_code == 0) << r.describe();
    EXPECT_EQ(r.out,
              "waiting for messages on " + name +
                  " (the queue is empty)\n"
                  "notification 1: received \"first\"\n"
                  "notification 2: received \"second\"\n"
                  "notification 3: received \"burst-1\" \"burst-2\"\n"
                  "4 messages, 3 notifications\n");
}

}  // namespace
}  // namespace ipckit
