// SPDX-License-Identifier: MIT
#include "ipckit/core/posix_name.hpp"

namespace ipckit {

namespace {
Error bad_name(std::string_view name, const char* rule,
               std::errc code = std::errc::invalid_argument) {
    // Show at most 64 characters of a hostile name so errors stay one line.
    std::string shown(name.substr(0, 64));
    if (name.size() > 64) {
        shown += "...";
    }
    for (char& c : shown) {
        if (c == '\0') {
            c = '?';
        }
    }
    return {code, "ipc name", "'" + shown + "'", rule};
}
}  // namespace

Result<PosixName> PosixName::make(std::string_view name) {
    if (name.empty() || name.front() != '/') {
        return bad_name(name, "must start with '/'");
    }
    const std::string_view rest = name.substr(1);
    if (rest.empty()) {
        return bad_name(name, "is empty after '/'");
    }
    if (rest.size() > kMaxLength) {
        return bad_name(name, "is longer than 251 characters", std::errc::filename_too_long);
    }
    if (rest.find('/') != std::string_view::npos) {
        return bad_name(name, "contains '/' after the first character");
    }
    if (rest.find('\0') != std::string_view::npos) {
        return bad_name(name, "contains a NUL byte");
    }
    if (rest == "." || rest == "..") {
        return bad_name(name, "is '.' or '..'");
    }
    return PosixName(std::string(name));
}

}  // namespace ipckit
