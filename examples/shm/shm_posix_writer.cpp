// SPDX-License-Identifier: MIT
// POSIX shared memory writer: creates NAME, writes a message, and waits (on a futex in the
// segment) until the reader says it has read it. Usage: example_shm_posix_writer NAME [TEXT]
#include "ipckit/shm/posix_shm.hpp"
#include "ipckit/sync/futex.hpp"
#include "shm_mailbox.hpp"

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

using namespace std::chrono_literals;

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s NAME [TEXT]\n", argv[0]);
        return 2;
    }
    const std::string text = argc > 2 ? argv[2] : "hello through POSIX shared memory";
    try {
        auto name = ipckit::PosixName::make(argv[1]).value();
        // Created 0600 and exclusive; unlinked when `shm` goes out of scope.
        auto shm = ipckit::PosixShm::create(name, mailbox::kSize).value();
        ipckit::Region region = shm.map().value();
        auto* state =
            region.construct<std::atomic<std::uint32_t>>(mailbox::kStateOffset, mailbox::kEmpty)
                .value();
        const std::size_t n = std::min(text.size(), mailbox::kMaxText);
        *region.as<std::uint64_t>(mailbox::kLengthOffset).value() = n;
        auto out = region.as_array<char>(mailbox::kTextOffset, n).value();
        std::memcpy(out.data(), text.data(), n);
        state->store(mailbox::kWritten, std::memory_order_release);  // publish after the text
        (void)ipckit::Futex::wake_all(*state).value();  // throws on failure; the count is not needed
        std::printf("writer: wrote %zu bytes to %s\n", n, name.c_str());
        std::fflush(stdout);

        const auto deadline = ipckit::Deadline::after(10s);
        while (state->load(std::memory_order_acquire) != mailbox::kRead) {
            if (!ipckit::Futex::wait(*state, mailbox::kWritten, deadline).value()) {
                std::fprintf(stderr, "writer: no reader within 10 s\n");
                return 1;
            }
        }
        std::printf("writer: reader acknowledged\n");
        return 0;
    } catch (const ipckit::ResultError& e) {
        std::fprintf(stderr, "writer: %s\n", e.error().message().c_str());
        return 1;
    }
}
