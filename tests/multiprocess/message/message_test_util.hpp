// SPDX-License-Identifier: MIT
// Small helpers shared by the message-queue multi-process tests (not part of the harness).
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <grp.h>

namespace ipckit::test {

/// A one-shot "ready" signal from a child to the parent over a pipe (no sleeps).
class ReadyPipe {
public:
    ReadyPipe() { (void)::pipe2(fds_, O_CLOEXEC); }
    ReadyPipe(const ReadyPipe&) = delete;
    ReadyPipe& operator=(const ReadyPipe&) = delete;
    ~ReadyPipe() {
        ::close(fds_[0]);
        ::close(fds_[1]);
    }
    /// In the child.
    void signal() const { (void)::write(fds_[1], "r", 1); }
    /// In the parent: true once the child signalled, false after `timeout`.
    [[nodiscard]] bool wait(std::chrono::milliseconds timeout) const {
        pollfd p{fds_[0], POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) {
            return false;
        }
        char c = 0;
        return ::read(fds_[0], &c, 1) == 1;
    }

private:
    int fds_[2] = {-1, -1};
};

/// In a child: become the unprivileged user "nobody" (65534) for permission tests.
inline bool drop_to_nobody() {
    constexpr uid_t kNobody = 65534;
    return ::setgroups(0, nullptr) == 0 && ::setresgid(kNobody, kNobody, kNobody) == 0 &&
           ::setresuid(kNobody, kNobody, kNobody) == 0;
}

/// Exit code a child uses to say "cannot run here" (like liburing's 77).
inline constexpr int kChildSkip = 77;

}  // namespace ipckit::test
