// SPDX-License-Identifier: MIT
// test::NatsServer: a real nats-server on 127.0.0.1 for the NATS endpoint tests, on random ports
// read back from its ports file, with its own temp dir, stopped by PID when the test ends.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace ipckit::test {

struct NatsServerOptions {
    bool jetstream = false;  ///< -js -sd <temp dir>/jetstream
    std::string config;      ///< written to a file passed with -c (max_payload: 1024)
    std::chrono::milliseconds start_timeout{10'000};
};

/// Starts `nats-server -a 127.0.0.1 -p -1 -m -1` (random client and monitoring ports) and waits
/// until it answers (its INFO line on a TCP connect), every wait with a deadline. The destructor
/// stops it by PID (SIGTERM, then SIGKILL after 5 s) and removes its temp dir, also when the test
/// fails; PR_SET_PDEATHSIG kills it if the test process dies. Installs nothing: a missing binary
/// throws std::runtime_error naming the package (gtest reports it as the test's failure).
class NatsServer {
public:
    explicit NatsServer(NatsServerOptions options = {});
    NatsServer(const NatsServer&) = delete;
    NatsServer& operator=(const NatsServer&) = delete;
    ~NatsServer();

    [[nodiscard]] std::uint16_t port() const { return port_; }
    [[nodiscard]] pid_t pid() const { return pid_; }
    /// The server's max_payload, from its INFO line.
    [[nodiscard]] std::size_t max_payload() const { return max_payload_; }
    /// "nats://127.0.0.1:PORT/SUBJECT".
    [[nodiscard]] std::string url(const std::string& subject) const;
    /// True once the server lists a subscription on exactly `subject` (its monitoring /subsz),
    /// false at the timeout.
    bool wait_for_subscription(const std::string& subject, std::chrono::milliseconds timeout) const;
    /// Stops the server now (SIGTERM, SIGKILL after 5 s); idempotent.
    void stop();
    /// Stops it (if running) and starts it again on the same client port, with the same options
    /// and store directory (a server restart as clients see it).
    void restart();

    /// $IPCKIT_TEST_NATS_SERVER when set, else nats-server on PATH (or /usr/sbin, /usr/bin);
    /// empty if missing.
    static std::string binary();

private:
    void start(std::uint16_t port);
    NatsServerOptions options_;
    std::string dir_;
    pid_t pid_ = -1;
    std::uint16_t port_ = 0;
    std::uint16_t http_port_ = 0;
    std::size_t max_payload_ = 0;
};

}  // namespace ipckit::test
