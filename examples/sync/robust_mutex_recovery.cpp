// SPDX-License-Identifier: MIT
// A robust process-shared mutex protects two counters that must stay equal. A child takes the
// mutex, bumps the first counter and is killed (SIGKILL) before the second; the parent's next
// lock is told the owner died, repairs the invariant, marks the mutex consistent and goes on.
#include "ipckit/core/mapping.hpp"
#include "ipckit/sync/robust_mutex.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <exception>
#include <new>

namespace {
struct Counters {
    long a = 0;
    long b = 0;  // invariant: a == b whenever the mutex is free
};
}  // namespace

int main() try {
    using namespace ipckit;
    auto shm = Mapping::map_anonymous(4096).value();
    auto mutex = RobustMutex::init(shm.bytes().first(RobustMutex::kSize)).value();
    // NOLINTNEXTLINE(cppcoreguidelines-owning-memory): placement new in shared memory
    auto* counters = new (shm.data() + 128) Counters{};

    const pid_t child = ::fork();
    if (child == 0) {
        (void)mutex.lock();
        counters->a += 1;
        ::raise(SIGKILL);  // dies holding the mutex, invariant broken
        ::_exit(1);
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    std::printf("child %s while holding the mutex: a=%ld b=%ld\n",
                WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL ? "killed" : "ended",
                counters->a,
                counters->b);

    const MutexState state = mutex.lock().value();
    if (state == MutexState::OwnerDied) {
        std::printf(
            "lock: previous owner died; repairing b=%ld -> %ld\n", counters->b, counters->a);
        counters->b = counters->a;
        mutex.consistent().value();
    }
    counters->a += 1;
    counters->b += 1;
    mutex.unlock().value();
    std::printf("consistent again: a=%ld b=%ld\n", counters->a, counters->b);
    std::printf("next lock: %s\n",
                mutex.lock().value() == MutexState::Consistent ? "consistent" : "owner died");
    mutex.unlock().value();
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "example_robust_mutex_recovery: %s\n", e.what());
    return 1;
}
