// SPDX-License-Identifier: MIT
// The ipckit command: see, drive and measure every UNIX IPC facility. Subcommands plug in through
// the registrars listed in kRegistrars (one file each: ls.cpp, send.cpp, bench.cpp, ...).
#include "cli.hpp"
#include "help_format.hpp"
#include "ipckit/core/io.hpp"
#include "ipckit/core/result.hpp"
#include "ipckit/version.hpp"

#include <signal.h>

#include <array>
#include <cstdio>
#include <fmt/core.h>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace ipckit::cli {

namespace {
std::vector<std::string>& command_line_storage() {
    static std::vector<std::string> args;  // set once by run(), before any subcommand runs
    return args;
}
}  // namespace

const std::vector<std::string>& command_line() {
    return command_line_storage();
}

void print_error(const std::string& subcommand, const Error& error) {
    fmt::print(
        stderr, "ipckit{}{}: {}\n", subcommand.empty() ? "" : " ", subcommand, error.message());
}

void register_ls(CLI::App& root, std::vector<Command>& commands);     // ls.cpp
void register_stat(CLI::App& root, std::vector<Command>& commands);   // stat.cpp
void register_rm(CLI::App& root, std::vector<Command>& commands);     // rm.cpp
void register_send(CLI::App& root, std::vector<Command>& commands);   // send.cpp
void register_recv(CLI::App& root, std::vector<Command>& commands);   // recv.cpp
void register_sem(CLI::App& root, std::vector<Command>& commands);    // sem.cpp
void register_lock(CLI::App& root, std::vector<Command>& commands);   // lock.cpp
void register_bench(CLI::App& root, std::vector<Command>& commands);  // bench.cpp
void register_call(CLI::App& root, std::vector<Command>& commands);   // call.cpp
void register_serve(CLI::App& root, std::vector<Command>& commands);  // serve.cpp
void register_bridge(CLI::App& root, std::vector<Command>& commands);  // bridge.cpp
void register_completion(CLI::App& root, std::vector<Command>& commands);  // completion.cpp

// Subcommands register here as they land (no do-nothing stubs); --help lists them in this order.
constexpr std::array kRegistrars{
    register_ls,
    register_stat,
    register_rm,
    register_send,
    register_recv,
    register_sem,
    register_lock,
    register_bench,
    register_call,
    register_serve,
    register_bridge,
    register_completion,
};

}  // namespace ipckit::cli

namespace {

int run(int argc, char** argv) {
    using namespace ipckit::cli;

    CLI::App app{"ipckit: see, drive and measure every UNIX IPC facility on this host.\n" +
                 std::string(kExitCodeHelp)};
    app.name("ipckit");  // usage lines say "ipckit", not the path it was started by
    app.formatter(std::make_shared<HelpFormatter>());  // before the subcommands: they inherit it
    app.set_version_flag("-V,--version", std::string("ipckit ") + ipckit::kVersion);
    app.require_subcommand(0, 1);
    const std::span<char*> args(argv, static_cast<std::size_t>(argc));
    command_line_storage().assign(args.begin(), args.end());
    std::vector<Command> commands;
    for (Registrar r : kRegistrars) {
        r(app, commands);
    }

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return report_parse_error(app, e);
    }
    for (const Command& c : commands) {
        if (c.app != nullptr && c.app->parsed()) {
            try {
                return c.run();
            } catch (const ipckit::ResultError& e) {
                print_error(c.app->get_name(), e.error());
                return kExitFailure;
            }
        }
    }
    // No subcommand is a usage error (--help is the way to ask for the whole help on stdout).
    std::string names;
    for (const Command& c : commands) {
        if (c.app->get_group().empty()) {
            continue;  // hidden (completion)
        }
        names += (names.empty() ? "" : ", ") + c.app->get_name();
    }
    fmt::print(stderr,
               "ipckit: a subcommand is required: {}\n"
               "Usage: ipckit SUBCOMMAND [OPTIONS] [ARGS]...  (ipckit --help, ipckit SUBCOMMAND "
               "--help)\n",
               names);
    return kExitUsage;
}

}  // namespace

int main(int argc, char** argv) {
    // Nothing ipckit does may die of SIGPIPE: a closed stdout or socket is an EPIPE we report.
    // Also lets pipe/FIFO writes skip the per-write SIGPIPE shield (core/io.hpp).
    (void)ipckit::ignore_sigpipe_process_wide();
    try {
        return run(argc, argv);
    } catch (const std::exception& e) {
        (void)std::fprintf(stderr, "ipckit: %s\n", e.what());
        return ipckit::cli::kExitFailure;
    }
}
