// SPDX-License-Identifier: MIT
// Helpers shared by the channel tests (unit and multiprocess).
#pragma once

#include "bytes.hpp"
#include "fault_points.hpp"
#include "ipc_registry.hpp"
#include "ipckit/channel/channel.hpp"
#include "ipckit/channel/publisher.hpp"
#include "ipckit/channel/subscriber.hpp"
#include "shared_counters.hpp"

#include <sys/stat.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

namespace ipckit::test {

/// This test process's private channel directory (0700, inside run_dir(), removed with it), made
/// the default through IPCKIT_SHM_DIR so forked children and exec'd examples use it too. Not
/// /dev/shm: the suite's end-of-run leak check (of any concurrent run on the host) unlinks every
/// /dev/shm/ipckit-test-* file, including the live files of tests still running.
inline const std::string& chan_dir() {
    static const std::string dir = [] {
        std::string d = run_dir() + "/chan";
        ::setenv("IPCKIT_SHM_DIR", d.c_str(), 1);
        return d;
    }();
    ::mkdir(run_dir().c_str(), 0700);  // (again: the harness may have removed it after a test)
    ::mkdir(dir.c_str(), 0700);
    return dir;
}

/// A unique channel name (in chan_dir()).
inline std::string chan_name() {
    (void)chan_dir();
    return unique_shm_name("chan").substr(1);
}

inline std::string chan_path(const std::string& name) { return chan_dir() + "/" + name + ".chan"; }

inline ChannelConfig small_config(ChannelPolicy policy = ChannelPolicy::Block) {
    ChannelConfig c;
    c.policy = policy;
    c.lane_bytes = 4096;
    c.max_message_size = 1024;
    c.max_publishers = 4;
    c.max_subscribers = 8;
    c.max_loans = 4;
    c.options.spin_polls = 16;
    return c;
}

/// Message carrying a sequence number and a checksum of `size` bytes of pattern.
inline void fill_message(std::span<std::byte> out, std::uint64_t seq) {
    std::uint64_t x = seq * 0x9E3779B97F4A7C15ULL + 1;
    for (std::size_t i = 0; i < out.size(); ++i) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out[i] = static_cast<std::byte>(x);
    }
    if (out.size() >= 8) {
        std::memcpy(out.data(), &seq, 8);
    }
}

inline bool check_message(std::span<const std::byte> in, std::uint64_t* seq_out) {
    std::uint64_t seq = 0;
    if (in.size() < 8) {
        return false;
    }
    std::memcpy(&seq, in.data(), 8);
    std::uint64_t x = seq * 0x9E3779B97F4A7C15ULL + 1;
    for (std::size_t i = 0; i < in.size(); ++i) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        if (i >= 8 && in[i] != static_cast<std::byte>(x)) {
            return false;
        }
    }
    *seq_out = seq;
    return true;
}

}  // namespace ipckit::test
