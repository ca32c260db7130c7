// SPDX-License-Identifier: MIT
// Seed 003, Program 15.11: copy a file to a pager, popen(PAGER, "w") style, with
// ipckit::Process::shell. $PAGER may carry options ("less -R"), so like popen it runs through
// /bin/sh -c. Safe default when $PAGER is unset or empty: `more` only when stdout is a terminal
// (a pager needs one), otherwise `cat`, so the program also works in pipelines and tests.
// A pager that quits early (the user pressed q) is not an error: EPIPE ends the copy quietly.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "ipckit/stream/process.hpp"

int main(int argc, char* argv[]) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s <pathname>\n", argv[0]);
        return 2;
    }
    std::ifstream in(argv[1]);
    if (!in) {
        std::fprintf(stderr, "can't open %s\n", argv[1]);
        return 1;
    }
    const char* env = std::getenv("PAGER");  // NOLINT(concurrency-mt-unsafe): single-threaded
    const std::string pager =
        (env != nullptr && *env != '\0') ? env : (::isatty(STDOUT_FILENO) != 0 ? "more" : "cat");

    auto proc = ipckit::Process::shell(pager, {}, {.in = ipckit::Stdio::pipe()});
    if (!proc) {
        std::fprintf(stderr, "popen %s: %s\n", pager.c_str(), proc.error().message().c_str());
        return 1;
    }
    for (std::string line; std::getline(in, line);) {
        if (!in.eof()) {
            line += '\n';
        }
        auto w = proc->stdin_pipe().write_all(line);
        if (!w) {
            if (w.error() == std::errc::broken_pipe) {
                break;  // the pager has quit
            }
            std::fprintf(stderr, "write to pager: %s\n", w.error().message().c_str());
            return 1;
        }
    }
    proc->stdin_pipe().close();  // pclose: end of file for the pager, then wait
    auto status = proc->wait();
    if (!status) {
        std::fprintf(stderr, "pclose: %s\n", status.error().message().c_str());
        return 1;
    }
    if (!status->success()) {
        std::fprintf(stderr, "pager %s %s\n", pager.c_str(), status->describe().c_str());
        return 1;
    }
    return 0;
}
