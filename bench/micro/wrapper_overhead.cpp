// SPDX-License-Identifier: MIT
// Wrapper overhead: each ipckit call against the raw system call it wraps, same arguments, same
// object, on the path that does not block (futex wake with no waiter, futex wait on a word that
// already changed). The target is at most 1.05x raw; the table after the run prints the ratios.
//
// Adding a pair: register "<Name>/raw" and "<Name>/ipckit" below. Pipe write/read, mq
// send/receive and semaphore post/wait join when the Pipe, PosixMq and PosixSemaphore wrappers
// merge (each as a round trip on one object: write then read, send then receive, post then wait).
#include "ipckit/core/mapping.hpp"
#include "ipckit/sync/futex.hpp"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>

#include <benchmark/benchmark.h>

namespace {

/// A futex word in shared memory, as in every cross-process use.
std::atomic<std::uint32_t>& shared_word() {
    static ipckit::Mapping mapping = ipckit::Mapping::map_anonymous(4096).value();
    static auto* word = new (mapping.data()) std::atomic<std::uint32_t>(0);
    return *word;
}

void futex_wake_raw(benchmark::State& state) {
    auto& word = shared_word();
    for (auto _ : state) {
        benchmark::DoNotOptimize(syscall(SYS_futex,
                                         reinterpret_cast<std::uint32_t*>(&word),
                                         FUTEX_WAKE,
                                         1,
                                         nullptr,
                                         nullptr,
                                         0));
    }
}

void futex_wake_ipckit(benchmark::State& state) {
    auto& word = shared_word();
    for (auto _ : state) {
        auto r = ipckit::Futex::wake(word, 1);
        benchmark::DoNotOptimize(r);
    }
}

void futex_wait_changed_raw(benchmark::State& state) {
    auto& word = shared_word();
    for (auto _ : state) {
        // The word holds 0, we expect 1: the kernel returns EAGAIN at once. Same operation as
        // Futex::wait (FUTEX_WAIT_BITSET, which takes an absolute deadline).
        benchmark::DoNotOptimize(syscall(SYS_futex,
                                         reinterpret_cast<std::uint32_t*>(&word),
                                         FUTEX_WAIT_BITSET,
                                         1,
                                         nullptr,
                                         nullptr,
                                         FUTEX_BITSET_MATCH_ANY));
    }
}

void futex_wait_changed_ipckit(benchmark::State& state) {
    auto& word = shared_word();
    for (auto _ : state) {
        auto r = ipckit::Futex::wait(word, 1, ipckit::Deadline::never());
        benchmark::DoNotOptimize(r);
    }
}

/// The console output plus, at the end, "wrapper / raw" for every pair that ran.
class RatioReporter : public benchmark::ConsoleReporter {
public:
    void ReportRuns(const std::vector<Run>& runs) override {
        ConsoleReporter::ReportRuns(runs);
        for (const auto& run : runs) {
            if (run.run_type != Run::RT_Iteration || run.error_occurred) {
                continue;
            }
            const std::string name = run.benchmark_name();
            const auto slash = name.rfind('/');
            if (slash != std::string::npos) {
                times_[name.substr(0, slash)][name.substr(slash + 1)] = run.GetAdjustedCPUTime();
            }
        }
    }
    void Finalize() override {
        ConsoleReporter::Finalize();
        std::printf("\n%-24s %12s %12s %8s\n", "wrapper overhead", "raw", "ipckit", "ratio");
        for (const auto& [op, t] : times_) {
            const auto raw = t.find("raw");
            const auto wrapped = t.find("ipckit");
            if (raw == t.end() || wrapped == t.end() || raw->second <= 0) {
                continue;
            }
            const double ratio = wrapped->second / raw->second;
            std::printf("%-24s %9.1f ns %9.1f ns %7.3fx%s\n",
                        op.c_str(),
                        raw->second,
                        wrapped->second,
                        ratio,
                        ratio <= 1.05 ? "" : "  (over the 1.05x target)");
        }
    }

private:
    std::map<std::string, std::map<std::string, double>> times_;
};

}  // namespace

BENCHMARK(futex_wake_raw)->Name("FutexWake/raw");
BENCHMARK(futex_wake_ipckit)->Name("FutexWake/ipckit");
BENCHMARK(futex_wait_changed_raw)->Name("FutexWaitChanged/raw");
BENCHMARK(futex_wait_changed_ipckit)->Name("FutexWaitChanged/ipckit");

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) {
        return 1;
    }
    RatioReporter reporter;
    benchmark::RunSpecifiedBenchmarks(&reporter);
    benchmark::Shutdown();
    return 0;
}
