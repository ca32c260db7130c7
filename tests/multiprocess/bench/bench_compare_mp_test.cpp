// SPDX-License-Identifier: MIT
// ipckit bench --compare OLD.json NEW.json: every figure as a ratio to an earlier run, from
// crafted reports (nothing is measured), including the first schema name and hostile files.
#include "ipc_registry.hpp"
#include "run_program.hpp"

#include <fstream>
#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

namespace ipckit {
namespace {

using nlohmann::json;

std::string write(const std::string& tag, const std::string& text) {
    const std::string path = test::unique_path(tag);
    std::ofstream(path) << text;
    return path;
}

json report(const char* schema, double p50, double p99, double msgs) {
    return json{
        {"schema", schema},
        {"generated", "2026-01-01T00:00:00Z"},
        {"machine", {{"cpu_model", "Test CPU"}}},
        {"transports",
         json::array(
             {json{{"name", "pipe"},
                   {"latency",
                    json::array({json{{"size", 64},
                                      {"status", "ok"},
                                      {"p50_ns", p50},
                                      {"p99_ns", p99},
                                      {"p999_ns", p99 * 2}}})},
                   {"throughput",
                    json::array({json{{"size", 4096}, {"status", "ok"}, {"msgs_per_s", msgs}},
                                 json{{"size", 65536}, {"status", "unsupported"}}})}},
              json{{"name", "fifo"}, {"latency", json::array()}}})}};
}

test::RunResult compare(const std::string& before, const std::string& now) {
    return test::run_program({test::build_path("bin/ipckit"), "bench", "--compare", before, now});
}

TEST(BenchCompare, PrintsEveryFigureAsARatioToTheEarlierRun) {
    // The earlier file uses the schema's first name, which --compare still reads.
    const auto before = write("old.json", report("ipckit-bench/1", 1000, 2000, 100).dump());
    json now = report("ipckit.bench/1", 500, 5000, 300);
    now["transports"].erase(1);  // fifo only in the earlier run
    auto r = compare(before, write("new.json", now.dump()));
    ASSERT_EQ(r.exit_code, 0) << r.describe();
    EXPECT_NE(r.out.find("Compared with " + before + " (2026-01-01T00:00:00Z, Test CPU)"),
              std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("  pipe                   64 B     0.50x     2.50x     2.50x\n"),
              std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("  pipe                  4 KiB     3.00x\n"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("64 KiB"), std::string::npos) << "no figure in either run: no line";
    EXPECT_NE(r.out.find("Only in " + before + ": fifo"), std::string::npos) << r.out;
}

TEST(BenchCompare, AFigureMissingOnOneSideIsADash) {
    json before = report("ipckit.bench/1", 1000, 2000, 100);
    before["transports"][0]["latency"][0].erase("p99_ns");
    before["transports"][0]["throughput"][0]["status"] = "error";
    auto r = compare(write("old.json", before.dump()),
                     write("new.json", report("ipckit.bench/1", 1000, 2000, 100).dump()));
    ASSERT_EQ(r.exit_code, 0) << r.describe();
    EXPECT_NE(r.out.find("  pipe                   64 B     1.00x         -     1.00x\n"),
              std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("  pipe                  4 KiB         -\n"), std::string::npos) << r.out;
}

TEST(BenchCompare, ABadOrHostileFileIsBadInputNamedOnOneLine) {
    const auto good = write("good.json", report("ipckit.bench/1", 1, 1, 1).dump());
    // Wrong types and absurd values anywhere: skipped, never a crash.
    json odd = report("ipckit.bench/1", 1, 1, 1);
    odd["transports"][0]["latency"][0]["size"] = -1;
    odd["transports"][0]["latency"][0]["p50_ns"] = "fast";
    odd["transports"][0]["throughput"][0]["msgs_per_s"] = -5;
    odd["transports"].push_back(42);
    odd["transports"].push_back(json{{"name", 7}});
    auto r = compare(write("odd.json", odd.dump()), good);
    EXPECT_EQ(r.exit_code, 0) << r.describe();
    EXPECT_NE(r.out.find("  pipe                  4 KiB         -\n"), std::string::npos) << r.out;

    for (const std::string& text : {std::string("not json"),
                                    std::string("[]"),
                                    json{{"schema", "ipckit.ls/1"}}.dump(),
                                    json{{"schema", "ipckit.bench/1"}, {"transports", 3}}.dump()}) {
        auto bad = compare(write("bad.json", text), good);
        EXPECT_EQ(bad.exit_code, 2) << text << ": " << bad.describe();
        EXPECT_EQ(bad.err.rfind("ipckit bench: --compare ", 0), 0U) << bad.err;
        EXPECT_TRUE(bad.out.empty()) << bad.out;
    }
    auto missing = compare(test::unique_path("missing.json"), good);
    EXPECT_EQ(missing.exit_code, 1) << missing.describe();
}

}  // namespace
}  // namespace ipckit
