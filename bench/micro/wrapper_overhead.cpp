// SPDX-License-Identifier: MIT
// Wrapper overhead: each ipckit call against the raw system call it wraps, same arguments, same
// object, on the path that does not block (futex wake with no waiter, futex wait on a word that
// already changed). The target is at most 1.05x raw; the table after the run prints the ratios.
//
// Adding a pair: register "<Name>/raw" and "<Name>/ipckit" below. The pipe, mq and semaphore
// pairs are round trips on one object that never block: write 64 B then read them back, send
// then receive, post then wait. Raw and wrapper use the same kind of object (same pipe, same
// queue; two named semaphores created the same way).
#include "ipckit/core/io.hpp"
#include "ipckit/core/mapping.hpp"
#include "ipckit/core/posix_name.hpp"
#include "ipckit/message/posix_mq.hpp"
#include "ipckit/stream/pipe.hpp"
#include "ipckit/sync/futex.hpp"
#include "ipckit/sync/named_semaphore.hpp"

#include <fcntl.h>
#include <linux/futex.h>
#include <mqueue.h>
#include <semaphore.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <string>

#include <benchmark/benchmark.h>

namespace {

/// A futex word in shared memory, as in every cross-process use.
std::atomic<std::uint32_t>& shared_word() {
    static ipckit::Mapping mapping = ipckit::Mapping::map_anonymous(4096).value();
    // construct_at, not placement new: the mapping owns the memory, not this pointer.
    static auto* word =
        std::construct_at(reinterpret_cast<std::atomic<std::uint32_t>*>(mapping.data()), 0U);
    return *word;
}

void futex_wake_raw(benchmark::State& state) {
    auto& word = shared_word();
    for ([[maybe_unused]] auto _ : state) {
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
    for ([[maybe_unused]] auto _ : state) {
        auto r = ipckit::Futex::wake(word, 1);
        benchmark::DoNotOptimize(r);
    }
}

void futex_wait_changed_raw(benchmark::State& state) {
    auto& word = shared_word();
    for ([[maybe_unused]] auto _ : state) {
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
    for ([[maybe_unused]] auto _ : state) {
        auto r = ipckit::Futex::wait(word, 1, ipckit::Deadline::never());
        benchmark::DoNotOptimize(r);
    }
}

// ---- pipe: write 64 B, read them back (ipckit::PipeWriter::write / PipeReader::read)

constexpr std::size_t kMessage = 64;

void pipe_raw(benchmark::State& state) {
    auto pipe = ipckit::Pipe::create().value();
    const int w = pipe.writer.native_handle();
    const int r = pipe.reader.native_handle();
    std::array<std::byte, kMessage> out{};
    std::array<std::byte, kMessage> in{};
    for ([[maybe_unused]] auto _ : state) {
        benchmark::DoNotOptimize(::write(w, out.data(), out.size()));
        benchmark::DoNotOptimize(::read(r, in.data(), in.size()));
    }
}

void pipe_ipckit(benchmark::State& state) {
    auto pipe = ipckit::Pipe::create().value();
    std::array<std::byte, kMessage> out{};
    std::array<std::byte, kMessage> in{};
    for ([[maybe_unused]] auto _ : state) {
        auto w = pipe.writer.write(out);
        benchmark::DoNotOptimize(w);
        auto r = pipe.reader.read(in);
        benchmark::DoNotOptimize(r);
    }
}

// The same ipckit side against the raw call it makes on Linux >= 6.18: pwritev2 with RWF_NOSIGNAL
// (0x100) at the current position, which costs ~25 ns more than write(2) in the kernel. This pair
// is the wrapper's own overhead; PipeWriteRead above is what the SIGPIPE protection costs on top of
// a plain write.
void pipe_nosignal_raw(benchmark::State& state) {
    auto pipe = ipckit::Pipe::create().value();
    const int w = pipe.writer.native_handle();
    const int r = pipe.reader.native_handle();
    std::array<std::byte, kMessage> out{};
    std::array<std::byte, kMessage> in{};
    iovec v{out.data(), out.size()};
    for ([[maybe_unused]] auto _ : state) {
        benchmark::DoNotOptimize(::pwritev2(w, &v, 1, -1, 0x100));
        benchmark::DoNotOptimize(::read(r, in.data(), in.size()));
    }
}
void pipe_nosignal_ipckit(benchmark::State& state) { pipe_ipckit(state); }

// The same after ipckit::ignore_sigpipe_process_wide() (what the ipckit command does): pipe
// writes skip the per-write SIGPIPE shield. Registered after every other pair, because the
// setting is process-wide.
void pipe_ignored_raw(benchmark::State& state) { pipe_raw(state); }
void pipe_ignored_ipckit(benchmark::State& state) {
    (void)ipckit::ignore_sigpipe_process_wide().value();
    pipe_ipckit(state);
}

// ---- POSIX message queue: send 64 B, receive them (one queue, raw calls on its descriptor)

ipckit::PosixMq make_queue(const char* tag) {
    const std::string name = "/ipckit-micro-" + std::to_string(::getpid()) + "-" + tag;
    auto q = ipckit::PosixMq::create(ipckit::PosixName::make(name).value(), {4, 256}).value();
    (void)q.unlink();  // the descriptor keeps it alive; nothing to clean up afterwards
    return q;
}

void mq_raw(benchmark::State& state) {
    auto q = make_queue("raw");
    const mqd_t fd = q.native_handle();
    std::array<char, 256> buf{};
    // The priority is fetched like PosixMq::receive does (it returns it): a null pointer would
    // spare the kernel a put_user and the raw side would not be the same call.
    unsigned priority = 0;
    for ([[maybe_unused]] auto _ : state) {
        benchmark::DoNotOptimize(::mq_send(fd, buf.data(), kMessage, 0));
        benchmark::DoNotOptimize(::mq_receive(fd, buf.data(), buf.size(), &priority));
    }
}

void mq_ipckit(benchmark::State& state) {
    auto q = make_queue("ipckit");
    std::array<std::byte, 256> buf{};
    for ([[maybe_unused]] auto _ : state) {
        auto s = q.send(std::span<const std::byte>(buf.data(), kMessage));
        benchmark::DoNotOptimize(s);
        auto r = q.receive(std::span<std::byte>(buf));
        benchmark::DoNotOptimize(r);
    }
}

// ---- POSIX named semaphore: post then wait (never blocks)

std::string sem_name(const char* tag) {
    return "/ipckit-micro-" + std::to_string(::getpid()) + "-" + tag;
}

void sem_raw(benchmark::State& state) {
    const std::string name = sem_name("sraw");
    sem_t* sem = ::sem_open(name.c_str(), O_CREAT | O_EXCL, 0600, 0);
    if (sem == SEM_FAILED) {
        state.SkipWithError("sem_open failed");
        return;
    }
    ::sem_unlink(name.c_str());
    for ([[maybe_unused]] auto _ : state) {
        benchmark::DoNotOptimize(::sem_post(sem));
        benchmark::DoNotOptimize(::sem_wait(sem));
    }
    ::sem_close(sem);
}

void sem_ipckit(benchmark::State& state) {
    const auto name = ipckit::PosixName::make(sem_name("sipckit")).value();
    auto sem = ipckit::NamedSemaphore::create(name, 0).value();
    (void)ipckit::NamedSemaphore::unlink(name);
    for ([[maybe_unused]] auto _ : state) {
        auto p = sem.post();
        benchmark::DoNotOptimize(p);
        auto w = sem.wait();
        benchmark::DoNotOptimize(w);
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
BENCHMARK(pipe_raw)->Name("PipeWriteRead/raw");
BENCHMARK(pipe_ipckit)->Name("PipeWriteRead/ipckit");
BENCHMARK(mq_raw)->Name("PosixMqSendReceive/raw");
BENCHMARK(mq_ipckit)->Name("PosixMqSendReceive/ipckit");
BENCHMARK(sem_raw)->Name("PosixSemPostWait/raw");
BENCHMARK(sem_ipckit)->Name("PosixSemPostWait/ipckit");
BENCHMARK(pipe_nosignal_raw)->Name("PipeWriteReadVsPwritev2/raw");
BENCHMARK(pipe_nosignal_ipckit)->Name("PipeWriteReadVsPwritev2/ipckit");
BENCHMARK(pipe_ignored_raw)->Name("PipeWriteReadSigpipeIgnored/raw");
BENCHMARK(pipe_ignored_ipckit)->Name("PipeWriteReadSigpipeIgnored/ipckit");

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
