// SPDX-License-Identifier: MIT
// ipckit ls: every IPC object on the host, POSIX and System V, and ipckit channels.
#include "cli.hpp"
#include "ipckit/admin/inventory.hpp"
#include "ls_table.hpp"
#include "object_view.hpp"

#include <fmt/core.h>
#include <memory>

namespace ipckit::cli {

namespace {

struct LsOptions {
    bool json = false;
    bool stale = false;
    bool include_unread = false;
    bool expect_none = false;
    std::vector<std::string> types;
    std::string prefix;
    LsTableOptions table;
};

nlohmann::json ls_json(const std::vector<IpcObjectInfo>& shown, const Inventory& inv) {
    nlohmann::json out;
    out["schema"] = "ipckit.ls/1";
    out["objects"] = nlohmann::json::array();
    for (const IpcObjectInfo& o : shown) {
        out["objects"].push_back(to_json(o));
    }
    out["warnings"] = inv.warnings;
    out["unlisted"] = nlohmann::json::array();
    for (IpcObjectKind k : inv.unlisted) {
        out["unlisted"].push_back(kind_name(k));
    }
    return out;
}

/// --expect-none: true when nothing matched and every requested kind could be listed (a kind we
/// could not list cannot be "none").
bool expectation_of_none_met(const LsOptions& opt,
                             const std::vector<IpcObjectInfo>& shown,
                             const Inventory& inv) {
    if (!shown.empty()) {
        if (!opt.json) {
            fmt::print(stderr, "ipckit ls: expected none, found {}\n", shown.size());
        }
        return false;
    }
    return inv.unlisted.empty();
}

/// The kinds to list, or nothing (after saying why) on a usage error.
std::optional<std::vector<IpcObjectKind>> checked_kinds(const LsOptions& opt) {
    auto kinds = parse_kinds(opt.types);
    if (!kinds) {
        print_error("ls", kinds.error());
        return std::nullopt;
    }
    if (opt.include_unread && !opt.stale) {
        fmt::print(stderr, "ipckit ls: --include-unread is for --stale only\n");
        return std::nullopt;
    }
    if (auto columns_ok = render_ls_table({}, opt.table); !columns_ok) {
        print_error("ls", columns_ok.error());  // a bad -o is bad input even when nothing matches
        return std::nullopt;
    }
    return std::move(*kinds);
}

int run_ls(const LsOptions& opt) {
    auto kinds = checked_kinds(opt);
    if (!kinds) {
        return kExitUsage;
    }
    InventoryFilter filter{*kinds, opt.prefix};
    auto inv = Inventory::scan(filter);
    if (!inv) {
        print_error("ls", inv.error());
        return kExitFailure;
    }
    std::vector<IpcObjectInfo> shown;
    for (IpcObjectInfo& o : inv->objects) {
        if (!opt.stale || Inventory::removable_as_stale(o, opt.include_unread)) {
            shown.push_back(std::move(o));
        }
    }
    for (const std::string& w : inv->warnings) {
        fmt::print(stderr, "ipckit ls: {}\n", w);
    }
    if (opt.json) {
        fmt::print("{}\n", json_text(ls_json(shown, *inv)));
    } else if (!shown.empty()) {
        auto table = render_ls_table(shown, opt.table);
        if (!table) {
            print_error("ls", table.error());
            return table.error().code() == std::errc::invalid_argument ? kExitUsage : kExitFailure;
        }
        fmt::print("{}", *table);
    } else if (!opt.expect_none) {
        // Say what was looked at, so an empty answer is never mistaken for "could not look".
        fmt::print(stderr,
                   "ipckit ls: no {}objects{}{}\n",
                   opt.stale ? "stale " : "",
                   opt.prefix.empty() ? "" : " matching prefix '" + opt.prefix + "'",
                   inv->unlisted.empty() ? "" : " among the kinds that could be listed");
    }
    if (opt.expect_none && !expectation_of_none_met(opt, shown, *inv)) {
        return kExitFailure;
    }
    return flush_stdout_status();
}

}  // namespace

void register_ls(CLI::App& root, std::vector<Command>& commands) {
    auto opt = std::make_shared<LsOptions>();
    CLI::App* app = root.add_subcommand("ls", "List every IPC object on this host");
    app->description(
        "List every IPC object on this host: POSIX message queues (/dev/mqueue), POSIX shared\n"
        "memory (/dev/shm), POSIX named semaphores (/dev/shm/sem.*), System V message queues,\n"
        "shared memory segments and semaphore sets (/proc/sysvipc), and ipckit channels, events\n"
        "and services (srv:NAME: one row for the record and its channels), and bridges\n"
        "(bridge:PID: one row per status file of `ipckit bridge`, FROM -> TO and its counters;\n"
        "a killed bridge's file is stale).\n"
        "For each: owner, mode, size, message count or value, the processes that map it or hold\n"
        "it open or attach it (from /proc/*/maps and /proc/*/fd), the last pids the kernel\n"
        "recorded, and a state, the first that applies:\n"
        "  in-use         a live process maps it, holds it open, is attached or waits on\n"
        "                 it\n"
        "  users-unknown  nobody seen, but processes we may not examine (another user's,\n"
        "                 when not root) might use it: never stale\n"
        "  unread         its users are gone, but messages wait in it (or cannot be\n"
        "                 counted)\n"
        "  never-used     System V segment or set whose creator died before anyone used\n"
        "                 it\n"
        "  stale          its users are provably gone and nothing in it waits to be read\n"
        "  idle           nothing proves its users gone (e.g. its last user is alive)\n"
        "Everything ipcs -a and lsipc show for System V is in --json.\n"
        "If /dev/mqueue is not mounted, ls mounts it when root; otherwise it says that POSIX\n"
        "queues cannot be listed (it never reports that there are none).");
    app->add_flag("--json", opt->json, "Print stable JSON (schema ipckit.ls/1) instead of a table");
    app->add_flag("--stale", opt->stale, "Only stale objects: what ipckit rm --stale would remove");
    app->add_flag("--include-unread",
                  opt->include_unread,
                  "With --stale: also unread and never-used ones (rm --stale --include-unread)");
    app->add_option("-t,--type",
                    opt->types,
                    "Only these kinds: mq, shm, sem, sysvmq, sysvshm, sysvsem, chan, event, srv, "
                    "bridge, posix, sysv (repeat or separate with commas)")
        ->delimiter(',');
    app->add_option("-p,--prefix",
                    opt->prefix,
                    "Only names starting with this (POSIX names with or without '/', channel "
                    "names, or System V keys as 0x%08x)");
    app->add_option("-o,--output",
                    opt->table.columns,
                    "Columns to print, separated by commas (see below); +COL,... adds to the "
                    "default ones")
        ->delimiter(',')
        ->type_name("LIST");
    app->add_flag("-n,--noheadings", opt->table.noheadings, "Do not print the header line");
    app->add_flag("-r,--raw",
                  opt->table.raw,
                  "One line per object, cells separated by one space (spaces and control "
                  "characters in a cell escaped as \\x20)");
    app->add_flag("-b,--bytes", opt->table.bytes, "SIZE in bytes, not 64.0K");
    app->add_option("-w,--width",
                    opt->table.width,
                    "Fit the table into this many columns, also when stdout is not a terminal "
                    "(default: the terminal's width, none for a pipe)")
        ->type_name("COLUMNS")
        ->check(CLI::Range(std::size_t{20}, std::size_t{10000}));
    app->add_flag(
        "--expect-none",
        opt->expect_none,
        "Exit 1 if anything matches (or a requested kind cannot be listed): a leak check");
    app->footer(
        ls_columns_help() + "\n" +
        std::string("Examples:\n"
                    "  ipckit ls                          # everything, as a table\n"
                    "  ipckit ls --type sysv              # like ipcs -a\n"
                    "  ipckit ls -o TYPE,NAME,SIZE --bytes --noheadings --raw  # for scripts\n"
                    "  ipckit ls --json | jq '.objects[] | select(.stale)'\n"
                    "  ipckit ls --stale --type posix     # what ipckit rm --stale would remove\n"
                    "  ipckit ls --prefix ipckit-test- --expect-none   # leak check\n\n") +
        kExitCodeHelp);
    commands.push_back({app, [opt] { return run_ls(*opt); }});
}

}  // namespace ipckit::cli
