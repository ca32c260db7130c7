// SPDX-License-Identifier: MIT
// Seed 003, Program 15.5: the parent sends "hello world" to its child through a pipe.
// With ipckit the ends are separate owners, so each process drops the end it does not use by
// closing it, the write cannot raise SIGPIPE, and the parent reaps the child.
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>

#include "ipckit/stream/pipe.hpp"

int main() {
    auto [reader, writer] = ipckit::Pipe::create().value();
    const pid_t pid = ::fork();
    if (pid < 0) {
        std::perror("fork");
        return 1;
    }
    if (pid > 0) {  // parent
        reader.close();
        writer.write_all("hello world\n").value();
        writer.close();
        int status = 0;
        ::waitpid(pid, &status, 0);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
    }
    // child
    writer.close();
    std::array<std::byte, 4096> line{};
    auto n = reader.read(line);
    if (!n) {
        std::fprintf(stderr, "%s\n", n.error().message().c_str());
        ::_exit(1);
    }
    [[maybe_unused]] const auto w = ::write(STDOUT_FILENO, line.data(), *n);
    ::_exit(0);
}
