// SPDX-License-Identifier: MIT
// The C++ side of the zero-copy image example: renders grey frames straight into the channel's
// shared memory for examples/python/frame_consumer.py, which views them as numpy arrays.
//
//   example_frame_producer NAME FRAMES [WIDTH HEIGHT]
//
// A frame is a 16-byte header { uint32 width; uint32 height; uint64 seq; } and width x height
// bytes, pixel (x, y) = (x + 2y + seq) mod 256. The channel must exist (the consumer makes it).
#include "ipckit/channel/publisher.hpp"
#include "ipckit/core/units.hpp"

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

namespace {

struct FrameHeader {
    std::uint32_t width;
    std::uint32_t height;
    std::uint64_t seq;
};
static_assert(sizeof(FrameHeader) == 16);

void render(std::byte* pixels, std::uint32_t width, std::uint32_t height, std::uint64_t seq) {
    for (std::uint32_t y = 0; y < height; ++y) {
        for (std::uint32_t x = 0; x < width; ++x) {
            pixels[std::size_t{y} * width + x] = static_cast<std::byte>((x + 2 * y + seq) & 0xFF);
        }
    }
}

std::uint32_t arg(int argc, char** argv, int i, std::uint32_t fallback) {
    if (i >= argc) {
        return fallback;
    }
    const auto v = ipckit::parse_integer(argv[i], 1, 1 << 14);
    return v ? static_cast<std::uint32_t>(*v) : 0;
}

}  // namespace

int main(int argc, char** argv) {
    const std::uint32_t frames = arg(argc, argv, 2, 0);
    const std::uint32_t width = arg(argc, argv, 3, 640);
    const std::uint32_t height = arg(argc, argv, 4, 480);
    if ((argc != 3 && argc != 5) || frames == 0 || width == 0 || height == 0) {
        std::fputs("usage: example_frame_producer NAME FRAMES [WIDTH HEIGHT]\n", stderr);
        return 2;
    }
    try {
        auto pub = ipckit::Publisher::open(argv[1]).value();
        const std::size_t size = sizeof(FrameHeader) + std::size_t{width} * height;
        for (std::uint64_t seq = 0; seq < frames; ++seq) {
            auto loan = pub.loan_for(size, std::chrono::seconds(10)).value();
            if (!loan) {
                std::fputs("example_frame_producer: no space within 10 s\n", stderr);
                return 1;
            }
            const FrameHeader header{width, height, seq};
            std::memcpy(loan->data(), &header, sizeof header);
            render(loan->data() + sizeof header, width, height, seq);
            pub.publish(std::move(*loan)).value();
        }
        std::printf("published %u frames of %ux%u\n", frames, width, height);
    } catch (const ipckit::ResultError& e) {
        std::fprintf(stderr, "example_frame_producer: %s\n", e.what());
        return 1;
    }
    return 0;
}
