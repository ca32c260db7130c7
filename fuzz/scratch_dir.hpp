// SPDX-License-Identifier: MIT
// The private directory (mode 0700) where a fuzz target makes its FIFOs and channel files: one
// per process, under $TMPDIR (else /tmp), removed with its contents when the process exits.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

namespace ipckit::fuzz {

inline const std::string& scratch_dir() {
    static const std::string dir = [] {
        const char* tmp = std::getenv("TMPDIR");  // NOLINT(concurrency-mt-unsafe): one thread
        std::string path = tmp != nullptr && tmp[0] == '/' ? tmp : "/tmp";
        path += "/ipckit-fuzz-XXXXXX";
        if (::mkdtemp(path.data()) == nullptr) {
            std::perror("ipckit fuzz: mkdtemp");
            std::abort();
        }
        static std::string made;
        made = path;
        std::atexit([] {
            std::error_code ec;
            std::filesystem::remove_all(made, ec);
        });
        return path;
    }();
    return dir;
}

}  // namespace ipckit::fuzz
