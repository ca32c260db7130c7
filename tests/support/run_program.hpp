// SPDX-License-Identifier: MIT
// run_program: exec a built program (an example, the ipckit binary) with input, capture its
// output, and kill it if it outlives a timeout.
// Not built on ipckit::run/Process, on purpose: it is the independent oracle for programs built on
// Process (ipckit lock, the popen examples), and it needs what run() does not give, namely a
// program that dies with its test (PR_SET_PDEATHSIG) and the output of one that timed out.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace ipckit::test {

struct RunResult {
    bool exited = false;
    int exit_code = -1;
    int signal = 0;
    bool timed_out = false;
    std::string out;
    std::string err;
    [[nodiscard]] std::string describe() const;
};

struct RunOptions {
    std::string input;                          ///< written to stdin, then stdin is closed
    std::chrono::milliseconds timeout{10'000};  ///< SIGKILL past this
    std::vector<std::string> env;               ///< extra "NAME=value" entries
};

/// Runs argv[0] (a path) with argv, feeding input and collecting stdout/stderr concurrently (no
/// pipe-buffer deadlock). Throws std::system_error only if the harness itself cannot fork/pipe.
RunResult run_program(const std::vector<std::string>& argv, const RunOptions& options = {});

/// Path of a built artefact: "bin/ipckit", "examples/example_pipe_parent_child".
std::string build_path(const std::string& relative);

}  // namespace ipckit::test
