// SPDX-License-Identifier: MIT
// mq_notify(3) on ipckit: instead of blocking in receive, ask to have a callback run on a thread
// when a message arrives on the *empty* queue. The callback re-registers (registration is
// one-shot) before draining the queue, as the man page advises.
//
//   example_posix_mq_notify [/NAME] [MESSAGE...]    (default /ipckit-example-notify, hello world)
//
// Each message is sent on its own and gets its own notification. Then two messages are sent in a
// burst while the callback is held back: they produce ONE notification, because the second one
// arrives on a queue that is no longer empty.
#include "ipckit/core/posix_name.hpp"
#include "ipckit/message/posix_mq.hpp"

#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <string>
#include <vector>

int main(int argc, char** argv) {
    try {
        const auto name =
            ipckit::PosixName::make(argc > 1 ? argv[1] : "/ipckit-example-notify").value();
        std::vector<std::string> messages(argv + (argc > 1 ? 2 : 1), argv + argc);
        if (messages.empty()) {
            messages = {"hello", "world"};
        }
        auto queue =
            ipckit::PosixMq::create(name, {.max_messages = 10, .max_message_size = 256}).value();

        std::mutex mu;
        std::condition_variable cv;
        int notifications = 0;
        std::size_t received = 0;
        std::function<void()> on_message = [&] {
            const std::lock_guard lock(mu);
            ++notifications;
            (void)queue.notify_by_thread(on_message);  // re-arm first: no arrival slips through
            std::string line = "notification " + std::to_string(notifications) + ": received";
            for (;;) {
                auto m = queue.try_receive();  // no exceptions on the notification thread
                if (!m || !*m) {
                    break;
                }
                line += " \"" + std::string((*m)->text()) + "\"";
                ++received;
            }
            std::printf("%s\n", line.c_str());
            std::fflush(stdout);
            cv.notify_all();
        };
        queue.notify_by_thread(on_message).value();
        std::printf("waiting for messages on %s (the queue is empty)\n", name.c_str());

        std::unique_lock lock(mu);
        std::size_t sent = 0;
        for (const auto& m : messages) {
            queue.send(m).value();
            ++sent;
            cv.wait(lock, [&] { return received == sent; });
        }
        // The burst: the callback fires on the first message but waits for `mu`, which we hold
        // until both are queued.
        queue.send("burst-1").value();
        queue.send("burst-2").value();
        sent += 2;
        cv.wait(lock, [&] { return received == sent; });
        std::printf("%zu messages, %d notifications\n", sent, notifications);
        lock.unlock();

        queue.cancel_notification().value();
        ipckit::PosixMq::unlink(name).value();
        return 0;
    } catch (const ipckit::ResultError& e) {
        std::fprintf(stderr, "example_posix_mq_notify: %s\n", e.error().message().c_str());
        return 1;
    }
}
