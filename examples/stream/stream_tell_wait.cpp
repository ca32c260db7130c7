// SPDX-License-Identifier: MIT
// Seed 003, Program 15.7: parent and child take turns through two pipes with TELL_WAIT,
// TELL_CHILD/WAIT_PARENT and TELL_PARENT/WAIT_CHILD (ipckit/stream/tell_wait.hpp).
// The output order is fixed by the synchronisation alone: parent 0, child 0, parent 1, ...
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "ipckit/stream/tell_wait.hpp"

namespace {
void say(const std::string& line) {
    // One write(2) per line: no stdio buffer that fork could duplicate.
    [[maybe_unused]] const auto n = ::write(STDOUT_FILENO, line.data(), line.size());
}
}  // namespace

int main() {
    constexpr int kRounds = 3;
    auto tw = ipckit::TellWait::create().value();  // TELL_WAIT()
    const pid_t pid = ::fork();
    if (pid < 0) {
        std::perror("fork");
        return 1;
    }
    if (pid == 0) {
        tw.become_child();
        for (int i = 0; i < kRounds; ++i) {
            tw.wait_parent().value();  // WAIT_PARENT()
            say("child " + std::to_string(i) + "\n");
            tw.tell_parent().value();  // TELL_PARENT(getppid())
        }
        ::_exit(0);
    }
    tw.become_parent();
    for (int i = 0; i < kRounds; ++i) {
        say("parent " + std::to_string(i) + "\n");
        tw.tell_child().value();  // TELL_CHILD(pid)
        tw.wait_child().value();  // WAIT_CHILD()
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
