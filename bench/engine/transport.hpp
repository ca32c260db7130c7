// SPDX-License-Identifier: MIT
// The one interface every mechanism `ipckit bench` measures sits behind (iceperf's leader/follower
// shape): the supervisor creates the kernel objects before fork (setup), each forked child opens
// its ends (attach) and moves messages (send/receive), and the supervisor removes every object at
// the end, even after a crash or Ctrl-C (teardown).
#pragma once

#include "ipckit/core/result.hpp"

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace ipckit::bench {

/// The side of a pair: the leader measures, the follower echoes and acknowledges.
enum class Role { Leader, Follower };

/// How a row is grouped in the table and coloured in the chart.
enum class Group { Floor, Stream, Socket, Queue, SharedMemory, Signal, Channel, Peer };

/// What setup() may create, for the ledger that proves nothing is left behind.
struct SetupParams {
    std::size_t max_message_size = 64;  ///< the largest message any phase will send
    std::string tag;                    ///< unique per run and transport: "ipckit-bench-<pid>-<n>"
    std::string temp_dir;               ///< a private 0700 directory for FIFOs and sockets
};

/// One mechanism. Created fresh for every run; the same object is used in the supervisor and, via
/// fork, in both children, so members set by setup() are visible in attach().
class Transport {
public:
    Transport() = default;
    Transport(const Transport&) = delete;
    Transport& operator=(const Transport&) = delete;
    Transport(Transport&&) = delete;
    Transport& operator=(Transport&&) = delete;
    virtual ~Transport() = default;

    /// Supervisor, before fork: create every kernel object (and record it in the ledger).
    virtual Result<void> setup(const SetupParams& params) = 0;
    /// The largest message this mechanism carries once set up (datagram and queue limits);
    /// larger sizes are reported as "not supported", not as errors.
    [[nodiscard]] virtual std::size_t max_message_size() const { return SIZE_MAX; }
    /// Child, after fork: open this role's ends and drop the peer's.
    virtual Result<void> attach(Role role, int peer_pid) = 0;
    /// Sends one whole message. Blocks at most until the child's phase deadline (wait.hpp).
    virtual Result<void> send(std::span<const std::byte> message) = 0;
    /// Receives one message into `buffer` (byte streams read exactly buffer.size()); returns its
    /// length. Blocks at most until the child's phase deadline.
    virtual Result<std::size_t> receive(std::span<std::byte> buffer) = 0;
    /// Child, before it exits: leave any daemon or broker politely (peers).
    virtual void detach() noexcept {}
    /// Supervisor: remove every kernel object setup() made. Must be safe after a partial setup.
    virtual void teardown() noexcept = 0;
};

/// A daemon some peer needs (iceoryx's iox-roudi): started once before the first transport that
/// needs it, stopped by PID after the last one, also on Ctrl-C and on error.
struct DaemonHooks {
    /// Starts it and waits until it is ready; `cancelled` is polled while waiting (Ctrl-C).
    Result<void> (*start)(const std::string& temp_dir, bool (*cancelled)()) = nullptr;
    /// Stops it by PID. `clients` are live client processes of ours: the daemon may terminate
    /// them itself, so stop() reaps them while it waits (RouDi checks they are gone).
    void (*stop)(std::span<const int> clients) = nullptr;
};

/// A registered mechanism.
struct TransportInfo {
    std::string name;   ///< command-line and table name: "pipe", "posix-mq", "zmq-ipc"
    std::string title;  ///< human title: "anonymous pipe"
    Group group = Group::Stream;
    bool peer = false;   ///< a third-party library (--peers)
    DaemonHooks daemon;  ///< empty unless the mechanism needs a daemon
    std::unique_ptr<Transport> (*make)() = nullptr;
    /// Request/reply mechanisms (ZeroMQ REQ/REP, an ipckit service) cannot stream one way: their
    /// throughput rows are "not supported", and only round trips are measured.
    bool round_trips_only = false;
};

/// Every mechanism compiled into this build, floors first.
const std::vector<TransportInfo>& transports();

/// Records a kernel object the moment it exists, when IPCKIT_BENCH_OBJECT_LOG names a file, so a
/// test can prove every one is gone afterwards ("posix-shm /name", "sysv-sem 42", "path /tmp/x").
void ledger(const std::string& kind, const std::string& object);

}  // namespace ipckit::bench
