// SPDX-License-Identifier: MIT
// What the leader and follower put at the front of every message, and the page they share with
// the supervisor (results, errors, progress). Private to the engine.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

namespace ipckit::bench {

enum class Kind : std::uint64_t { Data = 0, RepEnd = 1, PhaseEnd = 2, Ack = 3 };

/// The first 16 bytes of every message: the sequence number every receiver checks.
struct MessageHeader {
    std::uint64_t seq;
    std::uint64_t kind;
};

inline constexpr std::size_t kMaxPhases = 8;

enum ValueIndex : std::size_t { kMin, kP50, kP99, kP999, kMax, kMean, kSpread, kRate };

struct PhaseOut {
    int status = 0;  // Status
    std::uint64_t count = 0;
    double values[8] = {};  // NOLINT(modernize-avoid-c-arrays): a POD page shared across fork
};

struct SharedBlock {
    std::atomic<int> go{0};
    std::atomic<int> current_phase{0};
    std::atomic<int> failed_phase{-1};
    int leader_pid = 0;
    int follower_pid = 0;
    std::array<PhaseOut, kMaxPhases> latency{};
    std::array<PhaseOut, kMaxPhases> throughput{};
    char leader_error[512] = {};    // NOLINT(modernize-avoid-c-arrays)
    char follower_error[512] = {};  // NOLINT(modernize-avoid-c-arrays)
};

}  // namespace ipckit::bench
