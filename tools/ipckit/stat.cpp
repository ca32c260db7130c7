// SPDX-License-Identifier: MIT
// ipckit stat URI: everything the kernel says about one IPC object.
#include <memory>

#include <fmt/core.h>

#include "cli.hpp"
#include "ipckit/admin/inventory.hpp"
#include "object_view.hpp"

namespace ipckit::cli {

namespace {

struct StatOptions {
    std::string uri;
    bool json = false;
};

int run_stat(const StatOptions& opt) {
    Result<std::optional<IpcObjectInfo>> found = std::optional<IpcObjectInfo>();
    std::string shown_as = opt.uri;
    if (is_named_object(opt.uri)) {
        found = find_named_object(opt.uri);
    } else {
        auto uri = Uri::parse(opt.uri);
        if (!uri) {
            print_error("stat", uri.error());
            return kExitUsage;
        }
        shown_as = uri->object_string();
        found = Inventory::find(*uri, /*details=*/true);
    }
    if (!found) {
        print_error("stat", found.error());
        return found.error().code() == std::errc::invalid_argument ? kExitUsage : kExitFailure;
    }
    if (!*found) {
        fmt::print(stderr, "ipckit stat: {}: no such object\n", shown_as);
        return kExitFailure;
    }
    if (opt.json) {
        fmt::print("{}\n", json_text(to_json(**found)));
    } else {
        fmt::print("{}", render_details(**found));
    }
    return flush_stdout_status();
}

}  // namespace

void register_stat(CLI::App& root, std::vector<Command>& commands) {
    auto opt = std::make_shared<StatOptions>();
    CLI::App* app = root.add_subcommand("stat", "Show everything about one IPC object");
    app->description(
        "Show everything the kernel records about one IPC object: owner and creator, mode, size,\n"
        "queued messages and queue limits (mq_getattr, msg_qbytes), semaphore values and the last\n"
        "pid of each semaphore (System V), attach count and creator/last pids (System V shm),\n"
        "times, and the processes that map it or hold it open. What cannot be read (no\n"
        "permission) is shown as a note; the metadata that can be read is still shown.\n"
        "A service (srv:NAME) shows its server (pid, generation, alive), each client lane (pid,\n"
        "alive, requests, responses, in flight) and its sizes.\n"
        "A bridge (bridge:PID, as ipckit ls lists it) shows FROM, TO, running or dead, relayed,\n"
        "dropped and gaps per direction, and reconnects (from its status file).\n"
        "URIs: mq:/NAME  shm:/NAME  sem:/NAME  chan:NAME  event:NAME  srv:NAME  bridge:PID\n"
        "sysvmq:KEY  sysvshm:KEY  sysvsem:KEY\n"
        "where KEY is a number (4587, 0x11eb), ftok:PATH:ID or id:ID.");
    app->add_option("uri", opt->uri, "The object, e.g. mq:/jobs or sysvshm:id:5")->required();
    app->add_flag("--json", opt->json, "Print one JSON object (the ipckit ls --json object form)");
    app->footer(std::string("Examples:\n"
                            "  ipckit stat mq:/jobs\n"
                            "  ipckit stat sysvsem:ftok:/etc/hostname:1 --json\n"
                            "  ipckit stat sysvmq:id:3\n"
                            "  ipckit stat srv:calc --json\n"
                            "  ipckit stat bridge:4242\n\n") +
                "A missing object prints \"no such object\" and exits 1.\n" + kExitCodeHelp);
    commands.push_back({app, [opt] { return run_stat(*opt); }});
}

}  // namespace ipckit::cli
