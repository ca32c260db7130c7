// SPDX-License-Identifier: MIT
// Every fuzz target's entry (fuzz/<name>_fuzz.cpp, compiled here without libFuzzer) over every
// file of fuzz/corpus/<name>/ and fuzz/regressions/<name>/: each crash the fuzzers found stays
// a test, in this build's compiler and sanitizers (docs/design/fuzzing.md). One test per file,
// from the list tests/CMakeLists.txt compiles in.
//
// fuzz/regressions/KNOWN_OPEN lists reproducers of defects not fixed yet ("<name>/<file> why"):
// those are skipped with the reason, and the line is deleted with the fix.
#include "fuzz_target.hpp"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace ipckit {
namespace {

namespace fs = std::filesystem;

const fs::path kFuzzDir = fs::path(IPCKIT_SOURCE_DIR) / "fuzz";

struct Input {
    std::string target;
    fuzz::Entry entry = nullptr;
    fs::path file;
};

/// Every file of fuzz/corpus/<name>/ and fuzz/regressions/<name>/ when this was built.
constexpr const char* kInputs[] = {
#include "fuzz_inputs.inc"
};

std::vector<Input> all_inputs() {
    std::vector<Input> out;
    for (const char* rel : kInputs) {
        const fs::path file = kFuzzDir / rel;
        const std::string target = file.parent_path().filename().string();
        fuzz::Entry entry = nullptr;
        for (const fuzz::Target& t : fuzz::registry()) {
            if (target == t.name) {
                entry = t.entry;
            }
        }
        out.push_back(Input{target, entry, file});
    }
    return out;
}

/// "<name>/<file>" -> why, from fuzz/regressions/KNOWN_OPEN ('#' starts a comment line).
std::map<std::string, std::string> known_open() {
    std::map<std::string, std::string> out;
    std::ifstream in(kFuzzDir / "regressions" / "KNOWN_OPEN");
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line.front() == '#') {
            continue;
        }
        const auto space = line.find_first_of(" \t");
        out[line.substr(0, space)] = space == std::string::npos ? "" : line.substr(space + 1);
    }
    return out;
}

// The parameter as gtest lists it, and so as ctest names the test:
// Inputs/FuzzReplay.RunsCleanly/channel/regressions/max-message-add-overflow.
void PrintTo(const Input& in, std::ostream* os) {
    *os << in.target << "/" << in.file.parent_path().parent_path().filename().string() << "/"
        << in.file.filename().string();
}

class FuzzReplay : public ::testing::TestWithParam<Input> {};

TEST_P(FuzzReplay, RunsCleanly) {
    const Input& in = GetParam();
    ASSERT_NE(in.entry, nullptr) << "no fuzz target named " << in.target << " for " << in.file;
    const std::string kind = in.file.parent_path().parent_path().filename().string();
    const std::string key = in.target + "/" + in.file.filename().string();
    if (kind == "regressions") {
        const auto open = known_open();
        if (auto it = open.find(key); it != open.end()) {
            GTEST_SKIP() << "known open defect: " << it->second;
        }
    }
    std::ifstream f(in.file, std::ios::binary);
    ASSERT_TRUE(f) << in.file;
    const std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    // A failure aborts inside the entry (a sanitizer report or a fuzz property), naming the file
    // through this trace line.
    std::fprintf(stderr, "replaying %s (%zu bytes)\n", in.file.c_str(), bytes.size());
    EXPECT_EQ(in.entry(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()), 0);
}

INSTANTIATE_TEST_SUITE_P(Inputs, FuzzReplay, ::testing::ValuesIn(all_inputs()));

TEST(FuzzReplayCorpus, EveryTargetHasSeeds) {
    ASSERT_FALSE(fuzz::registry().empty());
    for (const fuzz::Target& t : fuzz::registry()) {
        std::error_code ec;
        const fs::path dir = kFuzzDir / "corpus" / t.name;
        EXPECT_TRUE(fs::is_directory(dir, ec)) << dir;
        EXPECT_NE(fs::directory_iterator(dir, ec), fs::directory_iterator()) << dir << " is empty";
    }
}

}  // namespace
}  // namespace ipckit
