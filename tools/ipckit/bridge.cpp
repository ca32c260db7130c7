// SPDX-License-Identifier: MIT
// ipckit bridge FROM TO: relay a local endpoint to or from NATS, a thin layer over ipckit::Bridge
// (docs/design/bridge.md).
#include "ipckit/bridge/bridge.hpp"

#include "endpoint_cli.hpp"

#include <signal.h>

#include <atomic>
#include <fmt/core.h>
#include <memory>

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
        "the bridge stamps on each message (Ipckit-Seq) and reported on stderr as gaps. mq\n"
        "priority and SysV type travel in headers and are restored on the far side.\n"
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
    app->add_option("--trust-owner", a->trust_owners, kTrustOwnerHelp)->type_name("USER");
    app->footer(
        std::string("Examples:\n"
                    "  ipckit bridge chan:ticks nats://127.0.0.1:4222/ticks\n"
                    "  ipckit bridge --create 'nats://127.0.0.1/ticks.>' mq:/ticks\n"
                    "  ipckit bridge --both --stats chan:bus nats://10.0.0.2:4222/bus\n\n") +
        kExitCodeHelp);
    commands.push_back({app, [a] { return run_bridge(*a); }});
}

}  // namespace ipckit::cli
