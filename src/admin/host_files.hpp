// SPDX-License-Identifier: MIT
// Reading the host's small text files and directories (procfs, /dev/mqueue, /dev/shm) for the
// inventory. Everything read here belongs to other processes and may change or vanish under us.
#pragma once

#include "ipckit/core/result.hpp"

#include <sys/stat.h>

#include <charconv>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace ipckit::detail {

inline constexpr const char* kMqueueDir = "/dev/mqueue";
inline constexpr const char* kShmDir = "/dev/shm";

/// Names in a directory except "." and "..", or the error that stopped opendir.
Result<std::vector<std::string>> read_dir(const std::string& path);
/// read_dir() where the reason does not matter: an unreadable directory is empty.
std::vector<std::string> list_dir(const std::string& path);

/// lstat(2); nullopt if the entry vanished or cannot be examined.
std::optional<struct stat> stat_nofollow(const std::string& path);

/// Reads a small file whole (procfs, mqueue files), or the error that stopped it. A file larger
/// than 16 MiB is cut there (a huge maps file is cut, not trusted).
Result<std::string> read_bounded_file(const std::string& path);

/// read_bounded_file() where the reason does not matter: nullopt if it vanished or is unreadable.
std::optional<std::string> read_small_file(const std::string& path);

/// The whole of `s` as a decimal number; nullopt for anything else (never a partial parse).
template <class T>
std::optional<T> to_number(std::string_view s) {
    T v{};
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size()) {
        return std::nullopt;
    }
    return v;
}

/// The words of `line`, split at spaces and tabs.
std::vector<std::string_view> split_ws(std::string_view line);

}  // namespace ipckit::detail
