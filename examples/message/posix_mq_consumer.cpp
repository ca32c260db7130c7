// SPDX-License-Identifier: MIT
// POSIX message-queue consumer: takes jobs highest priority first until "STOP", then removes the
// queue's name. The receive buffer is sized from the queue's mq_msgsize by PosixMq.
//
//   example_posix_mq_consumer [/NAME] [--timeout-ms N]   (default /ipckit-example-jobs, wait
//   forever)
#include "ipckit/core/posix_name.hpp"
#include "ipckit/message/posix_mq.hpp"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

int main(int argc, char** argv) {
    try {
        std::string name_text = "/ipckit-example-jobs";
        ipckit::Deadline deadline = ipckit::Deadline::never();
        for (int i = 1; i < argc; ++i) {
            const std::string_view arg = argv[i];
            if (arg == "--timeout-ms" && i + 1 < argc) {
                deadline = ipckit::Deadline::after(
                    std::chrono::milliseconds(std::strtol(argv[++i], nullptr, 10)));
            } else {
                name_text = arg;
            }
        }
        const auto name = ipckit::PosixName::make(name_text).value();
        auto queue = ipckit::PosixMq::open(name, ipckit::Access::ReadOnly).value();
        for (;;) {
            auto job = queue.receive_until(deadline).value();
            if (!job) {
                std::fprintf(stderr, "example_posix_mq_consumer: no job before the deadline\n");
                return 3;
            }
            if (job->text() == "STOP") {
                break;
            }
            std::printf("consumer: priority %2u: %.*s\n",
                        job->priority,
                        static_cast<int>(job->text().size()),
                        job->text().data());
        }
        ipckit::PosixMq::unlink(name).value();
        std::printf("consumer: done, queue %s removed\n", name.c_str());
        return 0;
    } catch (const ipckit::ResultError& e) {
        std::fprintf(stderr, "example_posix_mq_consumer: %s\n", e.error().message().c_str());
        return 1;
    }
}
