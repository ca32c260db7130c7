// SPDX-License-Identifier: MIT
// Seed 003 "Example 1/5-5/5": several processes print their lines one character at a time; a
// System V semaphore used as a mutex (P/V with SEM_UNDO) keeps every line whole. The seed's
// multi-second sleeps are microseconds here, and the race between semget and SETVAL that the
// seed has is gone: every process uses SysvSemaphoreSet::open_or_create.
// Usage: example_sysv_semaphore_printers [--key N] [--processes P] [--lines L] [words...]
#include "ipckit/sync/sysv_semaphore_set.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <random>
#include <string>
#include <vector>

namespace {

void put(const std::string& s) {
    // One write(2) per character, unbuffered: without the semaphore, lines from different
    // processes would interleave.
    for (char c : s) {
        if (::write(STDOUT_FILENO, &c, 1) != 1) {
            std::exit(3);
        }
        // NOLINTNEXTLINE(cert-msc30-c,cert-msc50-cpp): scheduling jitter, not security
        ::usleep(static_cast<useconds_t>(std::rand() % 200));
    }
}

int printer(ipckit::SysvKey key, int lines, const std::vector<std::string>& words, int start_fd) {
    std::srand(static_cast<unsigned>(::getpid()));
    // Start together (the parent closes the pipe once every printer exists), so the printers
    // really compete for the terminal.
    char c = 0;
    (void)::read(start_fd, &c, 1);
    ::close(start_fd);
    const std::array<unsigned short, 1> one{1};
    auto set = ipckit::SysvSemaphoreSet::open_or_create(key, one).value();
    for (int i = 0; i < lines; ++i) {
        set.wait(0, /*undo=*/true).value();  // P: if we die here, SEM_UNDO gives the lock back
        put("process " + std::to_string(::getpid()) + ":");
        for (const auto& w : words) {
            put(" " + w);
        }
        put("\n");
        set.post(0, /*undo=*/true).value();  // V
        // NOLINTNEXTLINE(cert-msc30-c,cert-msc50-cpp): scheduling jitter, not security
        ::usleep(static_cast<useconds_t>(std::rand() % 100));
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) try {
    long long key_number = 1234;  // the seed's key
    int processes = 4;
    int lines = 5;
    std::vector<std::string> words;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--key") == 0 && i + 1 < argc) {
            key_number = std::stoll(argv[++i]);
        } else if (std::strcmp(argv[i], "--processes") == 0 && i + 1 < argc) {
            processes = std::stoi(argv[++i]);
        } else if (std::strcmp(argv[i], "--lines") == 0 && i + 1 < argc) {
            lines = std::stoi(argv[++i]);
        } else {
            words.emplace_back(argv[i]);
        }
    }
    if (words.empty()) {
        words = {"hello", "from", "a", "semaphore"};
    }
    const auto key = ipckit::SysvKey::from_number(key_number).value();
    int start[2];
    if (::pipe(start) != 0) {
        std::perror("pipe");
        return 1;
    }
    std::vector<pid_t> children;
    for (int p = 0; p < processes; ++p) {
        const pid_t pid = ::fork();
        if (pid == 0) {
            ::close(start[1]);
            ::_exit(printer(key, lines, words, start[0]));
        }
        if (pid < 0) {
            std::perror("fork");
            return 1;
        }
        children.push_back(pid);
    }
    ::close(start[0]);
    ::close(start[1]);  // go
    int failures = 0;
    for (pid_t pid : children) {
        int status = 0;
        ::waitpid(pid, &status, 0);
        failures += (WIFEXITED(status) && WEXITSTATUS(status) == 0) ? 0 : 1;
    }
    // The parent created nothing itself; whoever won open_or_create made the set. Remove it.
    auto set = ipckit::SysvSemaphoreSet::open(key).value();
    set.remove().value();
    std::printf("%d processes finished, %d failed\n", processes, failures);
    return failures == 0 ? 0 : 1;
} catch (const std::exception& e) {
    std::fprintf(stderr, "example_sysv_semaphore_printers: %s\n", e.what());
    return 1;
}
