// SPDX-License-Identifier: MIT
// Shared plumbing of the ipckit subcommands: exit codes and how a subcommand plugs in.
#pragma once

#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "ipckit/core/error.hpp"

namespace ipckit::cli {

/// Exit codes of every subcommand (DESIGN.md; printed in --help).
enum ExitCode : int {
    kExitOk = 0,        ///< success
    kExitFailure = 1,   ///< a system error, named on stderr
    kExitUsage = 2,     ///< usage or bad input
    kExitTimeout = 3,   ///< timed out, or nothing to receive
    kExitRefused = 4,   ///< refused for safety (owner, symlink, mode, in use)
};

inline constexpr const char* kExitCodeHelp =
    "Exit codes: 0 success, 1 failure (system error), 2 usage or bad input, "
    "3 timed out or nothing to receive, 4 refused for safety.";

/// A subcommand sets `run` to the function that does the work once arguments are parsed; its
/// return value is the process exit code.
struct Command {
    CLI::App* app = nullptr;
    std::function<int()> run;
};

/// main()'s argv (argv[0] first), for a subcommand whose grammar CLI11 cannot express (lock:
/// its options end at FILE, as with getopt "+").
const std::vector<std::string>& command_line();

/// Prints "ipckit SUB: <error message>" to stderr.
void print_error(const std::string& subcommand, const Error& error);

/// Flushes stdout and turns any write error on it (a closed pipe, a full disk) into the exit code:
/// kExitFailure if stdout failed, kExitOk otherwise.
[[nodiscard]] inline int flush_stdout_status() {
    const bool flush_failed = std::fflush(stdout) != 0;
    return flush_failed || std::ferror(stdout) != 0 ? kExitFailure : kExitOk;
}

/// Each subcommand file defines one of these; main() calls them in order (see main.cpp).
using Registrar = void (*)(CLI::App& root, std::vector<Command>& commands);

}  // namespace ipckit::cli
