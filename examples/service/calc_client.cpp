// SPDX-License-Identifier: MIT
// The calculator service's client: sends each expression as one request and prints the answer.
//
//   example_calc_client NAME "1 + 2" "6 * 7" ...
//
// All expressions are sent first (several requests in flight), then the answers are collected
// in order. Prints "EXPR = RESULT" or "EXPR: error: WHY"; exits 1 if any request failed.
#include "ipckit/service/client.hpp"

#include <cstdio>
#include <string>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
    using namespace std::chrono_literals;
    if (argc < 3) {
        std::fprintf(stderr, "usage: %s NAME EXPR...\n", argv[0]);
        return 2;
    }
    // The server may still be starting: retry the connection for a little while.
    auto client = ipckit::Client::connect(argv[1]);
    for (int i = 0; i < 500 && !client && client.error().code() == std::errc::connection_refused;
         ++i) {
        std::this_thread::sleep_for(10ms);
        client = ipckit::Client::connect(argv[1]);
    }
    if (!client) {
        std::fprintf(stderr, "calc_client: %s\n", client.error().message().c_str());
        return 1;
    }
    const auto deadline = ipckit::Deadline::after(5s);
    std::vector<std::string> exprs(argv + 2, argv + argc);
    std::vector<ipckit::RequestId> ids;
    for (const auto& e : exprs) {
        auto id = client->send(std::as_bytes(std::span(e.data(), e.size())), deadline);
        if (!id) {
            std::fprintf(stderr, "calc_client: %s\n", id.error().message().c_str());
            return 1;
        }
        ids.push_back(*id);
    }
    int status = 0;
    for (std::size_t i = 0; i < ids.size(); ++i) {
        auto r = client->receive(ids[i], deadline);
        if (!r) {
            std::fprintf(stderr, "calc_client: %s\n", r.error().message().c_str());
            return 1;
        }
        const std::string text(r->text());
        if (r->is_error()) {
            std::printf("%s: error: %s\n", exprs[i].c_str(), text.c_str());
            status = 1;
        } else {
            std::printf("%s = %s\n", exprs[i].c_str(), text.c_str());
        }
    }
    return status;
}
