// SPDX-License-Identifier: MIT
// ipckit call srv:NAME [MSG]: one request to a request/reply service; prints the response(s).
// Built on ipckit::Client (include/ipckit/service/client.hpp).
#include "cli.hpp"
#include "duration.hpp"
#include "endpoint_cli.hpp"
#include "ipckit/core/deadline.hpp"
#include "ipckit/service/client.hpp"

#include <unistd.h>

#include <cstdio>
#include <fmt/core.h>
#include <iostream>
#include <iterator>
#include <memory>
#include <string>

namespace ipckit::cli {

namespace {

struct CallArgs {
    std::string uri;
    std::string message;
    bool message_given = false;
    std::string timeout = "10s";
};

/// Writes one response to stdout, ending it with a newline if it has none.
void print_response(const Response& r) {
    const auto text = r.text();
    (void)std::fwrite(text.data(), 1, text.size(), stdout);  // errors: flush_stdout_status()
    if (text.empty() || text.back() != '\n') {
        (void)std::fputc('\n', stdout);
    }
}

int run_call(const CallArgs& a) {
    auto timeout = parse_duration(a.timeout);
    if (!timeout) {
        return fail("call", timeout.error());
    }
    std::string message = a.message;
    if (!a.message_given) {  // the request is stdin, whole
        message.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    }
    const Deadline deadline = Deadline::after(*timeout);
    SrvUri srv;
    if (auto rc = parse_service_uri("call", a.uri, srv)) {
        return *rc;
    }
    ClientOptions co;
    co.options.dir = srv.dir.value_or(std::string());
    auto client = Client::connect(srv.name, co);
    if (!client) {
        return fail("call", client.error());
    }
    auto r = client->call(std::as_bytes(std::span(message.data(), message.size())), deadline);
    for (;;) {
        if (!r) {
            return fail("call", r.error());
        }
        if (r->is_error()) {
            fmt::print(stderr,
                       "ipckit call: {}: the server answered with an error: {}\n",
                       a.uri,
                       r->text());
            (void)flush_stdout_status();
            return kExitFailure;
        }
        print_response(*r);
        if (r->final()) {
            return flush_stdout_status();
        }
        r = client->receive(r->id(), deadline);
    }
}

}  // namespace

void register_call(CLI::App& root, std::vector<Command>& commands) {
    auto a = std::make_shared<CallArgs>();
    CLI::App* app =
        root.add_subcommand("call", "Send one request to a service and print the reply");
    app->description(
        "Sends MSG (or all of stdin) as one request to the server of srv:NAME and prints each\n"
        "response on stdout (a newline added if it has none), until the final one of a stream.\n"
        "An error response is printed on stderr (exit 1). No server: exit 1. --timeout bounds\n"
        "the whole call (exit 3); a server that dies mid-request fails the call at once (exit 1).");
    app->add_option("uri", a->uri, "Service: srv:NAME")->required();
    app->add_option("message", a->message, "The request (default: stdin)")
        ->each([a](const std::string&) { a->message_given = true; });
    app->add_option("--timeout", a->timeout, "Deadline of the call (default 10s)");
    app->footer(std::string("Examples:\n"
                            "  ipckit call srv:calc '1 + 2'\n"
                            "  echo 'hello' | ipckit call srv:upper --timeout 2s\n\n") +
                kExitCodeHelp);
    commands.push_back({app, [a] { return run_call(*a); }});
}

}  // namespace ipckit::cli
