// SPDX-License-Identifier: MIT
// How a fuzz target declares its entry point (docs/design/fuzzing.md).
//
// Built for libFuzzer (fuzz/CMakeLists.txt), IPCKIT_FUZZ_TARGET(name) is LLVMFuzzerTestOneInput:
// one target per executable. Built into the regression replay test (tests/unit/fuzz_regressions,
// IPCKIT_FUZZ_REPLAY defined), it is a static function registered under `name`, so one gtest
// binary holds every target and replays fuzz/corpus/<name>/ and fuzz/regressions/<name>/.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace ipckit::fuzz {

using Entry = int (*)(const std::uint8_t* data, std::size_t size);

struct Target {
    const char* name;
    Entry entry;
};

/// Every target linked into this binary (filled before main() in the replay build only).
inline std::vector<Target>& registry() {
    static std::vector<Target> targets;
    return targets;
}

struct Register {
    Register(const char* name, Entry entry) { registry().push_back(Target{name, entry}); }
};

/// A property the library promises was broken: report it and abort, so libFuzzer saves the
/// input as a crash and the replay test fails. Used for checks a sanitizer cannot make.
[[noreturn]] inline void violated(const char* file, int line, const char* what) {
    std::fprintf(stderr, "%s:%d: fuzz property violated: %s\n", file, line, what);
    std::abort();
}

}  // namespace ipckit::fuzz

/// FUZZ_CHECK(cond): abort with the condition's text unless it holds.
#define FUZZ_CHECK(cond) \
    ((cond) ? static_cast<void>(0) : ::ipckit::fuzz::violated(__FILE__, __LINE__, #cond))

#ifdef IPCKIT_FUZZ_REPLAY
#define IPCKIT_FUZZ_TARGET(name)                                                                   \
    static int ipckit_fuzz_##name(const std::uint8_t* data, std::size_t size);                     \
    static const ::ipckit::fuzz::Register ipckit_fuzz_register_##name(#name, &ipckit_fuzz_##name); \
    static int ipckit_fuzz_##name(const std::uint8_t* data, std::size_t size)
#else
#define IPCKIT_FUZZ_TARGET(name) \
    extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
#endif
