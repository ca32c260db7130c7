// SPDX-License-Identifier: MIT
// Reading the IPC sysctls under /proc/sys so that limit errors can name the limit, its value and
// how to raise it. Private to src/message.
#pragma once

#include <fstream>
#include <optional>
#include <string>

namespace ipckit::detail {

/// The first integer in a /proc/sys file, or nothing if it cannot be read.
inline std::optional<long long> read_proc_number(const char* path) {
    std::ifstream in(path);
    long long value = 0;
    if (in >> value) {
        return value;
    }
    return std::nullopt;
}

/// "/proc/sys/fs/mqueue/msg_max=10" (or "/proc/sys/fs/mqueue/msg_max=?" if unreadable).
inline std::string proc_value_text(const char* path) {
    const auto v = read_proc_number(path);
    return std::string(path) + "=" + (v ? std::to_string(*v) : std::string("?"));
}

/// "/proc/sys/fs/mqueue/msg_max" -> "fs.mqueue.msg_max".
inline std::string sysctl_name(const char* path) {
    std::string s(path);
    const std::string prefix = "/proc/sys/";
    if (s.compare(0, prefix.size(), prefix) == 0) {
        s.erase(0, prefix.size());
    }
    for (char& c : s) {
        if (c == '/') {
            c = '.';
        }
    }
    return s;
}

}  // namespace ipckit::detail
