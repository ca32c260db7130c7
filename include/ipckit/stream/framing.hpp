// SPDX-License-Identifier: MIT
// Length-prefixed message framing over any byte stream (pipes, FIFOs, stream sockets, ptys).
//
// Wire format: each frame is a 4-byte unsigned payload length in big-endian (network) byte order,
// followed by exactly that many payload bytes. No padding, no trailer, no version byte; a zero
// length is a valid, empty frame. Python: struct.pack("!I", len(p)) + p.
#pragma once

#include "ipckit/core/deadline.hpp"
#include "ipckit/core/io.hpp"
#include "ipckit/core/result.hpp"
#include "ipckit/export.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <vector>

namespace ipckit {

/// Reads frames from a stream descriptor it does not own, enforcing a maximum frame size so a
/// hostile or confused peer cannot make it allocate unbounded memory: a header announcing more
/// than max_frame_size is errc::message_size, and nothing is allocated for it.
///
/// Progress survives a timeout: read() that times out mid-frame keeps what arrived, and the next
/// read() continues the same frame (a frame is never half-dropped). Reassembly does not care
/// how the peer chunks its writes (one byte at a time is fine).
///
/// Not thread-safe (one reader per stream). Fork: after a fork, only one process may read.
///
/// @code
///   FrameReader reader(sock.native_handle(), 1 << 20, sock.name());
///   while (true) {
///       auto frame = reader.read(Deadline::after(5s));
///       if (!frame && frame.error() == FrameReader::kEndOfStream) break;  // closed between frames
///       if (!frame) return frame.error();   // "connection closed mid-message (...)", ECONNRESET
///       if (!*frame) continue;              // nothing within 5 s; progress on a frame is kept
///       handle(**frame);
///   }
/// @endcode
class IPCKIT_API FrameReader {
public:
    /// Size of the length prefix.
    static constexpr std::size_t kHeaderSize = 4;
    /// A reasonable default maximum: 16 MiB.
    static constexpr std::size_t kDefaultMaxFrameSize = std::size_t{16} << 20;

    FrameReader(int fd, std::size_t max_frame_size, std::string object);

    /// The next frame's payload. Empty optional: no whole frame by the deadline (on a
    /// non-blocking read, Deadline::now(), it would block); the progress is kept, so the next
    /// read() continues the same frame. Errors:
    ///  - kEndOfStream (errc::no_message_available, "end of stream") when the peer closed the
    ///    stream cleanly between frames (read(2) returned 0 before a header byte);
    ///  - errc::connection_aborted "connection closed mid-message (received X of Y bytes)";
    ///  - errc::message_size "frame length N exceeds the maximum M";
    ///  - the read error itself, e.g. errc::connection_reset (ECONNRESET).
    Result<std::optional<std::vector<std::byte>>> read(Deadline deadline = Deadline::never());

    /// The code of read()'s end-of-stream error: ENODATA, which read(2) never returns on a
    /// stream, so it cannot be mistaken for a failure of the descriptor (a reset is
    /// errc::connection_reset; a close inside a frame errc::connection_aborted).
    static constexpr std::errc kEndOfStream = std::errc::no_message_available;

    [[nodiscard]] std::size_t max_frame_size() const noexcept { return max_; }

private:
    int fd_;
    std::size_t max_;
    std::string object_;
    std::byte header_[kHeaderSize] = {};
    std::size_t header_got_ = 0;
    std::vector<std::byte> payload_;
    std::size_t payload_got_ = 0;
    bool in_payload_ = false;
};

/// Writes one frame (header and payload) with write_all: partial writes resumed, never
/// duplicated, no SIGPIPE (`kind` as in write_all). A payload over `max_frame_size` (or over
/// 2^32-1) is errc::message_size before anything is written.
IPCKIT_API Result<void> write_frame(int fd,
                                    std::span<const std::byte> payload,
                                    FdKind kind,
                                    Deadline deadline,
                                    std::string_view object,
                                    std::size_t max_frame_size = FrameReader::kDefaultMaxFrameSize);

}  // namespace ipckit
