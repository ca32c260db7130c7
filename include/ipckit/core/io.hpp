// SPDX-License-Identifier: MIT
// Reading and writing whole buffers on any descriptor: partial transfers resumed, EINTR retried,
// deadlines honoured, and never a SIGPIPE (read(2), write(2), send(2), pipe(7)).
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string_view>

#include "ipckit/core/deadline.hpp"
#include "ipckit/core/result.hpp"
#include "ipckit/export.hpp"

namespace ipckit {

/// How a write keeps SIGPIPE away from the caller when the reader is gone.
/// Socket: send(MSG_NOSIGNAL), free. Other (pipes, FIFOs, ttys): on Linux >= 6.18 the write is
/// pwritev2(offset -1, RWF_NOSIGNAL), write(2) without the signal (about 25 ns more than write(2),
/// no extra call). On older kernels, or a file whose driver refuses the flag, SIGPIPE is blocked
/// in the calling thread for the duration of the write and a SIGPIPE the write raised is consumed
/// before it is unblocked (two extra sigprocmask calls per write; none if the thread already
/// blocks it).
enum class FdKind { Socket, Other };

/// Sets SIGPIPE to SIG_IGN for the whole process (a process-wide choice the library otherwise
/// never makes for you) and lets FdKind::Other writes use plain write(2) instead of their per-write
/// SIGPIPE protection (RWF_NOSIGNAL, or two sigprocmask calls per write on kernels before 6.18). For programs that own their signal policy, such as the
/// ipckit command. Changing SIGPIPE back by other means afterwards is the caller's responsibility.
IPCKIT_API Result<void> ignore_sigpipe_process_wide();

/// Writes as much of `bytes` as the descriptor takes in one call (EINTR retried). On a
/// non-blocking descriptor that is full, waits for POLLOUT until `deadline`; returns an empty
/// optional if the deadline passes with nothing written. A gone reader is errc::broken_pipe.
IPCKIT_API Result<std::optional<std::size_t>> write_some(int fd,
                                                         std::span<const std::byte> bytes,
                                                         FdKind kind,
                                                         Deadline deadline,
                                                         std::string_view object);

/// Writes all of `bytes`, resuming after partial writes (never re-sending what was written).
/// If the deadline passes first: errc::timed_out with detail "wrote X of Y bytes". On a blocking
/// descriptor the deadline is checked between writes (a single write(2) may block past it); use
/// a non-blocking descriptor for a hard bound.
IPCKIT_API Result<void> write_all(int fd,
                                  std::span<const std::byte> bytes,
                                  FdKind kind,
                                  Deadline deadline,
                                  std::string_view object);

/// Reads what is available, up to bytes.size(), waiting until `deadline` for at least one byte.
/// Returns the count (0 means end of file) or an empty optional if the deadline passed.
IPCKIT_API Result<std::optional<std::size_t>> read_some(int fd,
                                                        std::span<std::byte> bytes,
                                                        Deadline deadline,
                                                        std::string_view object);

/// Fills `bytes` completely, unless end of file comes first: returns the count read, which is
/// less than bytes.size() only at EOF. If the deadline passes first: errc::timed_out with detail
/// "read X of Y bytes".
IPCKIT_API Result<std::size_t> read_exact(int fd,
                                          std::span<std::byte> bytes,
                                          Deadline deadline,
                                          std::string_view object);

}  // namespace ipckit
