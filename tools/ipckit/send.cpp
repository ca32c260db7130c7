// SPDX-License-Identifier: MIT
// ipckit send URI [MSG...]: send messages to any message endpoint.
#include "endpoint_cli.hpp"
#include "ipckit/channel/channel.hpp"
#include "ipckit/core/file.hpp"
#include "ipckit/core/io.hpp"
#include "ipckit/core/unique_fd.hpp"
#include "ipckit/endpoint/endpoint.hpp"

#include <fcntl.h>

#include <algorithm>
#include <fmt/core.h>
#include <memory>
#include <vector>

namespace ipckit::cli {

namespace {

struct SendArgs {
    std::string uri;
    std::vector<std::string> messages;
    std::optional<std::string> file;
    bool whole = false;
    bool binary = false;
    bool raw = false;
    std::string prio;
    std::string type;
    bool create = false;
    std::string mode;
    std::optional<std::string> timeout;  ///< not given: wait for ever; "" is refused
    std::vector<std::string> trust_owners;
};

Result<std::string> read_input(const std::string& file) {
    int fd = 0;
    UniqueFd owned;
    if (!file.empty() && file != "-") {
        IPCKIT_TRY_ASSIGN(owned, open_file(file, O_RDONLY | O_NOCTTY));
        fd = owned.get();
    }
    const std::string_view object =
        file.empty() || file == "-" ? std::string_view("stdin") : std::string_view(file);
    std::string text;
    std::byte buf[65536];
    for (;;) {
        // e.g. "read /tmp: Is a directory"
        IPCKIT_TRY_ASSIGN(const std::optional<std::size_t> n,
                          read_some(fd, buf, Deadline::never(), object));
        if (n.value_or(0) == 0) {  // never empty without a deadline
            return text;
        }
        text.append(reinterpret_cast<const char*>(buf), *n);  // bytes as chars
    }
}

/// Splits input into messages: lines ('\n', a trailing '\r' dropped, a last line without '\n'
/// still counts) or, with `binary`, NUL-terminated records.
std::vector<std::string> split(const std::string& text, bool binary) {
    std::vector<std::string> out;
    const char sep = binary ? '\0' : '\n';
    std::size_t start = 0;
    while (start < text.size()) {
        std::size_t end = text.find(sep, start);
        const bool last = end == std::string::npos;
        if (last) {
            end = text.size();
        }
        std::string item = text.substr(start, end - start);
        if (!binary && !item.empty() && item.back() == '\r') {
            item.pop_back();
        }
        out.push_back(std::move(item));
        start = end + 1;
    }
    return out;
}

/// --prio and --type, each checked against the scheme it belongs to; kExitOk or an exit code.
int message_tags(const SendArgs& a, const Uri& uri, SendOptions& so) {
    if (!a.prio.empty()) {
        const auto p = parse_integer(a.prio);
        if (!p || *p < 0 || *p > 32767) {
            return usage("send",
                         "--prio '" + a.prio + "' is not in [0, 32767] (MQ_PRIO_MAX is 32768)");
        }
        if (uri.scheme() != UriScheme::PosixMq) {
            return usage("send", "--prio is for mq: endpoints only");
        }
        so.priority = static_cast<unsigned>(*p);
    }
    if (!a.type.empty()) {
        const auto t = parse_integer(a.type);
        if (!t || *t <= 0) {
            return usage("send", "--type '" + a.type + "': a send type must be >= 1");
        }
        if (uri.scheme() != UriScheme::SysvMq) {
            return usage("send", "--type is for sysvmq: endpoints only");
        }
        so.type = static_cast<long>(*t);
    }
    if (const auto* s = uri.get_if<SysvMqUri>(); s != nullptr && s->type && !so.type) {
        if (auto t = validate_sysv_send_type(*s->type); !t) {
            return fail("send", t.error());
        }
    }
    return kExitOk;
}

/// Fills `so` and `eo` from the options; returns kExitOk or the exit code of a bad option.
int send_options(const SendArgs& a, const Uri& uri, SendOptions& so, EndpointOptions& eo) {
    // Options that say how to read the input mean nothing with MESSAGE arguments: refuse the
    // mix rather than silently send something else than asked.
    if (!a.messages.empty() && (a.file || a.whole || a.binary)) {
        return usage("send",
                     std::string(a.file    ? "--file"
                                 : a.whole ? "--whole"
                                           : "-0/--binary") +
                         " reads the input; it cannot be combined with MESSAGE arguments");
    }
    eo.create = a.create;
    if (a.raw) {
        eo.raw = true;
    }
    if (const int rc = message_tags(a, uri, so); rc != kExitOk) {
        return rc;
    }
    if (!a.mode.empty()) {
        const auto m = parse_mode(a.mode);
        if (!m) {
            return usage("send", "--mode '" + a.mode + "' is not an octal mode <= 0777");
        }
        eo.mode = *m;
    }
    auto owners = trusted_owners(a.trust_owners);
    if (!owners) {
        return fail("send", owners.error());
    }
    eo.ownership = std::move(*owners);
    auto deadline = timeout_deadline(a.timeout);
    if (!deadline) {
        return fail("send", deadline.error());
    }
    so.deadline = *deadline;
    eo.deadline = *deadline;
    return kExitOk;
}

/// The messages to send: the arguments, or else the input split into lines/records (or whole).
Result<std::vector<std::string>> gather_messages(const SendArgs& a) {
    if (!a.messages.empty()) {
        return a.messages;
    }
    IPCKIT_TRY_ASSIGN(std::string text, read_input(a.file.value_or("-")));
    if (a.whole) {
        return std::vector<std::string>{std::move(text)};
    }
    return split(text, a.binary);
}

/// A channel delivers only to subscribers already running: say so when there is none, since
/// the send itself succeeds and the message reaches nobody.
void warn_if_nobody_listens(const Uri& uri) {
    const auto* chan = uri.get_if<ChanUri>();
    if (chan == nullptr) {
        return;
    }
    ChannelOptions options;
    options.dir = chan->dir.value_or(std::string());
    auto info = Channel::inspect(chan->name, options);
    if (!info) {
        return;  // the send reports what is wrong with the channel
    }
    const bool anyone = std::any_of(info->subscribers.begin(),
                                    info->subscribers.end(),
                                    [](const ChannelParticipantInfo& s) { return s.alive; }) ||
                        std::any_of(info->groups.begin(),  // a work-queue group's consumers
                                    info->groups.end(),
                                    [](const ChannelGroupInfo& g) { return g.consumers != 0; });
    if (!anyone) {
        fmt::print(stderr,
                   "ipckit send: chan:{} has no subscriber: nobody will get this (start `ipckit "
                   "recv chan:{}` first)\n",
                   chan->name,
                   chan->name);
    }
}

/// Sends every message in order; the first failure names its message and how many went before.
int send_all(Endpoint& ep,
             const std::vector<std::string>& messages,
             const SendArgs& a,
             const SendOptions& so) {
    const bool from_args = !a.messages.empty();
    for (std::size_t i = 0; i < messages.size(); ++i) {
        const auto& m = messages[i];
        auto r = ep.send(std::as_bytes(std::span(m.data(), m.size())), so);
        if (!r) {
            const std::string where =
                from_args || a.whole ? fmt::format("message {}", i + 1)
                                     : fmt::format("{} {}", a.binary ? "record" : "line", i + 1);
            fmt::print(stderr,
                       "ipckit send: {}: {} (sent {} of {})\n",
                       where,
                       r.error().message(),
                       i,
                       messages.size());
            return exit_code_for(r.error()) == kExitUsage     ? kExitUsage
                   : r.error().code() == std::errc::timed_out ? kExitTimeout
                                                              : kExitFailure;
        }
    }
    return kExitOk;
}

int run_send(const SendArgs& a) {
    auto uri = Uri::parse(a.uri);
    if (!uri) {
        return fail("send", uri.error());
    }
    SendOptions so;
    EndpointOptions eo;
    if (const int rc = send_options(a, *uri, so, eo); rc != kExitOk) {
        return rc;
    }
    auto messages = gather_messages(a);
    if (!messages) {
        return fail("send", messages.error());
    }
    auto ep = Endpoint::open(*uri, EndpointRole::Sender, eo);
    if (!ep) {
        return fail("send", ep.error());
    }
    if (ep->sysv_id() >= 0 && uri->get_if<SysvMqUri>()->address.key == SysvKey::private_key() &&
        uri->get_if<SysvMqUri>()->address.kind == SysvAddress::Kind::Key) {
        fmt::print(stderr, "ipckit send: created sysvmq:id:{}\n", ep->sysv_id());
    }
    warn_if_nobody_listens(*uri);
    return send_all(*ep, *messages, a, so);
}

}  // namespace

void register_send(CLI::App& root, std::vector<Command>& commands) {
    auto a = std::make_shared<SendArgs>();
    CLI::App* app = root.add_subcommand("send", "Send messages to an endpoint URI");
    app->description(
        "Send one message per MSG argument; without arguments, one message per line of stdin (or\n"
        "of --file). Lines may end in LF or CRLF; a last line without a newline is still sent.\n"
        "An empty input sends nothing. A message that cannot fit fails naming its line and how\n"
        "many were sent before it (\"sent 3 of 5\"); nothing of it is sent.\n"
        "Schemes: fifo, mq, sysvmq, unix, unix-dgram, unix-seqpacket, tcp, udp, nats://HOST:PORT/\n"
        "SUBJECT (publishes; only subscribers already running get it), chan (a channel\n"
        "delivers only to subscribers already running, e.g. `ipckit recv chan:X`).\n"
        "On sockets, send connects (recv is the server). Stream schemes (fifo, unix, tcp) frame\n"
        "each message with a 4-byte big-endian length; ?raw (or --raw) sends lines instead.");
    app->add_option("uri", a->uri, "Endpoint URI (mq:/q, sysvmq:0x1234, unix:/run/s, ...)")
        ->required();
    app->add_option("messages", a->messages, "Messages (use -- before ones that start with -)");
    app->add_option("--file", a->file, "Read messages from PATH ('-' = stdin)");
    app->add_flag("--whole", a->whole, "Send all of the input as one message");
    app->add_flag("-0,--binary", a->binary, "Input records are separated by NUL bytes, not lines");
    app->add_flag("--raw", a->raw, "Stream schemes: newline-delimited lines instead of frames");
    app->add_option("--prio,--priority", a->prio, "mq: priority 0..32767 (default 0 or ?prio=)");
    app->add_option("--type", a->type, "sysvmq: message type >= 1 (default 1 or ?type=)");
    app->add_flag("--create", a->create, "Create the queue, FIFO or channel if missing");
    app->add_option("--mode", a->mode, "Permissions when created (octal, default 0600)");
    app->add_option("--timeout",
                    a->timeout,
                    "Give up after this long (1.5s, 250ms; 0 = do not wait) and exit 3");
    app->add_option("--trust-owner", a->trust_owners, kTrustOwnerHelp)->type_name("USER");
    app->footer(std::string("Examples:\n"
                            "  ipckit send --create mq:/jobs hello world      # two messages\n"
                            "  ipckit send mq:/jobs --prio 10 urgent\n"
                            "  printf 'a\\nb\\n' | ipckit send sysvmq:0x1234 --type 2\n"
                            "  ipckit send --whole --file image.png unix:/tmp/s.sock\n"
                            "  find . -print0 | ipckit send -0 fifo:/tmp/f\n\n") +
                kExitCodeHelp);
    commands.push_back({app, [a] { return run_send(*a); }});
}

}  // namespace ipckit::cli
