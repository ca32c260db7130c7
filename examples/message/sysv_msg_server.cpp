// SPDX-License-Identifier: MIT
// The lecture notes' System V message-queue server (Example 1/4-2/4), on ipckit: create the queue
// under an agreed key, wait for the first message of any type, answer with type 2.
//
//   example_sysv_msg_server [KEY]     KEY: 4587 (default), 0x11eb, or ftok:PATH:ID
//   example_sysv_msg_client [KEY]     in another terminal
//
// Like the original, the queue outlives both programs; remove it with `ipcrm -Q KEY`.
#include "ipckit/core/sysv_key.hpp"
#include "ipckit/message/sysv_msg_queue.hpp"

#include <cstdio>
#include <string>

int main(int argc, char** argv) {
    try {
        const std::string key_text = argc > 1 ? argv[1] : "4587";
        const auto key = ipckit::SysvKey::parse(key_text).value();
        auto queue =
            ipckit::SysvMsgQueue::open_or_create(key).value();  // msgget(key, IPC_CREAT|0600)
        const auto request = queue.receive(0).value();          // type 0: the first message
        std::printf("server: received \"%.*s\"\n",
                    static_cast<int>(request.text().size()),
                    request.text().data());
        queue.send(2, "I received the message.").value();  // the client waits for type 2
        return 0;
    } catch (const ipckit::ResultError& e) {
        std::fprintf(stderr, "example_sysv_msg_server: %s\n", e.error().message().c_str());
        return 1;
    }
}
