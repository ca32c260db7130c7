// SPDX-License-Identifier: MIT
#include "ipckit/stream/framing.hpp"

#include <sys/uio.h>

#include <algorithm>
#include <limits>
#include <utility>

namespace ipckit {

namespace {

std::uint32_t decode_be32(const std::byte* p) noexcept {
    return (std::to_integer<std::uint32_t>(p[0]) << 24) |
           (std::to_integer<std::uint32_t>(p[1]) << 16) |
           (std::to_integer<std::uint32_t>(p[2]) << 8) | std::to_integer<std::uint32_t>(p[3]);
}

}  // namespace

FrameReader::FrameReader(int fd, std::size_t max_frame_size, std::string object)
    : fd_(fd), max_(max_frame_size), object_(std::move(object)) {}

Result<std::optional<std::vector<std::byte>>> FrameReader::read(Deadline deadline) {
    using Out = std::optional<std::vector<std::byte>>;
    while (!in_payload_) {
        auto n = read_some(fd_, std::span(header_).subspan(header_got_), deadline, object_);
        if (!n) {
            return std::move(n).error().with_detail("received " + std::to_string(header_got_) +
                                                    " of " + std::to_string(kHeaderSize) +
                                                    " header bytes");
        }
        if (!n->has_value()) {
            return Out();  // nothing more by the deadline; the header bytes so far are kept
        }
        if (**n == 0) {
            if (header_got_ == 0) {
                return Error(kEndOfStream,
                             "read_frame",
                             object_,
                             "end of stream: the peer closed the connection between frames");
            }
            const std::size_t got = std::exchange(header_got_, 0);
            return Error(std::errc::connection_aborted,
                         "read_frame",
                         object_,
                         "connection closed mid-message (received " + std::to_string(got) + " of " +
                             std::to_string(kHeaderSize) + " header bytes)");
        }
        header_got_ += **n;
        if (header_got_ == kHeaderSize) {
            const std::size_t length = decode_be32(header_);
            header_got_ = 0;
            if (length > max_) {
                // The stream cannot be resynchronised after this: the caller should drop it.
                return Error(std::errc::message_size,
                             "read_frame",
                             object_,
                             "frame length " + std::to_string(length) + " exceeds the maximum " +
                                 std::to_string(max_) + " (hostile or mismatched peer)");
            }
            payload_.assign(length, std::byte{0});
            payload_got_ = 0;
            in_payload_ = true;
        }
    }
    while (payload_got_ < payload_.size()) {
        auto n = read_some(fd_, std::span(payload_).subspan(payload_got_), deadline, object_);
        // Built only on the error paths: this loop runs for every chunk of every message.
        auto progress = [this] {
            return "received " + std::to_string(payload_got_) + " of " +
                   std::to_string(payload_.size()) + " bytes";
        };
        if (!n) {
            in_payload_ = false;  // a failed stream is not resumable
            return std::move(n).error().with_detail(progress());
        }
        if (!n->has_value()) {
            return Out();  // nothing more by the deadline; the payload so far is kept
        }
        if (**n == 0) {
            in_payload_ = false;
            return Error(std::errc::connection_aborted,
                         "read_frame",
                         object_,
                         "connection closed mid-message (" + progress() + ")");
        }
        payload_got_ += **n;
    }
    in_payload_ = false;
    payload_got_ = 0;
    return Out(std::exchange(payload_, {}));
}

Result<void> write_frame(int fd,
                         std::span<const std::byte> payload,
                         FdKind kind,
                         Deadline deadline,
                         std::string_view object,
                         std::size_t max_frame_size) {
    if (payload.size() > max_frame_size ||
        payload.size() > std::numeric_limits<std::uint32_t>::max()) {
        return Error(std::errc::message_size,
                     "write_frame",
                     std::string(object),
                     "payload of " + std::to_string(payload.size()) +
                         " bytes exceeds the maximum frame size " + std::to_string(max_frame_size));
    }
    const auto length = static_cast<std::uint32_t>(payload.size());
    // One buffer, one write_all: small frames leave in one segment and a partial write resumes
    // in the right place whether it stopped in the header or the payload.
    std::vector<std::byte> frame(FrameReader::kHeaderSize + payload.size());
    frame[0] = static_cast<std::byte>(length >> 24);
    frame[1] = static_cast<std::byte>(length >> 16);
    frame[2] = static_cast<std::byte>(length >> 8);
    frame[3] = static_cast<std::byte>(length);
    if (!payload.empty()) {
        std::copy(payload.begin(), payload.end(), frame.begin() + FrameReader::kHeaderSize);
    }
    return write_all(fd, frame, kind, deadline, object);
}

}  // namespace ipckit
