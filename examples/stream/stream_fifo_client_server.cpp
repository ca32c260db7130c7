// SPDX-License-Identifier: MIT
// Seed 003, "Client-Server Communication Using a FIFO": a server reads requests from a
// well-known FIFO and answers each client through a FIFO named after the client's pid
// (ipckit::FifoServer / FifoClient). The server survives clients that vanish (EPIPE/ENXIO, no
// SIGPIPE) and removes FIFOs left by crashed clients.
//
//   example_stream_fifo_client_server server PATH COUNT   serve COUNT requests (upper-cases them)
//   example_stream_fifo_client_server client PATH TEXT    one request, prints the reply
//   example_stream_fifo_client_server                     demo: a server and three clients
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <climits>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "ipckit/stream/fifo_client.hpp"
#include "ipckit/stream/fifo_server.hpp"
#include "ipckit/stream/process.hpp"

using namespace std::chrono_literals;

namespace {

int serve(const std::string& path, int count) {
    auto server = ipckit::FifoServer::create(path);
    if (!server) {
        std::fprintf(stderr, "server: %s\n", server.error().message().c_str());
        return 1;
    }
    (void)server->remove_stale_clients();
    std::printf("ready\n");
    std::fflush(stdout);
    int served = 0;
    while (served < count) {
        auto req = server->receive(ipckit::Deadline::after(30s));
        if (!req) {
            std::fprintf(stderr, "server: %s\n", req.error().message().c_str());  // and go on
            continue;
        }
        if (!req->has_value()) {
            std::fprintf(stderr, "server: no request for 30 s\n");
            return 1;
        }
        std::string answer = (*req)->body;
        std::transform(answer.begin(), answer.end(), answer.begin(),
                       [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
        auto sent = server->reply(**req, answer);
        if (!sent || !*sent) {
            std::fprintf(stderr, "server: client %d vanished\n", static_cast<int>((*req)->client));
        }
        ++served;
    }
    std::printf("served %d requests\n", served);
    return 0;
}

int call(const std::string& path, const std::string& text) {
    auto client = ipckit::FifoClient::connect(path);
    if (!client) {
        std::fprintf(stderr, "client: %s\n", client.error().message().c_str());
        return 1;
    }
    auto reply = client->call(text, ipckit::Deadline::after(10s));
    if (!reply) {
        std::fprintf(stderr, "client: %s\n", reply.error().message().c_str());
        return 1;
    }
    std::printf("%s\n", reply->c_str());
    return 0;
}

std::string self_path() {
    char buf[PATH_MAX] = {};
    const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

int demo() {
    char tmpl[] = "/tmp/ipckit-example-fifo-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) {
        std::perror("mkdtemp");
        return 1;
    }
    const std::string dir = tmpl;
    const std::string path = dir + "/serv1";
    const std::string self = self_path();
    constexpr int kClients = 3;
    int rc = 0;
    {
        auto server = ipckit::Process::spawn({self, "server", path, std::to_string(kClients)},
                                             {.out = ipckit::Stdio::pipe()})
                          .value();
        std::byte ready[6];
        (void)server.stdout_pipe().read_exact(ready, ipckit::Deadline::after(10s)).value();  // "ready\n"
        std::vector<ipckit::Process> clients;
        for (int i = 1; i <= kClients; ++i) {
            clients.push_back(ipckit::Process::spawn({self, "client", path, "hello from client " + std::to_string(i)},
                                                     {.out = ipckit::Stdio::pipe()})
                                  .value());
        }
        for (int i = 0; i < kClients; ++i) {
            auto out = clients[static_cast<std::size_t>(i)].communicate({}, ipckit::Deadline::after(10s)).value();
            std::printf("client %d: %s", i + 1, out.out.c_str());
            rc |= out.status.success() ? 0 : 1;
        }
        auto s = server.communicate({}, ipckit::Deadline::after(10s)).value();
        std::printf("server: %s", s.out.c_str());
        rc |= s.status.success() ? 0 : 1;
    }
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    return rc;
}

}  // namespace

int main(int argc, char* argv[]) {
    const std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty()) {
        return demo();
    }
    if (args.size() == 3 && args[0] == "server") {
        return serve(args[1], static_cast<int>(std::strtol(args[2].c_str(), nullptr, 10)));
    }
    if (args.size() == 3 && args[0] == "client") {
        return call(args[1], args[2]);
    }
    std::fprintf(stderr, "usage: %s [server PATH COUNT | client PATH TEXT]\n", argv[0]);
    return 2;
}
