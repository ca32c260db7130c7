// SPDX-License-Identifier: MIT
// Fuzz target: the channel opener and reader over an arbitrary file image, and what `ipckit
// stat` / `ipckit ls` show of it.
//
// The input is the channel file: written (mode 0600, ours) into a private directory as
// fuzz.chan. If it is shorter than the file_size its header records and that size is at most
// 1 MiB, the file is extended to it with zeros, so a small input can describe any small
// geometry: allocated zeros (posix_fallocate) for an input of even length, a sparse hole
// (ftruncate) for an odd one. Then, with init_wait 0 and no spinning (nothing waits):
//  1. Channel::inspect, rendered as `ipckit stat` and `ipckit ls` render it (the CLI's own
//     object_view.cpp, compiled in); Channel::list.
//  2. Subscriber::open and Publisher::open; receives (zero-copy, holding samples up to and past
//     max_loans; copying into buffers of 0, 1, 8, 64 bytes, max_message_size and a size derived from
//     the input, and into a vector that grows); loans of 0, 1, 8, max_message_size, max_message_size + 1
//     and the derived size, each filled completely and published; receives again.
//  3. The input is written over the file again while both are joined (a hostile peer rewriting
//     the header, the records the two just claimed, the tails and the lanes), then step 2's
//     receives and loans again, and inspect again.
//  4. The file is truncated under both mappings to a size derived from the input (a peer of the
//     same uid can), then step 2's receives and loans again: errors, never SIGBUS.
//  5. Channel::cleanup_dead, and the file is removed.
// Properties beyond the sanitizers: an opened channel's geometry obeys the creation rule
// (lane_bytes >= 2 x (max_message_size + 16)); every byte of a received sample and of a loan is
// readable (writable) lane memory; a sample is at most max_message_size, a copied message fits its
// buffer, a loan is exactly the size asked, and a loan above max_message_size is refused.
#include "channel/layout.hpp"
#include "fuzz_target.hpp"
#include "ipckit/admin/inventory.hpp"
#include "ipckit/channel/channel.hpp"
#include "ipckit/channel/publisher.hpp"
#include "ipckit/channel/subscriber.hpp"
#include "ipckit/core/deadline.hpp"
#include "ls_table.hpp"
#include "object_view.hpp"
#include "scratch_dir.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <vector>

namespace {

using ipckit::ChannelOptions;
using ipckit::Deadline;
using ipckit::Publisher;
using ipckit::Subscriber;

constexpr const char* kName = "fuzz";
constexpr std::uint64_t kMaxExtend = std::uint64_t{1} << 20;
constexpr std::size_t kFileSizeOffset = offsetof(ipckit::detail::Header, file_size);
constexpr std::size_t kMaxBuffer = std::size_t{1} << 16;

std::string file_path() {
    return ipckit::fuzz::scratch_dir() + "/" + kName + ".chan";
}

void write_image(std::span<const std::uint8_t> image) {
    const std::string path = file_path();
    const int fd =
        ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    FUZZ_CHECK(fd >= 0);
    FUZZ_CHECK(::fchmod(fd, 0600) == 0);
    std::size_t done = 0;
    while (done < image.size()) {
        const ssize_t n =
            ::pwrite(fd, image.data() + done, image.size() - done, static_cast<off_t>(done));
        FUZZ_CHECK(n > 0);
        done += static_cast<std::size_t>(n);
    }
    std::uint64_t recorded = 0;
    if (image.size() >= kFileSizeOffset + sizeof recorded) {
        std::memcpy(&recorded, image.data() + kFileSizeOffset, sizeof recorded);
    }
    if (recorded > image.size() && recorded <= kMaxExtend) {
        if (image.size() % 2 == 0) {
            FUZZ_CHECK(::posix_fallocate(fd, 0, static_cast<off_t>(recorded)) == 0);
        } else {
            FUZZ_CHECK(::ftruncate(fd, static_cast<off_t>(recorded)) == 0);  // a hole
        }
    }
    ::close(fd);
}

/// Rewrites the input over the file (its size unchanged), as a hostile peer could at any time.
void rewrite_image(std::span<const std::uint8_t> image) {
    const int fd = ::open(file_path().c_str(), O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
    FUZZ_CHECK(fd >= 0);
    FUZZ_CHECK(::pwrite(fd, image.data(), image.size(), 0) == static_cast<ssize_t>(image.size()));
    ::close(fd);
}

/// Truncates the file under the participants' mappings to a size derived from the input.
void truncate_image(std::span<const std::uint8_t> image) {
    struct stat st {};
    FUZZ_CHECK(::stat(file_path().c_str(), &st) == 0);
    std::uint32_t h = 2166136261U;
    for (std::size_t i = 0; i < std::min<std::size_t>(image.size(), 64); ++i) {
        h = (h ^ image[i]) * 16777619U;
    }
    auto cut = static_cast<std::uint64_t>(h) % (static_cast<std::uint64_t>(st.st_size) + 1);
    if ((h & 0x100000U) != 0) {
        cut -= cut % 4096;  // often a page boundary: the header, the tables, whole lanes
    }
    FUZZ_CHECK(::truncate(file_path().c_str(), static_cast<off_t>(cut)) == 0);
}

/// Reads every byte (the sanitizers and the MMU check that it is mapped).
void touch(std::span<const std::byte> bytes) {
    unsigned sum = 0;
    for (std::byte b : bytes) {
        sum += std::to_integer<unsigned>(b);
    }
    volatile unsigned sink = sum;
    (void)sink;
}

/// What `ipckit stat chan:fuzz?dir=...` and `ipckit ls` print for the channel: Channel::inspect
/// as the inventory's read_channel() calls it, rendered by the CLI's object_view.cpp. (Not
/// Inventory::find itself: its scan of every process's /proc maps and fds costs ~30 ms an input
/// and reads nothing from the channel file.)
void inspect_and_render(const ChannelOptions& options) {
    auto info = ipckit::Channel::inspect(kName, options);
    if (info) {
        // The geometry rule every opened channel satisfies: lane_bytes >= 2 x (max_message_size + 16).
        FUZZ_CHECK(info->lane_bytes >= 32 && info->max_message_size <= info->lane_bytes / 2 - 16);
        FUZZ_CHECK(info->publishers.size() <= info->max_publishers);
        FUZZ_CHECK(info->subscribers.size() <= info->max_subscribers);
        ipckit::IpcObjectInfo o;
        o.kind = ipckit::IpcObjectKind::Channel;
        o.name = kName;
        o.uri = std::string("chan:") + kName + "?dir=" + options.dir;
        o.path = file_path();
        o.mode = 0600;
        o.size = info->file_size;
        o.channel = std::move(*info);
        (void)ipckit::cli::render_ls_table({o}, {});
        (void)ipckit::cli::render_details(o);
        (void)ipckit::cli::to_json(o).dump();
        (void)ipckit::cli::state_of(o);
    } else {
        (void)info.error().message();
    }
    (void)ipckit::Channel::list(options);
}

/// A size from the input, so the fuzzer can steer loans and buffers to any size.
std::size_t derived_size(std::span<const std::uint8_t> image, std::size_t bound) {
    std::uint32_t h = 2166136261U;
    for (std::size_t i = 0; i < std::min<std::size_t>(image.size(), 64); ++i) {
        h = (h ^ image[image.size() - 1 - i]) * 16777619U;
    }
    return bound == 0 ? 0 : h % (bound + 1);
}

void receive_some(Subscriber& sub, std::size_t derived) {
    const std::size_t max = sub.max_message_size();
    const std::size_t cap = std::min(max, kMaxBuffer);
    const std::size_t sizes[] = {0, 1, 8, 64, cap, std::min(derived, cap)};
    std::vector<std::byte> buffer(kMaxBuffer);
    std::vector<std::byte> growing;
    std::vector<ipckit::Sample> held;
    int idle = 0;
    for (unsigned i = 0; i < 48 && idle < 4; ++i) {
        bool got = false;
        if (i % 4 == 2) {
            const std::size_t n = sizes[(i / 4) % std::size(sizes)];
            auto r = sub.try_receive(std::span(buffer.data(), n));
            if (!r) {
                if (r.error() != std::errc::message_size) {
                    return;  // a corrupt channel is reported; nothing more to read here
                }
                continue;
            }
            if (*r) {
                FUZZ_CHECK((*r)->size <= n);
                got = true;
            }
        } else if (i % 4 == 3) {
            const std::size_t before = growing.size();
            auto r = sub.receive_until(growing, Deadline::now());
            // It grows only to a message's size, never past max_message_size.
            FUZZ_CHECK(growing.size() <= std::max(before, max));
            if (!r) {
                return;
            }
            if (*r) {
                FUZZ_CHECK((*r)->size <= growing.size() && (*r)->size <= max);
                got = true;
            }
        } else {
            auto r = i % 4 == 0 ? sub.try_receive() : sub.receive_until(Deadline::now());
            if (!r) {
                if (r.error() != std::errc::no_buffer_space) {
                    return;
                }
                // Over max_loans: only samples we hold count (all are in `held`).
                FUZZ_CHECK(!held.empty());
                held.erase(held.begin());  // give the oldest back
                continue;
            }
            if (*r) {
                const ipckit::Sample& smp = **r;
                FUZZ_CHECK(smp.size() <= max);
                touch(smp.bytes());
                (void)smp.still_valid();
                held.push_back(std::move(**r));
                got = true;
            }
        }
        idle = got ? 0 : idle + 1;
    }
    while (!held.empty()) {
        sub.release(std::move(held.back()));
        held.pop_back();
    }
}

void publish_some(Publisher& pub, std::size_t derived) {
    const std::size_t max = pub.max_message_size();
    for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{8}, max, max + 1, derived}) {
        auto loan = pub.try_loan(n);
        if (!loan) {
            continue;  // refused: too large, or the lane is corrupt
        }
        FUZZ_CHECK(n <= max);
        if (!*loan) {
            continue;  // block mode: no space now
        }
        ipckit::Loan& l = **loan;
        FUZZ_CHECK(l.size() == n && l.capacity() == n);
        if (n > 0) {
            std::memset(l.data(), 0xa5, n);  // every byte of the loan is writable lane memory
        }
        l.resize(n / 2);
        (void)pub.publish(std::move(l));  // an error only if the file was truncated meanwhile
    }
    // A loan above max_message_size is refused, never granted.
    if (max < SIZE_MAX) {
        FUZZ_CHECK(!pub.try_loan(max + 1).has_value());
    }
}

}  // namespace

#ifndef IPCKIT_FUZZ_REPLAY
// libFuzzer's byte-level mutations rarely set an aligned 64-bit field to an exact edge value
// (max_message_size = 2^64 - 1 takes a particular 8 bytes at offset 32). Half the mutations here are
// structure-aware: one aligned field of the header, of a record table or of a lane set to an edge
// value, or nudged from its current value; the other half are libFuzzer's own.
extern "C" std::size_t LLVMFuzzerMutate(std::uint8_t* data, std::size_t size, std::size_t max_size);

extern "C" std::size_t LLVMFuzzerCustomMutator(std::uint8_t* data,
                                               std::size_t size,
                                               std::size_t max_size,
                                               unsigned int seed) {
    std::minstd_rand rng(seed);
    if (size < 64 || rng() % 2 == 0) {
        return LLVMFuzzerMutate(data, size, max_size);
    }
    const std::size_t width = rng() % 3 == 0 ? 4 : 8;
    std::size_t region = size;
    switch (rng() % 4) {
        case 0:
        case 1:
            region = std::min<std::size_t>(size, 128);  // the header's parameters and offsets
            break;
        case 2:
            region = std::min<std::size_t>(size, 3 * 4096);  // + the record tables
            break;
        default:
            break;  // anywhere: lanes' record headers too
    }
    const std::size_t at = (rng() % (region / width)) * width;
    std::uint64_t v = 0;
    std::memcpy(&v, data + at, width);
    const std::uint64_t edges[] = {0,
                                   1,
                                   2,
                                   3,
                                   15,
                                   16,
                                   4096,
                                   8192,
                                   12288,
                                   std::uint64_t{1} << 20,
                                   std::uint64_t{1} << 31,
                                   std::uint64_t{1} << 32,
                                   std::uint64_t{1} << 34,
                                   std::uint64_t{1} << 63,
                                   ~std::uint64_t{0} - 30,
                                   ~std::uint64_t{0} - 15,
                                   ~std::uint64_t{0}};
    switch (rng() % 3) {
        case 0:
            v = edges[rng() % std::size(edges)];
            break;
        case 1:
            v += static_cast<std::uint64_t>(static_cast<std::int64_t>(rng() % 65) - 32);
            break;
        default:
            v ^= std::uint64_t{1} << (rng() % (width * 8));
            break;
    }
    std::memcpy(data + at, &v, width);
    return size;
}
#endif

IPCKIT_FUZZ_TARGET(channel) {
    const std::span<const std::uint8_t> image(data, size);
    write_image(image);
    ChannelOptions options;
    options.dir = ipckit::fuzz::scratch_dir();
    options.init_wait = std::chrono::milliseconds(0);
    options.spin_polls = 0;

    inspect_and_render(options);
    {
        auto sub = Subscriber::open(kName, options);
        auto pub = Publisher::open(kName, options);
        const std::size_t derived =
            derived_size(image, sub ? std::min(sub->max_message_size(), kMaxBuffer) : kMaxBuffer);
        if (sub) {
            receive_some(*sub, derived);
        }
        if (pub) {
            publish_some(*pub, derived);
        }
        if (sub) {
            receive_some(*sub, derived);
        }
        if (sub || pub) {
            rewrite_image(image);
            if (sub) {
                receive_some(*sub, derived);
            }
            if (pub) {
                publish_some(*pub, derived);
            }
            if (sub) {
                receive_some(*sub, derived);
            }
            inspect_and_render(options);

            truncate_image(image);
            if (sub) {
                receive_some(*sub, derived);
            }
            if (pub) {
                publish_some(*pub, derived);
            }
            if (sub) {
                receive_some(*sub, derived);
            }
            inspect_and_render(options);
        }
    }
    (void)ipckit::Channel::cleanup_dead(kName, options);
    FUZZ_CHECK(::unlink(file_path().c_str()) == 0);
    return 0;
}
