// SPDX-License-Identifier: MIT
// What a forked child runs, private to the engine: supervise.cpp forks the leader and the follower
// and each calls run_child(), which never returns.
#pragma once

#include "engine/engine.hpp"
#include "engine/protocol.hpp"

#include <cstddef>
#include <vector>

namespace ipckit::bench {

struct Plan {
    std::vector<std::size_t> latency;  // sizes this transport supports, in order
    std::vector<std::size_t> throughput;
};

/// A child's whole life: pins itself to `cpu`, waits for the supervisor's go, attaches, runs every
/// phase of `plan` as `role` and exits (status 1 with its error in `shared` when one fails).
[[noreturn]] void run_child(Role role,
                            const TransportInfo& info,
                            Transport& t,
                            const Config& c,
                            const Plan& plan,
                            SharedBlock& shared,
                            int cpu);

}  // namespace ipckit::bench
