// SPDX-License-Identifier: MIT
// Builds on the shm examples: each is run and its output checked.
#include "ipc_registry.hpp"
#include "run_program.hpp"

#include <sys/shm.h>
#include <sys/stat.h>

#include <cinttypes>
#include <regex>
#include <string>
#include <thread>

#include <gtest/gtest.h>

namespace ipckit {
namespace {

using namespace std::chrono_literals;

std::uintptr_t hex(const std::string& s) {
    return std::stoull(s, nullptr, 16);
}

TEST(ShmExamples, MemoryLayoutProgram15_31) {
    auto r = test::run_program({test::build_path("examples/example_shm_memory_layout")});
    ASSERT_TRUE(r.exited && r.exit_code == 0) << r.describe();
    std::smatch m;
    const std::regex re(
        "array\\[\\] from 0x([0-9a-f]+) to 0x([0-9a-f]+)\n"
        "stack around 0x([0-9a-f]+)\n"
        "malloced from 0x([0-9a-f]+) to 0x([0-9a-f]+)\n"
        "shared memory attached from 0x([0-9a-f]+) to 0x([0-9a-f]+)\n"
        "segment id ([0-9]+) marked for removal\n");
    ASSERT_TRUE(std::regex_match(r.out, m, re)) << r.out;
    const auto array_lo = hex(m[1]), array_hi = hex(m[2]), stack = hex(m[3]);
    const auto heap_lo = hex(m[4]), heap_hi = hex(m[5]), shm_lo = hex(m[6]), shm_hi = hex(m[7]);
    EXPECT_EQ(array_hi - array_lo, 40000U);
    EXPECT_EQ(heap_hi - heap_lo, 100000U);
    EXPECT_EQ(shm_hi - shm_lo, 100000U);
    // The classic picture: bss low, the attached segment up among the mappings, the stack on top.
    EXPECT_LT(array_hi, shm_lo);
    EXPECT_LT(shm_hi, stack);
    EXPECT_EQ(shm_lo % 4096, 0U);  // segments attach on a page boundary
    // IPC_RMID + exit (the last detach) destroyed the segment: nothing left in ipcs.
    const int id = std::stoi(m[8]);
    shmid_ds ds{};
    EXPECT_EQ(::shmctl(id, IPC_STAT, &ds), -1) << "segment " << id << " outlived the example";
    EXPECT_EQ(errno, EINVAL);
}

TEST(ShmExamples, DevZeroCounterProgram15_33) {
    auto r = test::run_program({test::build_path("examples/example_shm_devzero_counter"), "1000"});
    ASSERT_TRUE(r.exited && r.exit_code == 0) << r.describe();
    EXPECT_EQ(r.out, "/dev/zero mapping: parent and child counted to 1000 in turn\n");
    EXPECT_EQ(r.err, "");
}

TEST(ShmExamples, AnonymousCounterVariant) {
    auto r = test::run_program({test::build_path("examples/example_shm_anon_counter"), "200"});
    ASSERT_TRUE(r.exited && r.exit_code == 0) << r.describe();
    EXPECT_EQ(r.out, "anonymous mapping: parent and child counted to 200 in turn\n");
}

TEST(ShmExamples, PosixShmWriterAndReader) {
    const auto name = test::unique_shm_name("mailbox");
    test::RunResult reader;
    std::thread t([&] {
        reader = test::run_program({test::build_path("examples/example_shm_posix_reader"), name});
    });
    auto writer = test::run_program(
        {test::build_path("examples/example_shm_posix_writer"), name, "twelve bytes"});
    t.join();
    ASSERT_TRUE(writer.exited && writer.exit_code == 0) << writer.describe();
    ASSERT_TRUE(reader.exited && reader.exit_code == 0) << reader.describe();
    EXPECT_EQ(writer.out, "writer: wrote 12 bytes to " + name + "\nwriter: reader acknowledged\n");
    EXPECT_EQ(reader.out, "reader: got 'twelve bytes'\n");
    struct stat st {};
    EXPECT_NE(::stat(("/dev/shm" + name).c_str(), &st), 0) << "the writer left " << name;
}

TEST(ShmExamples, ReaderRefusesAnInvalidName) {
    auto r = test::run_program({test::build_path("examples/example_shm_posix_reader"), "bad name"});
    EXPECT_EQ(r.exit_code, 1) << r.describe();
    EXPECT_NE(r.err.find("reader: "), std::string::npos) << r.err;
}

}  // namespace
}  // namespace ipckit
