// SPDX-License-Identifier: MIT
// The layout the POSIX shm writer/reader examples share: a futex word (state) followed by a
// length and the text. Offsets, not pointers; the reader bounds the length by what it mapped.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace mailbox {
inline constexpr std::uint32_t kEmpty = 0;    // nothing written yet
inline constexpr std::uint32_t kWritten = 1;  // text is ready
inline constexpr std::uint32_t kRead = 2;     // the reader has it
inline constexpr std::size_t kStateOffset = 0;
inline constexpr std::size_t kLengthOffset = 8;
inline constexpr std::size_t kTextOffset = 16;
inline constexpr std::size_t kSize = 4096;
inline constexpr std::size_t kMaxText = kSize - kTextOffset;
}  // namespace mailbox
