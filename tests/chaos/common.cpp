// SPDX-License-Identifier: MIT
// ipckit_chaos: the shared table, the message format and small helpers used by every role.
#include "chaos.hpp"

#include <sys/mman.h>

#include <cstdio>
#include <cstring>
#include <ctime>
#include <new>
#include <stdexcept>

namespace chaos {

std::string_view facility_name(Facility f) noexcept {
    switch (f) {
        case Facility::ChanBlock:
            return "chan-block";
        case Facility::ChanOverwrite:
            return "chan-overwrite";
        case Facility::PosixMq:
            return "posix-mq";
        case Facility::SysvMq:
            return "sysv-mq";
        case Facility::UnixDgram:
            return "unix-dgram";
        case Facility::Stream:
            return "stream";
        case Facility::RobustMutex:
            return "robust-mutex";
        case Facility::SemUndo:
            return "sem-undo";
        case Facility::Group:
            return "group";
        case Facility::GroupAmo:
            return "group-amo";
    }
    return "?";
}

namespace {
std::size_t round_up(std::size_t n, std::size_t a) {
    return (n + a - 1) / a * a;
}
}  // namespace

Arena::Arena(std::uint32_t sender_slots, std::uint32_t receiver_slots, bool bitmaps)
    : n_senders_(sender_slots), n_receivers_(receiver_slots) {
    const std::size_t page = 4096;
    const std::size_t header = round_up(sizeof(Header), page);
    const std::size_t senders = round_up(sizeof(SenderSlot) * sender_slots, page);
    const std::size_t receivers = round_up(sizeof(ReceiverSlot) * receiver_slots, page);
    const std::size_t maps = bitmaps ? std::size_t{sender_slots} * (kBitmapBits / 8) : 0;
    size_ = header + senders + receivers + maps;
    // MAP_NORESERVE: the tables are sized for the worst case and touched only as far as used.
    base_ = ::mmap(
        nullptr, size_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base_ == MAP_FAILED) {
        base_ = nullptr;
        throw std::runtime_error("mmap of the results table failed");
    }
    auto* p = static_cast<unsigned char*>(base_);
    // Zero pages are a valid initial state of every atomic and array in these structs.
    header_ = new (p) Header;
    senders_ = reinterpret_cast<SenderSlot*>(p + header);
    receivers_ = reinterpret_cast<ReceiverSlot*>(p + header + senders);
    if (bitmaps) {
        bitmaps_ = reinterpret_cast<std::atomic<std::uint64_t>*>(p + header + senders + receivers);
    }
    header_->g.store(1);
    for (auto& c : header_->current) {
        c.store(kNone);
    }
}

Arena::~Arena() {
    if (base_ != nullptr) {
        ::munmap(base_, size_);
    }
}

// ---- messages
namespace {
std::uint64_t mix(std::uint64_t x) noexcept {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

std::uint64_t fnv(std::span<const std::byte> bytes, std::uint64_t h) noexcept {
    for (std::byte b : bytes) {
        h ^= static_cast<std::uint8_t>(b);
        h *= 0x100000001b3ULL;
    }
    return h;
}

std::uint64_t checksum_of(const MsgHeader& h, std::span<const std::byte> payload) noexcept {
    MsgHeader copy = h;
    copy.checksum = 0;
    std::uint64_t sum = fnv(std::as_bytes(std::span(&copy, 1)), 0xcbf29ce484222325ULL);
    return fnv(payload, sum);
}
}  // namespace

void build_message(std::span<std::byte> out,
                   std::uint32_t magic,
                   std::uint32_t sender,
                   std::uint32_t conn,
                   std::uint64_t seq,
                   std::uint64_t gen) {
    MsgHeader h{magic, sender, conn, static_cast<std::uint32_t>(out.size()), seq, gen, 0};
    auto payload = out.subspan(kHeaderSize);
    std::uint64_t x = mix((std::uint64_t{sender} << 40) ^ seq ^ (std::uint64_t{conn} << 20));
    for (std::size_t i = 0; i < payload.size(); ++i) {
        if (i % 8 == 0) {
            x = mix(x + i);
        }
        payload[i] = static_cast<std::byte>(x >> (8 * (i % 8)));
    }
    h.checksum = checksum_of(h, payload);
    std::memcpy(out.data(), &h, sizeof h);
}

bool parse_message(std::span<const std::byte> in, MsgHeader& h, std::uint32_t magic) {
    if (in.size() < kHeaderSize) {
        return false;
    }
    std::memcpy(&h, in.data(), sizeof h);
    if (h.magic != magic || h.size != in.size()) {
        return false;
    }
    return checksum_of(h, in.subspan(kHeaderSize)) == h.checksum;
}

// ---- peers
namespace {
template <class Slot>
int fail_impl(Slot& s, const std::string& what) {
    if (s.error[0] == '\0') {
        std::snprintf(s.error, sizeof s.error, "%s", what.c_str());
    }
    return kPeerError;
}
}  // namespace

int fail(SenderSlot& s, const std::string& what) {
    return fail_impl(s, what);
}
int fail(ReceiverSlot& r, const std::string& what) {
    return fail_impl(r, what);
}

Stream* add_stream(ReceiverSlot& r, std::uint32_t sender, std::uint32_t conn) {
    const std::uint32_t n = r.n_streams.load(std::memory_order_relaxed);
    if (n == kMaxStreams) {
        return nullptr;
    }
    Stream& st = r.streams[n];
    st.sender = sender;
    st.conn = conn;
    st.lane = kNone;
    st.prev_sender = kNone;
    st.prev_seq = 0;
    st.first_seq = kNone;
    st.first_lost = 0;
    st.last_seq.store(0, std::memory_order_relaxed);
    st.count.store(0, std::memory_order_relaxed);
    st.end.store(0, std::memory_order_relaxed);
    // Published after it is filled in: a kill in between leaves the table consistent.
    r.n_streams.store(n + 1, std::memory_order_release);
    return &st;
}

void start_stream(Stream& st, std::uint64_t seq) {
    st.first_seq = seq;
    st.last_seq.store(seq, std::memory_order_relaxed);
    st.count.store(1, std::memory_order_release);
}

void record_contiguous(ReceiverSlot& r, Stream& st, std::uint64_t seq) {
    if (st.count.load(std::memory_order_relaxed) == 0) {
        start_stream(st, seq);
        return;
    }
    const std::uint64_t last = st.last_seq.load(std::memory_order_relaxed);
    if (seq == last) {
        r.dup.fetch_add(1, std::memory_order_relaxed);
        return;
    }
    if (seq < last) {
        r.reorder.fetch_add(1, std::memory_order_relaxed);
        return;
    }
    if (seq != last + 1) {
        r.gap.fetch_add(seq - last - 1, std::memory_order_relaxed);
    }
    st.count.fetch_add(1, std::memory_order_relaxed);
    st.last_seq.store(seq, std::memory_order_release);
}

bool take_injection(Header& h) {
    std::uint32_t armed = 1;
    return h.inject.compare_exchange_strong(armed, 2);
}

std::size_t random_size(std::mt19937_64& rng, std::size_t lo, std::size_t hi) {
    return lo + static_cast<std::size_t>(rng() % (hi - lo + 1));
}

std::uint64_t now_ns() noexcept {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ULL +
           static_cast<std::uint64_t>(ts.tv_nsec);
}

int run_sender(PeerContext& ctx) {
    switch (ctx.facility) {
        case Facility::ChanBlock:
        case Facility::ChanOverwrite:
            return run_channel_publisher(ctx);
        case Facility::PosixMq:
        case Facility::SysvMq:
            return run_queue_sender(ctx);
        case Facility::UnixDgram:
            return run_dgram_sender(ctx);
        case Facility::Stream:
            return run_stream_sender(ctx);
        case Facility::RobustMutex:
        case Facility::SemUndo:
            return run_lock_worker(ctx);
        case Facility::Group:
        case Facility::GroupAmo:
            return run_group_publisher(ctx);
    }
    return kPeerError;
}

int run_receiver(PeerContext& ctx) {
    switch (ctx.facility) {
        case Facility::ChanBlock:
        case Facility::ChanOverwrite:
            return run_channel_subscriber(ctx);
        case Facility::PosixMq:
        case Facility::SysvMq:
            return run_queue_receiver(ctx);
        case Facility::UnixDgram:
            return run_dgram_receiver(ctx);
        case Facility::Stream:
            return run_stream_receiver(ctx);
        case Facility::Group:
        case Facility::GroupAmo:
            return run_group_consumer(ctx);
        default:
            return kPeerError;
    }
}

}  // namespace chaos
