// SPDX-License-Identifier: MIT
// Deadlines inside the bench's children. Every wait has one, so a broken transport can never hang
// the bench: timed calls (futex, sem_clockwait, mq_timedreceive, semtimedop, sigtimedwait) take
// phase_deadline() directly, spin loops poll it, and plain blocking calls (read, recv, msgrcv,
// open of a FIFO) are interrupted by a SIGALRM timer armed for the same instant, which fires every
// 50 ms after it until the phase ends (no SA_RESTART), so they return EINTR and report a timeout.
#pragma once

#include "ipckit/core/deadline.hpp"
#include "ipckit/core/result.hpp"

#include <cstddef>
#include <span>
#include <string>

namespace ipckit::bench {

/// In a child: installs the SIGALRM handler and the timer (call once after fork).
Result<void> init_child_deadlines();
/// Sets the deadline of the current phase and re-arms the timer.
void set_phase_deadline(Deadline deadline);
/// The deadline every wait in this process must respect.
Deadline phase_deadline();

/// The error a wait reports when phase_deadline() passed: "OP OBJECT: timed out (peer silent)".
Error timed_out(const char* op, const std::string& object);

/// For blocking calls interrupted by the timer: true (retry) while the deadline is ahead.
bool retry_after_eintr();

/// Spins `pred` until it holds, polling the deadline every few thousand turns.
template <class Pred>
Result<void> spin_until(Pred pred, const char* op, const std::string& object) {
    unsigned turns = 0;
    while (!pred()) {
        __builtin_ia32_pause();
        if (++turns % 4096 == 0 && phase_deadline().expired()) {
            return timed_out(op, object);
        }
    }
    return {};
}

/// write(2) all of `data` (a pipe, FIFO or stream socket), MSG_NOSIGNAL for sockets.
Result<void> write_all(int fd,
                       std::span<const std::byte> data,
                       const std::string& object,
                       bool socket);
/// read(2) exactly buffer.size() bytes; a closed peer is an error.
Result<void> read_exact(int fd, std::span<std::byte> buffer, const std::string& object);
/// send(2) one datagram/record.
Result<void> send_record(int fd, std::span<const std::byte> data, const std::string& object);
/// recv(2) one datagram/record; returns its length (truncation is an error).
Result<std::size_t> recv_record(int fd, std::span<std::byte> buffer, const std::string& object);

}  // namespace ipckit::bench
