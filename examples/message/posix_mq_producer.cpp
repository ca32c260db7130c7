// SPDX-License-Identifier: MIT
// POSIX message-queue producer: queues jobs with priorities, then a priority-0 "STOP" that the
// consumer sees last. Run it, then example_posix_mq_consumer with the same NAME: the consumer
// gets the urgent jobs first, FIFO within one priority.
//
//   example_posix_mq_producer [/NAME]     (default /ipckit-example-jobs)
#include "ipckit/core/posix_name.hpp"
#include "ipckit/message/posix_mq.hpp"

#include <cstdio>
#include <string>

int main(int argc, char** argv) {
    try {
        const auto name =
            ipckit::PosixName::make(argc > 1 ? argv[1] : "/ipckit-example-jobs").value();
        auto queue = ipckit::PosixMq::open_or_create(name,
                                                     {.max_messages = 10, .max_message_size = 128},
                                                     ipckit::Permissions(0600),
                                                     ipckit::Access::WriteOnly)
                         .value();
        struct Job {
            const char* text;
            unsigned priority;
        };
        const Job jobs[] = {
            {"routine: rotate logs", 1},
            {"URGENT: disk almost full", 30},
            {"normal: send report", 10},
            {"routine: clean /tmp", 1},
            {"URGENT: certificate expires", 30},
            {"normal: rebuild index", 10},
            {"STOP", 0},
        };
        for (const Job& job : jobs) {
            queue.send(job.text, job.priority).value();
            std::printf("producer: sent \"%s\" (priority %u)\n", job.text, job.priority);
        }
        return 0;
    } catch (const ipckit::ResultError& e) {
        std::fprintf(stderr, "example_posix_mq_producer: %s\n", e.error().message().c_str());
        return 1;
    }
}
