// SPDX-License-Identifier: MIT
// ipckit serve srv:NAME -- COMMAND...: a request/reply server that runs COMMAND once per
// request, the request on its stdin and its stdout the response (a non-zero exit is an error
// response carrying its stderr). Built on ipckit::Server and ipckit::run (process.hpp).
#include "cli.hpp"
#include "endpoint_cli.hpp"
#include "ipckit/core/deadline.hpp"
#include "ipckit/core/units.hpp"
#include "ipckit/service/server.hpp"
#include "ipckit/stream/process.hpp"

#include <signal.h>

#include <cstdint>
#include <fmt/core.h>
#include <memory>
#include <string>
#include <vector>

namespace ipckit::cli {

namespace {

struct ServeArgs {
    std::string uri;
    std::vector<std::string> command;
    long long count = 0;  // 0: until interrupted
    std::uint32_t max_clients = 8;
    std::string max_size = "64K";
};

volatile sig_atomic_t g_serve_stop = 0;

void on_serve_stop(int sig) {
    g_serve_stop = sig;
}

/// Runs the command for one request and sends its outcome back.
Result<void> answer(Server& srv, Request& req, const ServeArgs& a, std::size_t max_size) {
    const auto in = req.payload();
    RunOptions ro;
    ro.deadline = req.deadline();
    auto out = run(a.command,
                   {reinterpret_cast<const char*>(in.data()), in.size()},  // NOLINT
                   ro);
    if (!out) {
        if (out.error().code() == std::errc::timed_out) {
            // The request's deadline passed (the command was killed): the client has given up
            // and reports its own timeout, so no answer is sent that could race with it.
            return out.error();
        }
        return srv.respond_error(req, out.error().message());
    }
    if (!out->status.success()) {
        std::string text =
            out->err.empty() ? a.command[0] + " " + out->status.describe() : out->err;
        if (text.size() > max_size) {
            text.resize(max_size);
        }
        return srv.respond_error(req, text);
    }
    if (out->out.size() > max_size) {
        return srv.respond_error(req,
                                 fmt::format("{} wrote {} bytes, more than --max-size {}",
                                             a.command[0],
                                             out->out.size(),
                                             max_size));
    }
    return srv.respond(req, std::as_bytes(std::span(out->out.data(), out->out.size())), true);
}

int run_serve(const ServeArgs& a) {
    if (a.command.empty()) {
        return usage("serve", "missing COMMAND after --");
    }
    if (a.count < 0) {
        return usage("serve", "-n must be >= 1");
    }
    const auto size = parse_size(a.max_size, kSizeBytes, std::uint64_t{64} << 20);
    if (!size || *size == 0) {
        return usage("serve", "--max-size '" + a.max_size + "' is not a size (e.g. 4096, 64K)");
    }
    SrvUri service;
    if (auto rc = parse_service_uri("serve", a.uri, service)) {
        return *rc;
    }
    struct sigaction sa {};
    sa.sa_handler = on_serve_stop;  // no SA_RESTART: a wait returns, the loop checks the flag
    ::sigaction(SIGINT, &sa, nullptr);
    ::sigaction(SIGTERM, &sa, nullptr);
    ServiceConfig config;
    config.max_clients = a.max_clients;
    config.max_request_size = static_cast<std::size_t>(*size);
    config.max_response_size = static_cast<std::size_t>(*size);
    config.options.dir = service.dir.value_or(std::string());
    auto srv = Server::create(service.name, config);
    if (!srv) {
        return fail("serve", srv.error());
    }
    for (long long served = 0; a.count == 0 || served < a.count;) {
        if (g_serve_stop != 0) {
            return 128 + g_serve_stop;
        }
        auto req = srv->receive(Deadline::after(std::chrono::milliseconds(100)));
        if (!req) {
            return fail("serve", req.error());
        }
        if (!*req) {
            continue;
        }
        if (auto r = answer(*srv, **req, a, config.max_response_size); !r) {
            print_error("serve", r.error());  // one client's trouble: keep serving the others
        }
        ++served;
    }
    return kExitOk;
}

}  // namespace

void register_serve(CLI::App& root, std::vector<Command>& commands) {
    auto a = std::make_shared<ServeArgs>();
    CLI::App* app =
        root.add_subcommand("serve", "Answer requests to a service by running a command");
    app->description(
        "Becomes the server of srv:NAME (one live server per name: a second one exits 1 naming\n"
        "the first). For each request it runs COMMAND (no shell), the request on its stdin; its\n"
        "stdout is the response. A non-zero exit is an error response with COMMAND's stderr.\n"
        "Requests are answered one at a time, each bounded by its own deadline.\n"
        "SIGINT/SIGTERM exit 130/143.");
    app->add_option("uri", a->uri, "Service: srv:NAME")->required();
    app->add_option("command", a->command, "COMMAND and its arguments, after --")->expected(-1);
    app->add_option("-n,--count", a->count, "Serve N requests, then exit (default: forever)");
    app->add_option("--max-clients", a->max_clients, "Clients connected at once (default 8)");
    app->add_option("--max-size", a->max_size, "Largest request and response (default 64K)");
    app->footer(std::string("Examples:\n"
                            "  ipckit serve srv:upper -- tr a-z A-Z\n"
                            "  ipckit serve srv:calc -- bc -l\n\n") +
                kExitCodeHelp);
    commands.push_back({app, [a] { return run_serve(*a); }});
}

}  // namespace ipckit::cli
