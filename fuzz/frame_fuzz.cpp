// SPDX-License-Identifier: MIT
// Fuzz target: the stream frame decoder (FrameReader, include/ipckit/stream/framing.hpp).
//
// Input: byte 0 chooses the reader's maximum frame size and how the rest arrives; bytes 1.. are
// the stream. The stream goes into a pipe whose write end is then closed (at most 64 KiB, the
// pipe's buffer, so nothing ever blocks), and is decoded twice:
//  1. all at once: frames until end of stream or an error;
//  2. in chunks: the same bytes written a few at a time into a second pipe, with a read that
//     polls (Deadline::now()) after each chunk, so reads time out mid-header and mid-payload.
// Properties: a frame never exceeds the maximum; decoding in chunks yields the same frames and
// the same end (the reader keeps its progress across timeouts); a clean end of stream means
// every byte was consumed by whole frames; with every byte in the pipe nothing times out.
// Then the payloads decoded are written back with write_frame and must decode to themselves.
#include "fuzz_target.hpp"
#include "ipckit/core/deadline.hpp"
#include "ipckit/core/io.hpp"
#include "ipckit/stream/framing.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace {

using ipckit::Deadline;
using ipckit::FrameReader;

constexpr std::size_t kMaxStream = 65536;  // the default pipe buffer

struct PipeFds {
    int r = -1;
    int w = -1;
    PipeFds() {
        int fds[2];
        FUZZ_CHECK(::pipe2(fds, O_CLOEXEC) == 0);
        r = fds[0];
        w = fds[1];
    }
    PipeFds(const PipeFds&) = delete;
    PipeFds& operator=(const PipeFds&) = delete;
    ~PipeFds() {
        close_write();
        ::close(r);
    }
    void close_write() {
        if (w >= 0) {
            ::close(w);
            w = -1;
        }
    }
    void put(std::span<const std::byte> bytes) const {
        while (!bytes.empty()) {
            const ssize_t n = ::write(w, bytes.data(), bytes.size());
            FUZZ_CHECK(n > 0 || errno == EINTR);
            if (n > 0) {
                bytes = bytes.subspan(static_cast<std::size_t>(n));
            }
        }
    }
};

/// How one decode ended: the frames, then end of stream (error empty) or the error's code.
struct Decoded {
    std::vector<std::vector<std::byte>> frames;
    std::optional<int> error;  // errno value
    friend bool operator==(const Decoded&, const Decoded&) = default;
};

/// Reads frames until end of stream or an error; a timeout is a violation (all bytes are there).
void finish(FrameReader& reader, Decoded& out) {
    for (;;) {
        auto f = reader.read(Deadline::after(std::chrono::seconds(1)));
        if (!f) {
            if (f.error() != FrameReader::kEndOfStream) {
                out.error = f.error().errno_value();
            }
            return;
        }
        FUZZ_CHECK(f->has_value());  // no timeout: every byte is there
        FUZZ_CHECK((*f)->size() <= reader.max_frame_size());
        out.frames.push_back(std::move(**f));
    }
}

Decoded decode_at_once(std::span<const std::byte> stream, std::size_t max) {
    PipeFds p;
    p.put(stream);
    p.close_write();
    FrameReader reader(p.r, max, "fuzz-frame");
    Decoded out;
    finish(reader, out);
    return out;
}

Decoded decode_in_chunks(std::span<const std::byte> stream, std::size_t max, std::size_t chunk) {
    PipeFds p;
    FrameReader reader(p.r, max, "fuzz-frame");
    Decoded out;
    for (std::size_t at = 0; at < stream.size(); at += chunk) {
        p.put(stream.subspan(at, std::min(chunk, stream.size() - at)));
        for (;;) {
            auto f = reader.read(Deadline::now());
            if (!f) {
                FUZZ_CHECK(f.error() != FrameReader::kEndOfStream);  // the write end is open
                out.error = f.error().errno_value();
                return out;
            }
            if (!f->has_value()) {
                break;  // wait for the next chunk; progress is kept
            }
            FUZZ_CHECK((*f)->size() <= max);
            out.frames.push_back(std::move(**f));
        }
    }
    p.close_write();
    finish(reader, out);
    return out;
}

}  // namespace

IPCKIT_FUZZ_TARGET(frame) {
    if (size < 1) {
        return 0;
    }
    // Low 4 bits: maximum frame size 0, 1, 2, 4, ... 16 KiB; high 4 bits: chunk size 1..16.
    const std::size_t max = (data[0] & 15U) == 0 ? 0 : std::size_t{1} << ((data[0] & 15U) - 1);
    const std::size_t chunk = (data[0] >> 4U) + 1U;
    const auto stream = std::as_bytes(std::span(data + 1, std::min(size - 1, kMaxStream)));

    const Decoded whole = decode_at_once(stream, max);
    if (!whole.error) {
        std::size_t consumed = 0;
        for (const auto& f : whole.frames) {
            consumed += FrameReader::kHeaderSize + f.size();
        }
        FUZZ_CHECK(consumed == stream.size());
    }
    if (stream.size() <= 4096) {  // one poll per chunk: keep inputs quick
        FUZZ_CHECK(decode_in_chunks(stream, max, chunk) == whole);
    }

    // Round trip: what was decoded, framed again, decodes to the same payloads.
    PipeFds p;
    std::size_t total = 0;
    for (const auto& f : whole.frames) {
        total += FrameReader::kHeaderSize + f.size();
        FUZZ_CHECK(total <= kMaxStream);
        FUZZ_CHECK(
            ipckit::write_frame(p.w, f, ipckit::FdKind::Other, Deadline::now(), "fuzz-frame", max)
                .has_value());
    }
    p.close_write();
    FrameReader again(p.r, max, "fuzz-frame");
    Decoded back;
    finish(again, back);
    FUZZ_CHECK(!back.error && back.frames == whole.frames);
    return 0;
}
