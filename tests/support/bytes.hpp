// SPDX-License-Identifier: MIT
// Text as the bytes the library's send and receive calls take, and back.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

namespace ipckit::test {

inline std::span<const std::byte> as_bytes(std::string_view s) {
    return {reinterpret_cast<const std::byte*>(s.data()), s.size()};  // NOLINT
}

inline std::string as_string(std::span<const std::byte> b) {
    return {reinterpret_cast<const char*>(b.data()), b.size()};  // NOLINT
}

}  // namespace ipckit::test
