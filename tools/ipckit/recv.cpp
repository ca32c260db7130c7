// SPDX-License-Identifier: MIT
// ipckit recv URI: receive and print messages from any message endpoint.
//
// Delivery rule: recv never takes a message it then fails to deliver. It receives the next
// message only after the previous one was written; when stdout is a pipe it also waits until
// the reader has drained it, and if the reader goes away with the message unread (`| head -n1`)
// a queue message (mq, sysvmq) is put back (same priority / type; it goes behind messages of
// its own priority) before recv exits quietly with 0.
#include "endpoint_cli.hpp"
#include "ipckit/channel/group_consumer.hpp"
#include "ipckit/endpoint/endpoint.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <fmt/core.h>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

namespace ipckit::cli {

namespace {

struct RecvArgs {
    std::string uri;
    int count = 0;
    bool count_given = false;
    std::optional<std::string> timeout;  ///< not given: wait for ever; "" is refused
    bool follow = false;
    bool json = false;
    bool hex = false;
    bool raw = false;
    bool create = false;
    std::string mode;
    std::vector<std::string> trust_owners;
    std::string group;  ///< chan: consume as a member of this work-queue group
};

/// Exit code after SIGINT/SIGTERM: 128 + signal, as a shell reports it.
volatile sig_atomic_t g_in_receive = 0;
volatile sig_atomic_t g_stop_signal = 0;
char g_socket_path[128] = {};  // a bound socket file to remove if a signal ends a receive

void on_stop_signal(int sig) {
    if (g_in_receive != 0) {
        // Blocked in a receive that has taken nothing yet: leave now. Only async-signal-safe
        // calls here; the queue is untouched, a bound socket file is removed.
        if (g_socket_path[0] != '\0') {
            ::unlink(g_socket_path);
        }
        ::_exit(128 + sig);
    }
    g_stop_signal = sig;  // between messages: finish writing the current one, then stop
}

enum class WriteOutcome { Delivered, ReaderGone };

/// Writes all of `text` to stdout. EPIPE (reader gone) is ReaderGone; a pipe is then waited on
/// until its reader has read everything (or closed it with data unread: ReaderGone).
Result<WriteOutcome> deliver(const std::string& text, bool stdout_is_pipe) {
    std::size_t done = 0;
    while (done < text.size()) {
        const ssize_t n = ::write(STDOUT_FILENO, text.data() + done, text.size() - done);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno == EPIPE) {
                return WriteOutcome::ReaderGone;
            }
            return Error(std::error_code(errno, std::generic_category()), "write", "stdout");
        }
        done += static_cast<std::size_t>(n);
    }
    if (!stdout_is_pipe) {
        return WriteOutcome::Delivered;
    }
    for (;;) {
        int pending = 0;
        if (::ioctl(STDOUT_FILENO, FIONREAD, &pending) != 0 || pending == 0) {
            return WriteOutcome::Delivered;
        }
        if (g_stop_signal != 0) {
            return WriteOutcome::Delivered;  // it is in the pipe; the reader may still take it
        }
        pollfd p{STDOUT_FILENO, 0, 0};
        if (::poll(&p, 1, 10) > 0 && (p.revents & POLLERR) != 0) {
            // The reader closed: did it read our message before it went?
            pending = 0;
            const bool unread = ::ioctl(STDOUT_FILENO, FIONREAD, &pending) == 0 && pending > 0;
            return unread ? WriteOutcome::ReaderGone : WriteOutcome::Delivered;
        }
    }
}

bool stdout_reader_gone() {
    pollfd p{STDOUT_FILENO, 0, 0};
    return ::poll(&p, 1, 0) > 0 && (p.revents & POLLERR) != 0;
}

std::string to_hex(const std::vector<std::byte>& data) {
    static constexpr std::array<char, 16> kDigits{
        '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'a', 'b', 'c', 'd', 'e', 'f'};
    std::string out;
    out.reserve(data.size() * 2);
    for (std::byte b : data) {
        const auto v = static_cast<unsigned>(b);
        out += kDigits.at(v >> 4U);
        out += kDigits.at(v & 0xfU);
    }
    return out;
}

std::string format_message(const EndpointMessage& m, const RecvArgs& a) {
    const std::string text(reinterpret_cast<const char*>(m.data.data()), m.data.size());  // NOLINT
    if (!a.json) {
        return (a.hex ? to_hex(m.data) : text) + "\n";
    }
    nlohmann::ordered_json j;
    j["size"] = m.data.size();
    bool as_text = !a.hex;
    if (as_text) {
        try {
            (void)nlohmann::json(text).dump();  // throws on invalid UTF-8
        } catch (const nlohmann::json::exception&) {
            as_text = false;
        }
    }
    if (as_text) {
        j["text"] = text;
    } else {
        j["hex"] = to_hex(m.data);
    }
    if (m.priority) {
        j["priority"] = *m.priority;
    }
    if (m.type) {
        j["type"] = *m.type;
    }
    if (m.sender) {
        j["sender"] = *m.sender;
    }
    if (m.credentials) {
        j["pid"] = m.credentials->pid;
        j["uid"] = m.credentials->uid;
        j["gid"] = m.credentials->gid;
    }
    if (m.lost && *m.lost > 0) {
        j["lost"] = *m.lost;  // chan: messages this subscriber missed just before this one
    }
    if (m.subject) {
        j["subject"] = *m.subject;  // nats: the concrete subject (a wildcard receive matches many)
    }
    if (m.sender_pid) {
        j["pid"] = *m.sender_pid;  // nats: the sender's Ipckit-Pid header
    }
    return j.dump() + "\n";
}

/// Fills `eo` and `wait` from the options; returns kExitOk or the exit code of a bad option.
int recv_options(const RecvArgs& a,
                 EndpointOptions& eo,
                 std::optional<std::chrono::nanoseconds>& wait) {
    eo.create = a.create;
    if (a.raw) {
        eo.raw = true;
    }
    if (!a.mode.empty()) {
        const auto m = parse_mode(a.mode);
        if (!m) {
            return usage("recv", "--mode '" + a.mode + "' is not an octal mode <= 0777");
        }
        eo.mode = *m;
    }
    auto owners = trusted_owners(a.trust_owners);
    if (!owners) {
        return fail("recv", owners.error());
    }
    eo.ownership = std::move(*owners);
    if (a.timeout) {
        auto d = parse_duration(*a.timeout);
        if (!d) {
            return fail("recv", d.error());
        }
        wait = *d;
    }
    return kExitOk;
}

/// `m` could not be written out (`why`): a queue message goes back so no one loses it. If even
/// that fails, its bytes go to stderr in hex so the user can re-send it by hand. Returns
/// `exit_code` when the message is safe, kExitFailure otherwise.
int put_back(
    Endpoint& ep, const EndpointMessage& m, bool is_queue, const char* why, int exit_code) {
    if (!is_queue) {
        return exit_code;
    }
    SendOptions put_back;
    put_back.priority = m.priority;
    put_back.type = m.type;
    // A short wait, not a poll: the queue may be momentarily full of other senders' messages.
    put_back.deadline = Deadline::after(std::chrono::seconds(1));
    if (auto r = ep.send(m.data, put_back); !r) {
        fmt::print(stderr,
                   "ipckit recv: {} and the message could not be put back: {}\n"
                   "ipckit recv: the message was ({} bytes, hex): {}\n",
                   why,
                   r.error().message(),
                   m.data.size(),
                   to_hex(m.data));
        return kExitFailure;
    }
    return exit_code;
}

/// What receiving one message led to: keep going, or exit with `exit_code`.
struct ReceiveStep {
    bool done = false;
    int exit_code = kExitOk;
};

/// Receives one message and writes it to stdout (see the delivery rule at the top).
ReceiveStep receive_one(Endpoint& ep,
                        const RecvArgs& a,
                        const std::optional<std::chrono::nanoseconds>& wait,
                        long received,
                        bool is_queue,
                        bool stdout_is_pipe) {
    if (g_stop_signal != 0) {
        return {true, 128 + g_stop_signal};
    }
    if (stdout_reader_gone()) {
        return {true, kExitOk};  // nobody to deliver to: take nothing more
    }
    const Deadline deadline =
        wait ? (wait->count() == 0 ? Deadline::now() : Deadline::after(*wait)) : Deadline::never();
    g_in_receive = 1;
    if (g_stop_signal != 0) {  // arrived just before the flag was set
        return {true, 128 + g_stop_signal};
    }
    auto m = ep.receive(deadline);
    g_in_receive = 0;
    if (!m) {
        return {true, fail("recv", m.error())};
    }
    if (!*m) {
        if (received == 0 || !a.follow) {
            fmt::print(stderr,
                       "ipckit recv: {}: nothing received within {}\n",
                       ep.name(),
                       a.timeout.value_or(""));
        }
        return {true, kExitTimeout};
    }
    if ((*m)->lost && *(*m)->lost > 0) {  // chan: make a lapped subscriber's loss visible
        fmt::print(stderr,
                   "ipckit recv: {}: {} message(s) lost before this one (overwritten or "
                   "from a dead publisher)\n",
                   ep.name(),
                   *(*m)->lost);
    }
    auto outcome = deliver(format_message(**m, a), stdout_is_pipe);
    if (!outcome) {  // e.g. ENOSPC on a redirected stdout: the message must not be lost
        const int rc = fail("recv", outcome.error());
        return {true, put_back(ep, **m, is_queue, "stdout failed", rc)};
    }
    if (*outcome == WriteOutcome::ReaderGone) {
        return {true, put_back(ep, **m, is_queue, "stdout closed", kExitOk)};
    }
    return {};
}

/// `recv chan:NAME --group G`: a GroupConsumer. A message is acknowledged only after it was
/// written out; if stdout fails or closes first, recv exits without acknowledging it, so the
/// group (at-least-once) gives it to another consumer.
/// Takes one message as a group member and writes it out, acknowledging it only then.
ReceiveStep receive_group_one(GroupConsumer& g,
                              const RecvArgs& a,
                              const std::optional<std::chrono::nanoseconds>& wait,
                              long received,
                              const std::string& where,
                              bool stdout_is_pipe) {
    if (g_stop_signal != 0) {
        return {true, 128 + g_stop_signal};
    }
    if (stdout_reader_gone()) {
        return {true, kExitOk};
    }
    const Deadline deadline =
        wait ? (wait->count() == 0 ? Deadline::now() : Deadline::after(*wait)) : Deadline::never();
    g_in_receive = 1;
    if (g_stop_signal != 0) {
        return {true, 128 + g_stop_signal};
    }
    auto s = g.receive_until(deadline);
    g_in_receive = 0;
    if (!s) {
        return {true, fail("recv", s.error())};
    }
    if (!*s) {
        if (received == 0 || !a.follow) {
            fmt::print(stderr,
                       "ipckit recv: {}: nothing received within {}\n",
                       where,
                       a.timeout.value_or(""));
        }
        return {true, kExitTimeout};
    }
    EndpointMessage m;
    m.data.assign((*s)->bytes().begin(), (*s)->bytes().end());
    if ((*s)->redelivered()) {
        fmt::print(stderr, "ipckit recv: {}: redelivered (a consumer died holding it)\n", where);
    }
    auto outcome = deliver(format_message(m, a), stdout_is_pipe);
    if (!outcome || *outcome == WriteOutcome::ReaderGone) {
        const int rc = outcome ? kExitOk : fail("recv", outcome.error());
        ::_exit(rc);  // unacknowledged: our record looks dead, another consumer gets it
    }
    return {};  // the sample goes out of scope: acknowledged
}

int run_recv_group(const RecvArgs& a,
                   const std::string& group,
                   const ChanUri& u,
                   const EndpointOptions& eo,
                   const std::optional<std::chrono::nanoseconds>& wait,
                   long limit) {
    GroupOptions go;
    go.channel.dir = u.dir.value_or(std::string());
    go.channel.ownership = eo.ownership;
    auto g = GroupConsumer::open(u.name, group, go);
    if (!g) {
        return fail("recv", g.error());
    }
    struct stat st {};
    const bool stdout_is_pipe = ::fstat(STDOUT_FILENO, &st) == 0 && S_ISFIFO(st.st_mode);
    const std::string where = "chan:" + u.name + " group " + group;
    for (long received = 0; limit < 0 || received < limit; ++received) {
        const ReceiveStep step = receive_group_one(*g, a, wait, received, where, stdout_is_pipe);
        if (step.done) {
            return step.exit_code;
        }
    }
    return kExitOk;
}

/// The work-queue group to consume as: --group, or the URI's ?group= (the same thing; both
/// given and different is a usage error). Empty: none.
int pick_group(const RecvArgs& a, const Uri& uri, std::string& group) {
    const auto* chan = uri.get_if<ChanUri>();
    if (chan != nullptr && chan->group && !a.group.empty() && a.group != *chan->group) {
        return usage(
            "recv",
            "--group " + a.group + " and the URI's group=" + *chan->group + " differ (give one)");
    }
    group = chan != nullptr && chan->group ? *chan->group : a.group;
    if (group.empty()) {
        return kExitOk;
    }
    if (chan == nullptr) {
        return usage("recv", "--group applies to chan: URIs only");
    }
    if (auto n = GroupConsumer::validate_group_name(group); !n) {
        return usage("recv", "--group: " + n.error().message());
    }
    return kExitOk;
}

int run_recv(const RecvArgs& a) {
    if (a.count_given && a.count <= 0) {
        return usage("recv", fmt::format("-n {}: the count must be >= 1", a.count));
    }
    auto uri = Uri::parse(a.uri);
    if (!uri) {
        return fail("recv", uri.error());
    }
    EndpointOptions eo;
    std::optional<std::chrono::nanoseconds> wait;
    if (const int rc = recv_options(a, eo, wait); rc != kExitOk) {
        return rc;
    }
    const long limit = a.count_given ? a.count : (a.follow ? -1 : 1);

    // Signals first, so a SIGINT while opening is handled the same way.
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    ::sigaction(SIGINT, &sa, nullptr);
    ::sigaction(SIGTERM, &sa, nullptr);

    std::string group;
    if (const int rc = pick_group(a, *uri, group); rc != kExitOk) {
        return rc;
    }
    if (!group.empty()) {
        return run_recv_group(a, group, *uri->get_if<ChanUri>(), eo, wait, limit);
    }
    auto ep = Endpoint::open(*uri, EndpointRole::Receiver, eo);
    if (!ep) {
        return fail("recv", ep.error());
    }
    if (const auto* u = uri->get_if<UnixUri>();
        u != nullptr && !u->abstract && u->path.size() < sizeof g_socket_path) {
        std::memcpy(g_socket_path, u->path.c_str(), u->path.size() + 1);
    }
    const bool is_queue = uri->scheme() == UriScheme::PosixMq || uri->scheme() == UriScheme::SysvMq;
    struct stat st {};
    const bool stdout_is_pipe = ::fstat(STDOUT_FILENO, &st) == 0 && S_ISFIFO(st.st_mode);

    for (long received = 0; limit < 0 || received < limit; ++received) {
        const ReceiveStep step = receive_one(*ep, a, wait, received, is_queue, stdout_is_pipe);
        if (step.done) {
            return step.exit_code;
        }
    }
    return kExitOk;
}

}  // namespace

void register_recv(CLI::App& root, std::vector<Command>& commands) {
    auto a = std::make_shared<RecvArgs>();
    CLI::App* app = root.add_subcommand("recv", "Receive and print messages from an endpoint URI");
    app->description(
        "Print received messages, one per line (default: one message; -n N; --follow for all).\n"
        "On sockets recv is the server: it binds (unix-dgram, udp) or listens and accepts one\n"
        "connection at a time (unix, unix-seqpacket, tcp). A FIFO is opened read-write so writers\n"
        "may come and go. --timeout bounds the wait for each message (0 = poll once); when it\n"
        "passes, recv exits 3. A message is taken only after the previous one was written out:\n"
        "if stdout closes (e.g. | head -n1) recv exits quietly with 0, and an mq/sysvmq message\n"
        "the reader did not read is put back (behind others of its priority/type).\n"
        "SIGINT/SIGTERM during a wait exit 130/143 leaving the object intact (a socket file\n"
        "recv bound is removed). chan: recv is a subscriber and starts at the head: it must be\n"
        "running before `ipckit send chan:X` for the message to arrive; messages it lost to an\n"
        "overwrite-policy channel are reported on stderr (and as \"lost\" with --json).\n"
        "nats://HOST:PORT/SUBJECT: recv subscribes (wildcards '*' and '>' allowed) and gets what\n"
        "is published after it subscribed (core NATS: at most once).");
    app->add_option(
           "uri", a->uri, "Endpoint URI (mq:/q, sysvmq:0x1234?type=-3, udp:127.0.0.1:9000, ...)")
        ->required();
    app->add_option("-n,--count", a->count, "Receive N messages (N >= 1), then exit")
        ->each([a](const std::string&) { a->count_given = true; });
    app->add_option("--timeout",
                    a->timeout,
                    "Wait at most this long for each message (0 = poll once); exit 3 if none");
    app->add_flag("-f,--follow", a->follow, "Keep receiving until interrupted");
    app->add_flag(
        "--json",
        a->json,
        "One JSON object per message: size, text or hex, priority, type, sender, pid/uid/gid, "
        "lost (chan), subject and pid (nats)");
    app->add_flag("--hex", a->hex, "Print payloads as hex (for binary data)");
    app->add_flag("--raw", a->raw, "Stream schemes: newline-delimited lines instead of frames");
    app->add_flag("--create", a->create, "Create the queue, FIFO or channel if missing");
    app->add_option("--mode", a->mode, "Permissions when created (octal, default 0600)");
    app->add_option("--trust-owner", a->trust_owners, kTrustOwnerHelp)->type_name("USER");
    app->add_option("--group",
                    a->group,
                    "chan: consume as a member of this work-queue group (each message goes to one "
                    "member; acknowledged once written out)")
        ->type_name("NAME");
    app->footer(
        std::string("Examples:\n"
                    "  ipckit recv mq:/jobs --timeout 5s\n"
                    "  ipckit recv --json -n 10 sysvmq:0x1234?type=-3   # lowest type <= 3\n"
                    "  ipckit recv --follow --hex unix-dgram:@bus\n"
                    "  ipckit recv --follow mq:/jobs | head -n1          # takes one message\n"
                    "  ipckit recv --follow --group workers chan:jobs    # one of N workers\n\n") +
        kExitCodeHelp + " 130/143: interrupted by SIGINT/SIGTERM.");
    commands.push_back({app, [a] { return run_recv(*a); }});
}

}  // namespace ipckit::cli
