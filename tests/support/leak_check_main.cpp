// SPDX-License-Identifier: MIT
// ipckit_leak_check: the suite's first and last test.
//   --snapshot DIR   mount /dev/mqueue if possible, record the System V objects that exist now
//   --verify DIR     fail (exit 1) listing every object a test left behind, then remove them
//                    (System V objects under another concurrent run's test keys are left alone)
#include <cstdio>
#include <fstream>
#include <string>

#include "ipc_registry.hpp"

int main(int argc, char** argv) {
    using namespace ipckit::test;
    if (argc != 3) {
        std::fprintf(stderr, "usage: ipckit_leak_check --snapshot|--verify TRACK_DIR\n");
        return 2;
    }
    const std::string mode = argv[1];
    const std::string dir = argv[2];
    const std::string baseline_file = dir + "/sysv-baseline";
    const std::string tracked_mq = dir + "/mq-names";
    const std::string tracked_keys = dir + "/sysv-keys";
    if (mode == "--snapshot") {
        const bool mounted = ensure_mqueue_mounted();
        std::printf("/dev/mqueue %s\n", mounted ? "mounted" : "not mounted (queues checked by tracked name)");
        std::ofstream out(baseline_file, std::ios::trunc);
        for (const auto& obj : sysv_objects()) {
            out << obj << "\n";
        }
        std::ofstream(tracked_mq, std::ios::trunc).flush();
        std::ofstream(tracked_keys, std::ios::trunc).flush();
        return 0;
    }
    if (mode != "--verify") {
        std::fprintf(stderr, "unknown mode %s\n", mode.c_str());
        return 2;
    }
    std::vector<std::string> baseline;
    std::ifstream in(baseline_file);
    for (std::string line; std::getline(in, line);) {
        baseline.push_back(line);
    }
    const LeakReport report = scan_for_leaks(baseline, tracked_mq, tracked_keys);
    for (const auto& note : report.notes) {
        std::printf("note: %s\n", note.c_str());
    }
    if (report.leaks.empty()) {
        std::printf("no IPC objects leaked\n");
        return 0;
    }
    for (const auto& leak : report.leaks) {
        std::printf("LEAKED: %s\n", leak.c_str());
    }
    remove_leaks(report);
    return 1;
}
