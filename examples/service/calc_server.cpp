// SPDX-License-Identifier: MIT
// A calculator service: answers "A OP B" requests (OP one of + - * /) over srv:NAME.
//
//   example_calc_server NAME [N]
//
// Serves N requests (default: until SIGINT/SIGTERM), then removes the service's files. A request
// it cannot compute ("1 / 0", "hello") gets an error response saying why. Run
// example_calc_client NAME EXPR... against it.
#include "ipckit/service/server.hpp"
#include "ipckit/service/service.hpp"

#include <signal.h>

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>

namespace {

volatile sig_atomic_t g_stop = 0;

void on_stop(int /*sig*/) {
    g_stop = 1;
}

/// "A OP B" -> the result text, or an error text (second = false).
std::pair<std::string, bool> compute(const std::string& expr) {
    std::istringstream in(expr);
    double a = 0;
    double b = 0;
    char op = 0;
    if (!(in >> a >> op >> b) || !(in >> std::ws).eof()) {
        return {"expected 'A OP B', got '" + expr + "'", false};
    }
    double r = 0;
    switch (op) {
        case '+':
            r = a + b;
            break;
        case '-':
            r = a - b;
            break;
        case '*':
            r = a * b;
            break;
        case '/':
            if (b == 0) {
                return {"division by zero", false};
            }
            r = a / b;
            break;
        default:
            return {std::string("unknown operator '") + op + "'", false};
    }
    std::ostringstream out;
    out << r;
    return {out.str(), true};
}

int serve(const std::string& name, long limit) {
    auto srv = ipckit::Server::create(name, ipckit::ServiceConfig{});
    if (!srv) {
        std::fprintf(stderr, "calc_server: %s\n", srv.error().message().c_str());
        return 1;
    }
    std::printf("calc_server: serving srv:%s\n", srv->name().c_str());
    std::fflush(stdout);
    for (long served = 0; g_stop == 0 && (limit == 0 || served < limit);) {
        auto req = srv->receive(ipckit::Deadline::after(std::chrono::milliseconds(200)));
        if (!req) {
            std::fprintf(stderr, "calc_server: %s\n", req.error().message().c_str());
            return 1;
        }
        if (!*req) {
            continue;  // nothing yet: look at the stop flag again
        }
        const auto p = (*req)->payload();
        const auto [text, ok] = compute({reinterpret_cast<const char*>(p.data()), p.size()});
        if (ok) {
            // Zero-copy: the answer is written straight into the client's response channel.
            auto loan = srv->loan(**req, text.size());
            if (loan) {
                text.copy(reinterpret_cast<char*>(loan->data()), text.size());
                (void)srv->respond(**req, std::move(*loan), true);
            }
        } else {
            (void)srv->respond_error(**req, text);
        }
        ++served;
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s NAME [N]\n", argv[0]);
        return 2;
    }
    const std::string name = argv[1];
    const long limit = argc > 2 ? std::strtol(argv[2], nullptr, 10) : 0;
    struct sigaction sa {};
    sa.sa_handler = on_stop;
    ::sigaction(SIGINT, &sa, nullptr);
    ::sigaction(SIGTERM, &sa, nullptr);
    const int rc = serve(name, limit);
    (void)ipckit::Service::remove(name);  // the server is closed: clients now get "refused"
    return rc;
}
