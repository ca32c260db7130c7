// SPDX-License-Identifier: MIT
// Helpers shared by the conformance tests (typed tests over every implementation of a concept).
#pragma once

#include "ipc_registry.hpp"

#include <sys/stat.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace ipckit::conformance {

/// `size` bytes in which every byte value occurs (for size >= 256), shifted by `seed` so that
/// two payloads differ.
inline std::vector<std::byte> pattern(std::size_t size, std::uint8_t seed) {
    std::vector<std::byte> out(size);
    for (std::size_t i = 0; i < size; ++i) {
        out[i] = static_cast<std::byte>((i * 131 + seed) & 0xff);
    }
    return out;
}

/// gtest's name generator for TYPED_TEST_SUITE: each implementation's kName.
struct ImplName {
    template <class T>
    static std::string GetName(int /*index*/) {
        return T::kName;
    }
};

/// A number from a /proc file (throws if it cannot be read: the test then fails, loudly).
inline std::size_t proc_number(const char* path) {
    std::ifstream in(path);
    std::size_t n = 0;
    if (!(in >> n)) {
        throw std::runtime_error(std::string("cannot read ") + path);
    }
    return n;
}

/// A unique channel name. The channel files go to this run's private directory (made the
/// default through IPCKIT_SHM_DIR, so forked children use it too), removed with the run
/// directory, never to /dev/shm (as tests/unit/channel/channel_test_util.hpp explains).
inline std::string channel_name() {
    static const std::string dir = [] {
        std::string d = test::run_dir() + "/chan";
        ::setenv("IPCKIT_SHM_DIR", d.c_str(), 1);
        return d;
    }();
    ::mkdir(test::run_dir().c_str(), 0700);  // the harness may have removed it after a test
    ::mkdir(dir.c_str(), 0700);
    return test::unique_shm_name("chan").substr(1);
}

}  // namespace ipckit::conformance
