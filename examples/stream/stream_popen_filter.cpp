// SPDX-License-Identifier: MIT
// Seed 003, Program 15.15: prompt, and read each line back through the `myucl` filter
// (example_stream_myucl, found next to this program), popen(myucl, "r") style with
// ipckit::Process: the filter inherits our stdin and its stdout is a pipe we read.
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <string>

#include "ipckit/stream/process.hpp"

namespace {

std::string sibling(const std::string& name) {
    char self[PATH_MAX] = {};
    const ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
    std::string dir = n > 0 ? std::string(self, static_cast<std::size_t>(n)) : std::string("./x");
    return dir.substr(0, dir.rfind('/') + 1) + name;
}

// fgets on a PipeReader: one line (with its '\n'), or false at end of file.
bool read_line(ipckit::PipeReader& in, std::string& buffer, std::string& line) {
    for (;;) {
        const auto nl = buffer.find('\n');
        if (nl != std::string::npos) {
            line = buffer.substr(0, nl + 1);
            buffer.erase(0, nl + 1);
            return true;
        }
        std::byte chunk[256];
        auto n = in.read(chunk);
        if (!n || *n == 0) {
            line = std::move(buffer);
            buffer.clear();
            return !line.empty();
        }
        buffer.append(reinterpret_cast<const char*>(chunk), *n);  // NOLINT: bytes to chars
    }
}

}  // namespace

int main() {
    auto filter = ipckit::Process::spawn({sibling("example_stream_myucl")}, {.out = ipckit::Stdio::pipe()});
    if (!filter) {
        std::fprintf(stderr, "popen: %s\n", filter.error().message().c_str());
        return 1;
    }
    std::string buffer;
    for (std::string line;;) {
        std::fputs("prompt> ", stdout);
        std::fflush(stdout);
        if (!read_line(filter->stdout_pipe(), buffer, line)) {
            break;
        }
        std::fputs(line.c_str(), stdout);
    }
    auto status = filter->wait();  // pclose
    if (!status || !status->success()) {
        std::fprintf(stderr, "pclose: %s\n", status ? status->describe().c_str() : status.error().message().c_str());
        return 1;
    }
    std::putchar('\n');
    return 0;
}
