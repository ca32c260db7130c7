// SPDX-License-Identifier: MIT
// Helpers shared by the request/reply tests: a private service directory, unique names, a
// server that connects reliably, byte/string conversions.
#pragma once

#include "ipc_registry.hpp"
#include "ipckit/service/client.hpp"
#include "ipckit/service/server.hpp"
#include "ipckit/service/service.hpp"

#include <sys/stat.h>

#include <chrono>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>
#include <thread>

namespace ipckit::test {

/// This test process's private service directory (inside run_dir(), removed with it), made the
/// default through IPCKIT_SHM_DIR so forked children and exec'd programs use it too.
inline const std::string& srv_dir() {
    static const std::string dir = [] {
        std::string d = run_dir() + "/srv";
        ::setenv("IPCKIT_SHM_DIR", d.c_str(), 1);
        return d;
    }();
    ::mkdir(run_dir().c_str(), 0700);
    ::mkdir(dir.c_str(), 0700);
    return dir;
}

/// Removes every file of a service when the test ends, passed or not.
class ScopedService {
public:
    ScopedService() : name_(unique_shm_name("srv").substr(1)) { (void)srv_dir(); }
    ~ScopedService() { (void)Service::remove(name_); }
    ScopedService(const ScopedService&) = delete;
    ScopedService& operator=(const ScopedService&) = delete;
    [[nodiscard]] const std::string& name() const { return name_; }
    [[nodiscard]] std::string uri() const { return "srv:" + name_; }

private:
    std::string name_;
};

inline ServiceConfig small_service(std::uint32_t max_clients = 4) {
    ServiceConfig c;
    c.max_request_size = 1024;
    c.max_response_size = 1024;
    c.max_clients = max_clients;
    return c;
}

inline std::span<const std::byte> bytes_of(std::string_view s) {
    return {reinterpret_cast<const std::byte*>(s.data()), s.size()};  // NOLINT
}

inline std::string string_of(std::span<const std::byte> b) {
    return {reinterpret_cast<const char*>(b.data()), b.size()};  // NOLINT
}

/// Connects, retrying while the server (another process) is still starting, up to `wait`.
inline Result<Client> connect_when_up(const std::string& name,
                                      const ClientOptions& o = {},
                                      std::chrono::milliseconds wait = std::chrono::seconds(5)) {
    const auto until = std::chrono::steady_clock::now() + wait;
    for (;;) {
        auto c = Client::connect(name, o);
        if (c || c.error().code() != std::errc::connection_refused ||
            std::chrono::steady_clock::now() > until) {
            return c;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
}

}  // namespace ipckit::test
