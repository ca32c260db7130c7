// SPDX-License-Identifier: MIT
// The lecture notes' System V message-queue client (Example 3/4-4/4), on ipckit: open the queue
// the server created under the agreed key, send a type-1 message, wait for the type-2 answer and
// print it. Start example_sysv_msg_server first (same KEY).
//
//   example_sysv_msg_client [KEY]     KEY: 4587 (default), 0x11eb, or ftok:PATH:ID
#include "ipckit/core/sysv_key.hpp"
#include "ipckit/message/sysv_msg_queue.hpp"

#include <cstdio>
#include <string>

int main(int argc, char** argv) {
    try {
        const std::string key_text = argc > 1 ? argv[1] : "4587";
        const auto key = ipckit::SysvKey::parse(key_text).value();
        auto queue = ipckit::SysvMsgQueue::open(key).value();  // msgget(key, 0): the server's queue
        queue.send(1, "Did you get the Message ?").value();
        const auto answer = queue.receive(2).value();  // only the server's type-2 answer
        std::printf("%.*s\n", static_cast<int>(answer.text().size()), answer.text().data());
        return 0;
    } catch (const ipckit::ResultError& e) {
        std::fprintf(stderr, "example_sysv_msg_client: %s\n", e.error().message().c_str());
        return 1;
    }
}
