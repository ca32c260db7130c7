// SPDX-License-Identifier: MIT
// ipckit bridge FROM TO: relay a local endpoint to or from NATS, a thin layer over ipckit::Bridge
// (docs/design/bridge.md).
#include "ipckit/bridge/bridge.hpp"

#include "endpoint_cli.hpp"
#include "object_view.hpp"
#include "ipckit/bridge/bridge_status.hpp"

#include <signal.h>

#include <atomic>
#include <fmt/core.h>
#include <memory>
#include <nlohmann/json.hpp>

namespace ipckit::cli {

namespace {

struct BridgeArgs {
    std::string from;
    std::string to;
    bool create = false;
    bool both = false;
    bool stats = false;
    bool lossy = false;
    bool low_latency = false;
    int max_retries = 60;
    std::string jetstream;
    std::string durable;
    std::string state;
    std::string mode;
    std::vector<std::string> trust_owners;
    std::string status_dir;  ///< empty: bridge_status_dir()
    bool no_status = false;
};

struct BridgesArgs {
    std::string dir;  ///< empty: bridge_status_dir()
    bool json = false;
    bool remove_dead = false;
};

std::atomic<Bridge*> g_bridge{nullptr};

void on_stop_signal(int /*sig*/) {
    if (Bridge* b = g_bridge.load()) {
        b->stop();  // an atomic store: async-signal-safe
    }
}

void print_stats(const Bridge& b) {
    const BridgeStats s = b.stats();
    fmt::print(stderr,
               "ipckit bridge: relayed {}, dropped {}, gaps {}, reconnects {}\n",
               s.relayed,
               s.dropped,
               s.gaps,
               s.reconnects);
}

int run_bridge(const BridgeArgs& a) {
    auto from = Uri::parse(a.from);
    if (!from) {
        return fail("bridge", from.error());
    }
    auto to = Uri::parse(a.to);
    if (!to) {
        return fail("bridge", to.error());
    }
    if (a.max_retries < -1) {
        return usage("bridge",
                     fmt::format("--max-retries {}: must be >= 0 (-1: for ever)", a.max_retries));
    }
    BridgeOptions o;
    o.create = a.create;
    o.both = a.both;
    o.on_full = a.lossy ? BridgeFullPolicy::Drop : BridgeFullPolicy::Block;
    o.max_retries = a.max_retries;
    o.low_latency = a.low_latency;
    o.jetstream = a.jetstream;
    o.durable = a.durable;
    o.state_file = a.state;
    if (a.jetstream.empty() && (!a.durable.empty() || !a.state.empty())) {
        return usage("bridge", "--durable and --state are for --jetstream");
    }
    if (!a.mode.empty()) {
        const auto m = parse_mode(a.mode);
        if (!m) {
            return usage("bridge", "--mode '" + a.mode + "' is not an octal mode <= 0777");
        }
        o.mode = *m;
    }
    auto owners = trusted_owners(a.trust_owners);
    if (!owners) {
        return fail("bridge", owners.error());
    }
    o.ownership = std::move(*owners);
    o.report = [](const std::string& line) { fmt::print(stderr, "ipckit bridge: {}\n", line); };
    if (!a.no_status) {
        o.status_dir = a.status_dir.empty() ? bridge_status_dir() : a.status_dir;
    }

    auto bridge = Bridge::open(*from, *to, o);
    if (!bridge) {
        return fail("bridge", bridge.error());
    }
    g_bridge.store(&*bridge);
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    ::sigaction(SIGINT, &sa, nullptr);
    ::sigaction(SIGTERM, &sa, nullptr);
    auto r = bridge->run();
    g_bridge.store(nullptr);
    if (a.stats) {
        print_stats(*bridge);
    }
    if (!r) {  // while relaying nothing is bad input any more (a removed queue says EINVAL)
        print_error("bridge", r.error());
        return kExitFailure;
    }
    return kExitOk;
}

int run_bridges(const BridgesArgs& a) {
    auto list = list_bridges(a.dir);
    if (!list) {
        return fail("bridges", list.error());
    }
    int rc = kExitOk;
    nlohmann::json out = nlohmann::json::array();
    for (const BridgeStatus& b : *list) {
        bool removed = false;
        if (a.remove_dead && !b.alive) {
            if (auto r = remove_bridge_status(b); !r) {
                print_error("bridges", r.error());
                rc = kExitFailure;
            } else {
                removed = true;
            }
        }
        if (a.json) {
            nlohmann::json row = bridge_status_json(b);
            row["removed"] = removed;
            out.push_back(std::move(row));
            continue;
        }
        fmt::print("{} {} {} -> {}\n",
                   b.pid,
                   b.alive ? "running"
                           : (removed ? "dead (removed)" : "dead (ipckit bridges --remove-dead)"),
                   b.from,
                   b.to);
        fmt::print("  -> relayed {} dropped {} gaps {}\n",
                   b.forward.relayed,
                   b.forward.dropped,
                   b.forward.gaps);
        if (b.back.relayed + b.back.dropped + b.back.gaps > 0) {
            fmt::print("  <- relayed {} dropped {} gaps {}\n",
                       b.back.relayed,
                       b.back.dropped,
                       b.back.gaps);
        }
        fmt::print("  reconnects {}\n", b.reconnects);
    }
    if (a.json) {
        fmt::print("{}\n",
                   json_text(nlohmann::json({{"schema", "ipckit.bridges/1"}, {"bridges", out}})));
    }
    const int flushed = flush_stdout_status();
    return rc == kExitOk ? flushed : rc;
}

void register_bridges(CLI::App& root, std::vector<Command>& commands) {
    auto a = std::make_shared<BridgesArgs>();
    CLI::App* app = root.add_subcommand("bridges", "List the running bridges and their counters");
    app->description(
        "List the bridges of this user from their status files (each running `ipckit bridge`\n"
        "keeps one, refreshed every 100 ms and removed at exit): pid, FROM -> TO and the counters\n"
        "per direction (relayed, dropped, gaps) and reconnects. A file left by a killed bridge is\n"
        "shown as dead; --remove-dead removes those.");
    app->add_option("--dir", a->dir, "The status directory (default: " + bridge_status_dir() + ")");
    app->add_flag("--json", a->json, "Print one JSON object");
    app->add_flag("--remove-dead", a->remove_dead, "Remove the status files of dead bridges");
    commands.push_back({app, [a] { return run_bridges(*a); }});
}

}  // namespace

void register_bridge(CLI::App& root, std::vector<Command>& commands) {
    auto a = std::make_shared<BridgeArgs>();
    CLI::App* app =
        root.add_subcommand("bridge", "Relay a local endpoint to or from a NATS subject");
    app->description(
        "Relay every message from FROM to TO until SIGINT/SIGTERM (then exit 0). Either side is a\n"
        "message endpoint URI (chan:, mq:, sysvmq:, unix-dgram:, ...) or "
        "nats://HOST:PORT/SUBJECT.\n"
        "A wildcard subject ('*', '>') may be the FROM side: every match goes to the one local\n"
        "endpoint. Core NATS is at most once: what it loses is counted from the sequence numbers\n"
        "the bridge stamps on each message (its Ipckit header) and reported on stderr as gaps.\n"
        "mq priority and SysV type travel in that header and are restored on the far side.\n"
        "When the local side is full the bridge waits (nothing dropped) unless --lossy, which\n"
        "drops, counts and reports. A lost server connection is retried with backoff;\n"
        "after --max-retries retries (also at start) the bridge exits 1.");
    app->add_option("from", a->from, "Where messages come from (URI)")->required();
    app->add_option("to", a->to, "Where they go (URI)")->required();
    app->add_flag("--create", a->create, "Create the local queue or channel if missing");
    app->add_flag("--both",
                  a->both,
                  "Relay both ways between a chan: and a subject, never echoing its own messages");
    app->add_flag("--stats",
                  a->stats,
                  "At exit, print the counters on stderr: relayed, dropped, gaps, reconnects");
    app->add_flag("--lossy",
                  a->lossy,
                  "When the receiving side is full, drop the message (counted and reported) "
                  "instead of waiting");
    app->add_flag("--low-latency",
                  a->low_latency,
                  "Send each message to the server at once (no batching): lower latency, "
                  "more system calls");
    app->add_option("--max-retries",
                    a->max_retries,
                    "Retries of the server connection (at start and after a loss, with backoff) "
                    "before giving up with exit 1; 0: none; -1: for ever (default 60)");
    app->add_option("--jetstream",
                    a->jetstream,
                    "Use JetStream: publish acked with Nats-Msg-Id de-duplication; receive "
                    "through a durable consumer, acking after the local send")
        ->type_name("STREAM");
    app->add_option("--durable", a->durable, "JetStream receive: the durable consumer's name")
        ->type_name("NAME");
    app->add_option("--state",
                    a->state,
                    "JetStream receive: file keeping the last delivered stream sequence, so a "
                    "restart resumes with nothing lost or delivered twice")
        ->type_name("FILE");
    app->add_option("--mode", a->mode, "Permissions of a created local object (octal)");
    app->add_option(
           "--status-dir",
           a->status_dir,
           "Where the status file goes (default: " + bridge_status_dir() + "; see ipckit bridges)")
        ->type_name("DIR");
    app->add_flag("--no-status", a->no_status, "Keep no status file");
    app->add_option("--trust-owner", a->trust_owners, kTrustOwnerHelp)->type_name("USER");
    app->footer(
        std::string("Examples:\n"
                    "  ipckit bridge chan:ticks nats://127.0.0.1:4222/ticks\n"
                    "  ipckit bridge --create 'nats://127.0.0.1/ticks.>' mq:/ticks\n"
                    "  ipckit bridge --both --stats chan:bus nats://10.0.0.2:4222/bus\n\n") +
        kExitCodeHelp);
    commands.push_back({app, [a] { return run_bridge(*a); }});
    register_bridges(root, commands);
}

}  // namespace ipckit::cli
