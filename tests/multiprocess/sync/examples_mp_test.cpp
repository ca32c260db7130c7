// SPDX-License-Identifier: MIT
// The sync examples (seed 000's named semaphore, seed 003's P/V printers, robust-mutex recovery)
// are built and run, and their output checked.
#include "ipc_registry.hpp"
#include "run_program.hpp"

#include <map>
#include <regex>
#include <sstream>

#include <gtest/gtest.h>

namespace ipckit {
namespace {

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        out.push_back(line);
    }
    return out;
}

TEST(SyncExamples, NamedSemaphoreValueTwo) {
    const std::string name = test::unique_sem_name();
    const auto r =
        test::run_program({test::build_path("examples/example_named_semaphore_value_two"), name});
    ASSERT_TRUE(r.exited && r.exit_code == 0) << r.describe();
    EXPECT_EQ(r.out, "Decrease semaphore by 1, now: 1\nAdd semaphore by 1, now: 2\n");
}

TEST(SyncExamples, SysvSemaphorePrintersNeverInterleave) {
    constexpr int kProcesses = 4;
    constexpr int kLines = 6;
    const key_t key = test::unique_sysv_key(test::IpcKind::SysvSem);
    const auto r = test::run_program({test::build_path("examples/example_sysv_semaphore_printers"),
                                      "--key",
                                      std::to_string(key),
                                      "--processes",
                                      std::to_string(kProcesses),
                                      "--lines",
                                      std::to_string(kLines),
                                      "one",
                                      "line",
                                      "at",
                                      "a",
                                      "time"});
    ASSERT_TRUE(r.exited && r.exit_code == 0) << r.describe();
    const auto lines = lines_of(r.out);
    ASSERT_EQ(lines.size(), static_cast<std::size_t>(kProcesses * kLines + 1)) << r.out;
    const std::regex whole(R"(process (\d+): one line at a time)");
    std::map<std::string, int> per_process;
    for (std::size_t i = 0; i + 1 < lines.size(); ++i) {
        std::smatch m;
        ASSERT_TRUE(std::regex_match(lines[i], m, whole)) << "interleaved: '" << lines[i] << "'\n"
                                                          << r.out;
        per_process[m[1]] += 1;
    }
    EXPECT_EQ(per_process.size(), static_cast<std::size_t>(kProcesses));
    for (const auto& [pid, count] : per_process) {
        EXPECT_EQ(count, kLines) << pid;
    }
    EXPECT_EQ(lines.back(), "4 processes finished, 0 failed");
}

TEST(SyncExamples, RobustMutexRecovery) {
    const auto r = test::run_program({test::build_path("examples/example_robust_mutex_recovery")});
    ASSERT_TRUE(r.exited && r.exit_code == 0) << r.describe();
    EXPECT_EQ(r.out,
              "child killed while holding the mutex: a=1 b=0\n"
              "lock: previous owner died; repairing b=0 -> 1\n"
              "consistent again: a=2 b=2\n"
              "next lock: consistent\n");
}

}  // namespace
}  // namespace ipckit
