// SPDX-License-Identifier: MIT
// Checks that an object about to live in caller-provided shared memory fits and is aligned.
// Private to the library.
#pragma once

#include "ipckit/core/result.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace ipckit::detail {

template <class T>
Result<T*> place_in(const char* op, std::string_view object, std::span<std::byte> where) {
    if (where.size() < sizeof(T)) {
        return Error(std::errc::invalid_argument,
                     op,
                     std::string(object),
                     std::to_string(where.size()) + " bytes < the " + std::to_string(sizeof(T)) +
                         " the object needs");
    }
    if (reinterpret_cast<std::uintptr_t>(where.data()) % alignof(T) != 0) {
        return Error(std::errc::invalid_argument,
                     op,
                     std::string(object),
                     "address not aligned to " + std::to_string(alignof(T)) + " bytes");
    }
    return reinterpret_cast<T*>(where.data());
}

}  // namespace ipckit::detail
