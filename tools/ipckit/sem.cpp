// SPDX-License-Identifier: MIT
// ipckit sem post|wait|trywait|get URI: drive a POSIX (sem:/NAME) or System V (sysvsem:KEY#i)
// semaphore.
#include "endpoint_cli.hpp"
#include "ipckit/sync/named_semaphore.hpp"
#include "ipckit/sync/sysv_semaphore_set.hpp"

#include <dirent.h>
#include <unistd.h>

#include <filesystem>
#include <fmt/core.h>
#include <memory>

namespace ipckit::cli {

namespace {

/// How long opening a System V set waits for its creator to initialise it (the library default).
constexpr std::chrono::seconds kInitWait{5};

struct SemArgs {
    std::string action;
    std::string uri;
    bool create = false;
    long long value = 0;
    bool value_given = false;
    std::string mode;
    std::optional<std::string> timeout;  ///< not given: wait for ever; "" is refused
    Ownership ownership;                 // from --trust-owner
    std::vector<std::string> trust_owners;
};

/// How many processes other than this one map /dev/shm/sem.NAME (scans /proc/*/maps; processes
/// of other users that we cannot read are not counted, so this is a lower bound).
int other_holders(const std::string& name) {
    const std::string needle = "/dev/shm/sem." + name.substr(1);
    int holders = 0;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
        const std::string pid = entry.path().filename();
        if (pid.find_first_not_of("0123456789") != std::string::npos ||
            pid == std::to_string(::getpid())) {
            continue;
        }
        FILE* f = std::fopen((entry.path() / "maps").c_str(), "re");
        if (f == nullptr) {
            continue;
        }
        char line[4096];
        while (std::fgets(line, sizeof line, f) != nullptr) {
            if (std::string_view(line).find(needle) != std::string_view::npos) {
                ++holders;
                break;
            }
        }
        (void)std::fclose(f);  // NOLINT(cppcoreguidelines-owning-memory): plain FILE* from fopen
                               // above; no GSL owner<> in this project
    }
    return holders;
}

/// post --create with a value (--value or ?value=): creating the semaphore with that value is
/// the post, so `sem post --create --value 1` leaves 1, not 2. Without a value a created
/// semaphore starts at 0 and is posted to 1, as before.
template <class UriValue>
bool posts_by_creating(const SemArgs& a, const UriValue& uri_value) {
    return a.value_given || uri_value.has_value();
}

int result_of_wait(const Result<bool>& got, const SemArgs& a, const std::string& object) {
    if (!got) {
        return fail("sem", got.error());
    }
    if (!*got) {
        const auto waited = parse_duration(a.timeout.value_or("0"));
        fmt::print(stderr,
                   "ipckit sem: {}: {}\n",
                   object,
                   a.action == "trywait" || !waited
                       ? "would block (value is 0)"
                       : "timed out after " + format_duration(*waited));
        return kExitTimeout;
    }
    return kExitOk;
}

int run_posix(const SemArgs& a, const PosixSemUri& u, Permissions perms, Deadline deadline) {
    const unsigned initial = a.value_given ? static_cast<unsigned>(a.value) : u.value.value_or(0);
    const bool create = a.create || u.create.create;
    bool created = false;
    Result<NamedSemaphore> sem = NamedSemaphore::open(u.name, a.ownership);
    if (create && !sem && sem.error().code() == std::errc::no_such_file_or_directory) {
        sem = NamedSemaphore::create(u.name, initial, perms);
        created = sem.has_value();
        if (!sem && sem.error().code() == std::errc::file_exists) {  // lost a race: open theirs
            sem = NamedSemaphore::open(u.name, a.ownership);
        }
    }
    if (!sem) {
        return fail("sem", sem.error());
    }
    const std::string object = "sem:" + u.name.str();
    if (a.action == "post" && !(created && posts_by_creating(a, u.value))) {
        if (auto r = sem->post(); !r) {
            return fail("sem", r.error());
        }
        return kExitOk;
    }
    if (a.action == "wait") {
        return result_of_wait(sem->wait_until(deadline), a, object);
    }
    if (a.action == "trywait") {
        return result_of_wait(sem->try_wait(), a, object);
    }
    auto v = sem->value();
    if (!v) {
        return fail("sem", v.error());
    }
    fmt::print("{}\n", *v);
    if (other_holders(u.name.str()) == 0) {
        fmt::print(stderr,
                   "hint: no other process holds {} open. POSIX semaphores are not robust: a "
                   "holder that died without posting left the value as it was. For locks use a "
                   "robust mutex or sysvsem with undo.\n",
                   object);
    }
    return kExitOk;
}

int run_sysv(const SemArgs& a, const SysvSemUri& u, Permissions perms, Deadline deadline) {
    const auto index = static_cast<unsigned short>(u.index.value_or(0));
    Result<SysvSemaphoreSet> set =
        Error(std::errc::invalid_argument, "semget", u.address.to_string());
    bool created = false;
    if (u.address.kind == SysvAddress::Kind::Id) {
        set = SysvSemaphoreSet::from_id(u.address.id, a.ownership);
    } else {
        auto key = u.address.resolve_key();
        if (!key) {
            return fail("sem", key.error());
        }
        const bool create = a.create || u.create.create;
        set = SysvSemaphoreSet::open(*key, Deadline::after(kInitWait), a.ownership);
        if (create && !set && set.error().code() == std::errc::no_such_file_or_directory) {
            std::vector<unsigned short> init(
                static_cast<std::size_t>(
                    std::max(u.nsems.value_or(1), static_cast<int>(index) + 1)),
                static_cast<unsigned short>(a.value_given ? a.value : u.value.value_or(0)));
            set = SysvSemaphoreSet::create(*key, init, perms);
            created = set.has_value();
            if (!set && set.error().code() == std::errc::file_exists) {  // lost a race
                set = SysvSemaphoreSet::open(*key, Deadline::after(kInitWait), a.ownership);
            }
        }
    }
    if (!set) {
        return fail("sem", set.error());
    }
    const std::string object = fmt::format("sysvsem:{}#{}", u.address.to_string(), index);
    if (a.action == "post" && !(created && posts_by_creating(a, u.value))) {
        if (auto r = set->post(index); !r) {
            return fail("sem", r.error());
        }
        return kExitOk;
    }
    if (a.action == "wait") {
        return result_of_wait(set->wait_until(index, deadline), a, object);
    }
    if (a.action == "trywait") {
        return result_of_wait(set->try_wait(index), a, object);
    }
    auto v = set->value(index);
    if (!v) {
        return fail("sem", v.error());
    }
    fmt::print("{}\n", *v);
    return kExitOk;
}

int run_sem(SemArgs& a) {
    auto uri = Uri::parse(a.uri);
    if (!uri) {
        return fail("sem", uri.error());
    }
    Permissions perms(0600);
    if (!a.mode.empty()) {
        const auto m = parse_mode(a.mode);
        if (!m) {
            return usage("sem", "--mode '" + a.mode + "' is not an octal mode <= 0777");
        }
        perms = *m;
    }
    auto deadline = timeout_deadline(a.timeout);
    if (!deadline) {
        return fail("sem", deadline.error());
    }
    auto owners = trusted_owners(a.trust_owners);
    if (!owners) {
        return fail("sem", owners.error());
    }
    a.ownership = std::move(*owners);
    if (a.value_given && (a.value < 0 || a.value > NamedSemaphore::kMaxValue)) {
        return usage("sem", fmt::format("--value {} is out of range", a.value));
    }
    if (const auto* p = uri->get_if<PosixSemUri>()) {
        return run_posix(a, *p, perms, *deadline);
    }
    if (const auto* s = uri->get_if<SysvSemUri>()) {
        if (a.value_given && a.value > SysvSemaphoreSet::kMaxValue) {
            return usage("sem", fmt::format("--value {} > 32767 (SEMVMX)", a.value));
        }
        return run_sysv(a, *s, perms, *deadline);
    }
    return usage("sem", "'" + a.uri + "' is not a semaphore (use sem:/NAME or sysvsem:KEY[#i])");
}

}  // namespace

void register_sem(CLI::App& root, std::vector<Command>& commands) {
    auto a = std::make_shared<SemArgs>();
    CLI::App* app = root.add_subcommand("sem", "Post, wait for or read a semaphore");
    app->description(
        "Post, wait for or read a semaphore: post adds 1; wait takes 1, blocking (--timeout: exit "
        "3 when it passes); trywait takes 1\n"
        "or exits 3 at once; get prints the value. URIs: sem:/NAME (POSIX) and\n"
        "sysvsem:KEY[#INDEX] (System V; KEY as for sysvmq). get on a POSIX semaphore also\n"
        "warns when no other process holds it open: POSIX semaphores are not robust, so a\n"
        "holder killed mid-section leaves the value taken.");
    app->add_option("action", a->action, "post | wait | trywait | get")
        ->required()
        ->check(CLI::IsMember({"post", "wait", "trywait", "get"}));
    app->add_option("uri", a->uri, "sem:/NAME or sysvsem:KEY[#INDEX]")->required();
    app->add_flag("--create", a->create, "Create the semaphore if missing");
    app->add_option("--value",
                    a->value,
                    "Value of a semaphore this call creates (default 0); post --create --value N "
                    "leaves N, it does not post on top")
        ->each([a](const std::string&) { a->value_given = true; });
    app->add_option("--mode", a->mode, "Permissions when created (octal, default 0600)");
    app->add_option("--timeout", a->timeout, "wait: give up after this long and exit 3");
    app->add_option("--trust-owner", a->trust_owners, kTrustOwnerHelp)->type_name("USER");
    app->footer(std::string("Examples:\n"
                            "  ipckit sem post --create sem:/slots\n"
                            "  ipckit sem wait --timeout 5s sem:/slots\n"
                            "  ipckit sem get sysvsem:0x1234#2\n\n") +
                kExitCodeHelp);
    commands.push_back({app, [a] { return run_sem(*a); }});
}

}  // namespace ipckit::cli
