// SPDX-License-Identifier: MIT
// POSIX shared memory reader: waits for NAME to appear, then for the writer's message (futex),
// prints it and acknowledges. Usage: example_shm_posix_reader NAME
#include "ipckit/shm/posix_shm.hpp"
#include "ipckit/sync/futex.hpp"
#include "shm_mailbox.hpp"

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

using namespace std::chrono_literals;

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s NAME\n", argv[0]);
        return 2;
    }
    try {
        auto name = ipckit::PosixName::make(argv[1]).value();
        const auto deadline = ipckit::Deadline::after(10s);
        // The writer may not have created (or sized) the object yet: retry, bounded.
        ipckit::Result<ipckit::Region> region = ipckit::Error();
        for (;;) {
            auto shm = ipckit::PosixShm::open(name);
            if (shm) {
                region = shm->map();  // fails while the object is still empty
            }
            if (region && region->size() >= mailbox::kSize) {
                break;
            }
            if (deadline.expired()) {
                std::fprintf(stderr, "reader: %s did not appear within 10 s\n", name.c_str());
                return 1;
            }
            std::this_thread::sleep_for(5ms);
        }
        auto* state = region->as<std::atomic<std::uint32_t>>(mailbox::kStateOffset).value();
        while (state->load(std::memory_order_acquire) == mailbox::kEmpty) {
            if (!ipckit::Futex::wait(*state, mailbox::kEmpty, deadline).value()) {
                std::fprintf(stderr, "reader: no message within 10 s\n");
                return 1;
            }
        }
        // The length comes from the other process: bound it by what we mapped.
        const std::uint64_t n = *region->as<std::uint64_t>(mailbox::kLengthOffset).value();
        if (n > mailbox::kMaxText) {
            std::fprintf(stderr,
                         "reader: length %llu exceeds the mailbox\n",
                         static_cast<unsigned long long>(n));
            return 1;
        }
        auto text = region->as_array<char>(mailbox::kTextOffset, n).value();
        std::printf("reader: got '%.*s'\n", static_cast<int>(n), text.data());
        state->store(mailbox::kRead, std::memory_order_release);
        (void)ipckit::Futex::wake_all(*state).value();  // throws on failure; the count is not needed
        return 0;
    } catch (const ipckit::ResultError& e) {
        std::fprintf(stderr, "reader: %s\n", e.error().message().c_str());
        return 1;
    }
}
