// SPDX-License-Identifier: MIT
// Small host files and directories for the inventory: every ENOENT between readdir and
// stat/open means the entry vanished (C10), never an error of the listing.
#include "admin/host_files.hpp"

#include "ipckit/core/unique_fd.hpp"
#include "sys/syscall.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstddef>
#include <memory>
#include <utility>

namespace ipckit::detail {

namespace {

struct DirCloser {
    void operator()(DIR* d) const noexcept { ::closedir(d); }
};
using DirPtr = std::unique_ptr<DIR, DirCloser>;

constexpr std::size_t kMaxFileBytes = std::size_t{16} << 20;

}  // namespace

Result<std::vector<std::string>> read_dir(const std::string& path) {
    const auto open_dir = [&] { return ::opendir(path.c_str()); };
    IPCKIT_TRY_ASSIGN(DIR* const opened, sys::call_ptr<DIR*>("opendir", path, nullptr, open_dir));
    const DirPtr d(opened);
    std::vector<std::string> names;
    while (const dirent* e = ::readdir(d.get())) {
        const std::string_view n(e->d_name);
        if (n != "." && n != "..") {
            names.emplace_back(n);
        }
    }
    return names;
}

std::vector<std::string> list_dir(const std::string& path) {
    auto names = read_dir(path);
    if (!names) {
        return {};
    }
    return std::move(*names);
}

std::optional<struct stat> stat_nofollow(const std::string& path) {
    struct stat st {};
    if (!sys::call("lstat", path, [&] { return ::lstat(path.c_str(), &st); })) {
        return std::nullopt;
    }
    return st;
}

Result<std::string> read_bounded_file(const std::string& path) {
    const auto open_file = [&] {
        return ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    };
    IPCKIT_TRY_ASSIGN(const int opened, sys::call("open", path, open_file));
    const UniqueFd fd(opened);
    std::string out;
    char buf[4096];
    const auto read_chunk = [&] { return ::read(fd.get(), buf, sizeof buf); };
    for (;;) {
        IPCKIT_TRY_ASSIGN(const ssize_t n, sys::call("read", path, read_chunk));
        if (n == 0) {
            break;
        }
        out.append(buf, static_cast<std::size_t>(n));
        if (out.size() > kMaxFileBytes) {
            break;  // refuse to buffer without bound (a huge maps file is cut, not trusted)
        }
    }
    return out;
}

std::optional<std::string> read_small_file(const std::string& path) {
    auto text = read_bounded_file(path);
    if (!text) {
        return std::nullopt;
    }
    return std::move(*text);
}

std::vector<std::string_view> split_ws(std::string_view line) {
    std::vector<std::string_view> out;
    std::size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) {
            ++i;
        }
        const std::size_t start = i;
        while (i < line.size() && line[i] != ' ' && line[i] != '\t') {
            ++i;
        }
        if (i > start) {
            out.push_back(line.substr(start, i - start));
        }
    }
    return out;
}

}  // namespace ipckit::detail
