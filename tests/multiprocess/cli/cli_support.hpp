// SPDX-License-Identifier: MIT
// Helpers for driving the real ipckit binary from tests.
#pragma once

#include <unistd.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "run_program.hpp"

namespace ipckit::test {

inline std::string ipckit_path() { return build_path("bin/ipckit"); }

/// Runs `ipckit ARGS...`.
inline RunResult ipckit(std::vector<std::string> args, const RunOptions& options = {}) {
    args.insert(args.begin(), ipckit_path());
    return run_program(args, options);
}

/// Runs `ipckit ARGS...` as the unprivileged user nobody (setpriv), for ownership checks.
inline RunResult ipckit_as_nobody(std::vector<std::string> args) {
    std::vector<std::string> argv{"/usr/bin/setpriv", "--reuid=65534", "--regid=65534",
                                  "--clear-groups", ipckit_path()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_program(argv);
}

/// The objects `ipckit ls --json ARGS...` reports (fails the test on bad JSON or exit code).
inline nlohmann::json ls_json(std::vector<std::string> args) {
    args.insert(args.begin(), {"ls", "--json"});
    RunResult r = ipckit(args);
    EXPECT_TRUE(r.exited && r.exit_code == 0) << r.describe();
    nlohmann::json j = nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
    EXPECT_FALSE(j.is_discarded()) << r.out;
    if (j.is_discarded() || !j.contains("objects")) {
        return nlohmann::json::array();
    }
    EXPECT_EQ(j["schema"], "ipckit.ls/1");
    return j["objects"];
}

/// The object in `objects` whose `field` equals `value`, or null.
template <class V>
nlohmann::json find_object(const nlohmann::json& objects, const char* field, const V& value) {
    for (const auto& o : objects) {
        if (o.contains(field) && o[field] == value) {
            return o;
        }
    }
    return nullptr;
}

/// The source tree (for files the tests read, such as the completion script). Not derived from
/// __FILE__, which is relative when ccache rewrites paths.
inline std::string source_root() { return IPCKIT_SOURCE_DIR; }

inline bool is_root() { return ::geteuid() == 0; }

/// Number of lines in `text` (a trailing newline does not start a new one).
inline std::size_t line_count(const std::string& text) {
    std::size_t n = 0;
    for (char c : text) {
        n += c == '\n' ? 1 : 0;
    }
    return n + (!text.empty() && text.back() != '\n' ? 1 : 0);
}

/// Whether the POSIX shm object `name` ("/x") exists.
inline bool shm_exists(const std::string& name) {
    return ::access(("/dev/shm" + name).c_str(), F_OK) == 0;
}

}  // namespace ipckit::test
