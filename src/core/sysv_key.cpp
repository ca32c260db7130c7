// SPDX-License-Identifier: MIT
#include "ipckit/core/sysv_key.hpp"

#include <sys/ipc.h>

#include <charconv>
#include <cstdio>

#include "sys/syscall.hpp"

namespace ipckit {

Result<SysvKey> SysvKey::from_number(long long key) {
    if (key == 0) {
        return Error(std::errc::invalid_argument,
                     "sysv key",
                     "0",
                     "0 is IPC_PRIVATE; spell it 'private' to create an unshared object");
    }
    if (key < 0 || key > 0xffffffffLL) {
        return Error(std::errc::invalid_argument,
                     "sysv key",
                     std::to_string(key),
                     "must be in [1, 0xffffffff]");
    }
    // key_t is a 32-bit int: keys above INT_MAX wrap to negative, exactly as ipcs shows them.
    return SysvKey(static_cast<key_t>(static_cast<std::uint32_t>(key)));
}

Result<SysvKey> SysvKey::from_path(const std::string& path, int id) {
    if (id < 1 || id > 255) {
        return Error(std::errc::invalid_argument,
                     "ftok",
                     path,
                     "id " + std::to_string(id) + " must be in [1, 255] (ftok keeps 8 bits)");
    }
    IPCKIT_TRY_ASSIGN(auto key,
                      sys::call_once("ftok", path, [&] { return ::ftok(path.c_str(), id); }));
    return SysvKey(key);
}

Result<SysvKey> SysvKey::parse(std::string_view text) {
    if (text == "private") {
        return private_key();
    }
    if (text.starts_with("ftok:")) {
        const std::string_view rest = text.substr(5);
        const auto colon = rest.rfind(':');
        if (colon == std::string_view::npos || colon == 0) {
            return Error(std::errc::invalid_argument,
                         "sysv key",
                         std::string(text),
                         "expected ftok:PATH:ID");
        }
        int id = 0;
        const std::string_view id_text = rest.substr(colon + 1);
        auto [p, ec] = std::from_chars(id_text.data(), id_text.data() + id_text.size(), id);
        if (ec != std::errc() || p != id_text.data() + id_text.size()) {
            return Error(std::errc::invalid_argument,
                         "sysv key",
                         std::string(text),
                         "ftok id '" + std::string(id_text) + "' is not a number");
        }
        return from_path(std::string(rest.substr(0, colon)), id);
    }
    int base = 10;
    std::string_view digits = text;
    if (digits.starts_with("0x") || digits.starts_with("0X")) {
        base = 16;
        digits.remove_prefix(2);
    }
    long long value = 0;
    auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value, base);
    if (digits.empty() || ec == std::errc::result_out_of_range) {
        return Error(std::errc::invalid_argument,
                     "sysv key",
                     std::string(text),
                     "must be in [1, 0xffffffff]");
    }
    if (ec != std::errc() || p != digits.data() + digits.size()) {
        return Error(std::errc::invalid_argument,
                     "sysv key",
                     std::string(text),
                     "expected a number, 0xHEX, 'private' or ftok:PATH:ID");
    }
    return from_number(value);
}

std::string SysvKey::to_string() const {
    if (is_private()) {
        return "private";
    }
    char buf[16];
    (void)std::snprintf(buf, sizeof buf, "0x%08x", static_cast<unsigned>(key_));
    return buf;
}

}  // namespace ipckit
