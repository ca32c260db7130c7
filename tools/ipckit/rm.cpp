// SPDX-License-Identifier: MIT
// ipckit rm URI... | --stale: remove IPC objects, refusing what is not ours or still in use.
#include "cli.hpp"
#include "ipckit/admin/inventory.hpp"
#include "object_view.hpp"

#include <unistd.h>

#include <algorithm>
#include <fmt/core.h>
#include <memory>

namespace ipckit::cli {

namespace {

struct RmOptions {
    std::vector<std::string> uris;
    bool stale = false;
    bool include_unread = false;
    bool dry_run = false;
    bool force = false;
    bool verbose = false;
    std::vector<std::string> types;
    std::string prefix;
};

/// Why we must not remove `o`, or empty. Only the owner, the creator (System V) or root may.
std::string ownership_problem(const IpcObjectInfo& o) {
    const uid_t me = ::geteuid();
    if (me == 0 || o.uid == me || (o.cuid && *o.cuid == me)) {
        return {};
    }
    return fmt::format(
        "owned by {} (uid {}) and you are {} (uid {}); only its owner or root may "
        "remove it",
        user_name(o.uid),
        o.uid,
        user_name(me),
        me);
}

std::string in_use_problem(const IpcObjectInfo& o) {
    if (state_of(o) != "in-use") {
        return {};
    }
    if (o.bridge) {  // Inventory::remove refuses a live bridge's file even with --force
        return fmt::format("the bridge (pid {}) is running; its file goes when it ends",
                           o.bridge->pid);
    }
    std::string who;
    for (pid_t p : o.users) {
        who += (who.empty() ? "" : ",") + std::to_string(p);
    }
    if (who.empty() && o.attached.value_or(0) > 0) {
        who = fmt::format("{} attached process(es)", *o.attached);
    } else if (who.empty()) {
        who = "waiters";
    }
    if (o.service && o.service->server_alive) {
        who += fmt::format(" (its server, pid {}, is alive)", o.service->server_pid);
    }
    return "in use by " + who + " (--force removes it anyway; users keep it until they let go)";
}

/// Removes one object; returns the exit code for it.
int remove_one(const IpcObjectInfo& o, const RmOptions& opt, bool require_stale) {
    if (auto why = ownership_problem(o); !why.empty()) {
        if (require_stale) {  // someone else's stale object: not ours to judge, not an error
            fmt::print(stderr, "ipckit rm: {}: skipped: {}\n", o.uri, why);
            return kExitOk;
        }
        fmt::print(stderr, "ipckit rm: {}: refused: {}\n", o.uri, why);
        return kExitRefused;
    }
    if (require_stale && !Inventory::removable_as_stale(o, opt.include_unread)) {
        return kExitOk;  // it came back to life since the listing: leave it
    }
    if (!opt.force || require_stale) {
        if (auto why = in_use_problem(o); !why.empty()) {
            fmt::print(stderr, "ipckit rm: {}: refused: {}\n", o.uri, why);
            return kExitRefused;
        }
    }
    if (opt.dry_run) {
        fmt::print("would remove {} ({})\n", o.uri, o.name);
        return kExitOk;
    }
    auto r = Inventory::remove(o);
    if (!r) {
        if (r.error().code() == std::errc::no_such_file_or_directory) {
            if (opt.force) {
                return kExitOk;
            }
            fmt::print(stderr, "ipckit rm: {}: no such object\n", o.uri);
            return kExitFailure;
        }
        print_error("rm", r.error());
        return r.error().code() == std::errc::permission_denied ||
                       r.error().code() == std::errc::operation_not_permitted
                   ? kExitRefused
                   : kExitFailure;
    }
    if (opt.verbose || require_stale) {
        fmt::print("removed {} ({})\n", o.uri, o.name);
    }
    return kExitOk;
}

/// Why rm --stale leaves an object that is not in use, or empty if there is no such reason.
std::string kept_reason(const IpcObjectInfo& o) {
    switch (o.state) {
        case ObjectState::UsersUnknown:
            return "users unknown: processes of other users cannot be examined (run as root to "
                   "see them), so nothing proves it unused";
        case ObjectState::Unread:
            return (o.messages ? fmt::format("{} unread message(s) wait in it", *o.messages)
                               : std::string("it may hold unread messages (its count cannot be "
                                             "read)")) +
                   " (--include-unread removes it)";
        case ObjectState::NeverUsed:
            return "nobody has used it since its creator made it (--include-unread removes it)";
        default:
            return {};
    }
}

/// The object `listed` names, read again.
Result<std::optional<IpcObjectInfo>> find_again(const IpcObjectInfo& listed) {
    if (is_named_object(listed.uri)) {
        return find_named_object(listed.uri);
    }
    auto uri = Uri::parse(listed.uri);
    return uri ? Inventory::find(*uri, false) : Result<std::optional<IpcObjectInfo>>(uri.error());
}

/// rm --stale: every object the inventory lists as stale, each re-checked just before removal.
int remove_stale(const RmOptions& opt) {
    auto kinds = parse_kinds(opt.types);
    if (!kinds) {
        print_error("rm", kinds.error());
        return kExitUsage;
    }
    auto inv = Inventory::scan(InventoryFilter{*kinds, opt.prefix});
    if (!inv) {
        print_error("rm", inv.error());
        return kExitFailure;
    }
    for (const std::string& w : inv->warnings) {
        fmt::print(stderr, "ipckit rm: {}\n", w);
    }
    int rc = kExitOk;
    for (const IpcObjectInfo& listed : inv->objects) {
        if (!Inventory::removable_as_stale(listed, opt.include_unread)) {
            // Say why a leftover of ours stays; other users' objects are not ours to judge.
            if (auto why = kept_reason(listed); !why.empty() && ownership_problem(listed).empty()) {
                fmt::print(stderr, "ipckit rm: {}: kept: {}\n", listed.uri, why);
            }
            continue;
        }
        // Look again right before removing: a user may have arrived since the listing.
        auto again = find_again(listed);
        if (!again || !*again) {
            continue;
        }
        rc = std::max<int>(rc, remove_one(**again, opt, /*require_stale=*/true));
    }
    return rc;
}

/// rm URI...: removes the named objects, after validating every URI first.
int remove_named(const RmOptions& opt) {
    // Validate every URI before touching anything: one typo must not leave a half-done job.
    std::vector<std::optional<Uri>> uris;  // empty: a service or a bridge, found by name
    for (const std::string& text : opt.uris) {
        if (is_named_object(text)) {
            if (const auto name = named_object_name(text); !name) {
                print_error("rm", name.error());
                return kExitUsage;
            }
            uris.emplace_back();
            continue;
        }
        auto uri = Uri::parse(text);
        if (!uri) {
            print_error("rm", uri.error());
            return kExitUsage;
        }
        uris.emplace_back(std::move(*uri));
    }
    int rc = kExitOk;
    for (std::size_t i = 0; i < uris.size(); ++i) {
        const std::string shown = uris[i] ? uris[i]->object_string() : opt.uris[i];
        auto found =
            uris[i] ? Inventory::find(*uris[i], /*details=*/false) : find_named_object(opt.uris[i]);
        if (!found) {
            print_error("rm", found.error());
            rc = std::max<int>(
                rc,
                found.error().code() == std::errc::invalid_argument ? kExitUsage : kExitFailure);
            continue;
        }
        if (!*found) {
            if (!opt.force) {
                fmt::print(stderr, "ipckit rm: {}: no such object\n", shown);
                rc = std::max(rc, static_cast<int>(kExitFailure));
            }
            continue;
        }
        rc = std::max<int>(rc, remove_one(**found, opt, /*require_stale=*/false));
    }
    return rc;
}

int run_rm(const RmOptions& opt) {
    if (opt.stale == !opt.uris.empty()) {
        fmt::print(stderr, "ipckit rm: give either URIs or --stale (see ipckit rm --help)\n");
        return kExitUsage;
    }
    if (!opt.stale && (!opt.types.empty() || !opt.prefix.empty() || opt.include_unread)) {
        fmt::print(stderr,
                   "ipckit rm: --type, --prefix and --include-unread are for --stale only\n");
        return kExitUsage;
    }
    return opt.stale ? remove_stale(opt) : remove_named(opt);
}

}  // namespace

void register_rm(CLI::App& root, std::vector<Command>& commands) {
    auto opt = std::make_shared<RmOptions>();
    CLI::App* app = root.add_subcommand("rm", "Remove IPC objects, or every stale one");
    app->description(
        "Remove the named IPC objects (mq_unlink, shm_unlink, sem_unlink, IPC_RMID, or the\n"
        "channel's file; a service's record and its channels; a dead bridge's status file,\n"
        "bridge:PID), or with --stale every stale object: "
        "its users are provably gone and\n"
        "nothing in it waits to be read (see ipckit ls --help for the states).\n"
        "Names are taken literally: there is no globbing ('mq:/*' names a queue called '*').\n"
        "Safety: an object owned by another user is refused unless you are root (exit 4, with\n"
        "the owner named); an object in use (mapped, open, attached, waited on) is refused\n"
        "unless --force. --stale re-checks each object just before removing it and never\n"
        "removes one in use, nor one whose users it cannot see (users-unknown: as a user other\n"
        "than root, other users' processes cannot be examined). It keeps, and names on stderr,\n"
        "queues with unread messages and System V segments and semaphore sets nobody used yet;\n"
        "--include-unread removes those too. A missing object is \"no such object\", exit 1;\n"
        "with --force a missing object is not an error, so rm --force is idempotent.");
    app->add_option("uri",
                    opt->uris,
                    "Objects: mq:/NAME shm:/NAME sem:/NAME chan:NAME event:NAME srv:NAME "
                    "sysvmq:KEY sysvshm:KEY sysvsem:KEY (KEY, ftok:PATH:ID, id:ID)");
    app->add_flag("--stale", opt->stale, "Remove every stale object (see ipckit ls --stale)");
    app->add_flag("--include-unread",
                  opt->include_unread,
                  "With --stale: also remove abandoned queues holding unread messages and System V "
                  "objects their dead creator made but nobody used (ls states unread, never-used)");
    app->add_flag("-n,--dry-run", opt->dry_run, "Print what would be removed; remove nothing");
    app->add_flag("-f,--force",
                  opt->force,
                  "A missing object is not an error; remove objects in use too (not with --stale)");
    app->add_flag("-v,--verbose", opt->verbose, "Print each object removed");
    app->add_option("-t,--type", opt->types, "With --stale: only these kinds (as ipckit ls --type)")
        ->delimiter(',');
    app->add_option("-p,--prefix", opt->prefix, "With --stale: only names with this prefix");
    app->footer(std::string("Examples:\n"
                            "  ipckit rm mq:/jobs shm:/frame\n"
                            "  ipckit rm sysvmq:id:3 sysvsem:0x11eb\n"
                            "  ipckit rm --force mq:/maybe-there     # idempotent\n"
                            "  ipckit rm --stale --dry-run           # what would go\n"
                            "  ipckit rm --stale --type posix --prefix myapp-\n"
                            "  ipckit rm --stale --include-unread --prefix myapp-\n\n") +
                kExitCodeHelp);
    commands.push_back({app, [opt] { return run_rm(*opt); }});
}

}  // namespace ipckit::cli
