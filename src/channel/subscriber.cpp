// SPDX-License-Identifier: MIT
#include "ipckit/channel/subscriber.hpp"

#include "channel/fault_point.hpp"
#include "channel/participant.hpp"
#include "ipckit/core/assert.hpp"
#include "sys/syscall.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace ipckit {

namespace detail {

namespace {
inline bool after(std::uint64_t a, std::uint64_t b) noexcept {
    return static_cast<std::int64_t>(a - b) > 0;
}
/// True when `stamp` commits a record at position `cursor`.
[[gnu::always_inline]] inline bool committed_at(std::uint64_t stamp, std::uint64_t cursor) noexcept {
    return (stamp & ~kStampFlagMask) == cursor && (stamp & kValidFlag) != 0;
}
constexpr std::uint32_t kTailCheckPolls = 1024;
constexpr auto kIntactSlice = std::chrono::milliseconds(250);
}  // namespace

SubscriberImpl::~SubscriberImpl() {
    stop_notifier_thread();
    if (rec != nullptr) {
        rec->pid.store(0, std::memory_order_relaxed);
        rec->state.store(Free, std::memory_order_release);
        file.unlock(file.sub_lock_off(index));
        if (!overwrite) {
            auto& h = file.header();
            wake_sleepers(h.space_seq, h.space_sleepers);  // we no longer hold anyone back
        }
    }
}

Result<void> SubscriberImpl::join() {
    const Geometry& g = file.geometry();
    std::uint32_t i = 0;
    for (; i < g.max_subscribers; ++i) {
        IPCKIT_TRY_ASSIGN(auto got, file.try_lock(file.sub_lock_off(i)));
        if (got) {
            break;
        }
    }
    if (i == g.max_subscribers) {
        return Error(std::errc::resource_unavailable_try_again, "chan subscriber",
                     "chan:" + file.name(),
                     "all max_subscribers=" + std::to_string(g.max_subscribers) +
                         " subscriber records are held by live subscribers");
    }
    index = i;
    SubRecordHead& r = file.sub(i);
    // "joining" first: a block-mode publisher waits for a live joiner instead of writing past
    // a cursor it cannot see yet; the fence pairs with the publisher's fence before its scan.
    r.state.store(Joining, std::memory_order_seq_cst);
    r.pid.store(static_cast<std::uint32_t>(::getpid()), std::memory_order_relaxed);
    r.loans.store(0, std::memory_order_relaxed);
    r.received.store(0, std::memory_order_relaxed);
    r.lost.store(0, std::memory_order_relaxed);
    r.corrupt.store(0, std::memory_order_relaxed);
    full_fence();
    IPCKIT_FAULT_POINT("chan.subscribe.after_lock");
    lanes.assign(g.max_publishers, LaneState{});
    mask = g.lane_bytes - 1;
    for (std::uint32_t l = 0; l < g.max_publishers; ++l) {
        start_at_head(l);  // a late joiner starts at the head
        const std::uint64_t t = lanes[l].cursor;
        lanes[l].hold = t;
        lanes[l].fenced_hold = t;
        file.hold(i, l).store(t, std::memory_order_relaxed);
    }
    rec = &r;
    held.reserve(g.max_loans);
    r.state.store(Active, std::memory_order_release);
    if (!overwrite) {
        auto& h = file.header();
        wake_sleepers(h.space_seq, h.space_sleepers);
    }
    return {};
}

void SubscriberImpl::start_at_head(std::uint32_t lane) noexcept {
    // The publisher stores, per message m: the stamp, next_seq = m + 1, the tail (all release).
    // Having read tail t (so next_seq >= m, the number of the record that goes at t), we read
    // next_seq, then the stamp at t (past a committed pad there). If that record is committed,
    // its own seq is m. If not, next_seq cannot have counted it (its stamp precedes that store),
    // so next_seq == m. Either way even a subscriber lapped before its first message knows
    // exactly what it lost.
    LaneState& s = lanes[lane];
    const PubRecord& p = file.pub(lane);
    const std::byte* ring = file.lane(lane);
    const std::uint64_t lane_bytes = file.geometry().lane_bytes;
    for (int attempt = 0; attempt < 64; ++attempt) {
        const std::uint64_t t = p.tail.load(std::memory_order_acquire);
        const std::uint64_t n = p.next_seq.load(std::memory_order_acquire);
        if ((t & kStampFlagMask) != 0) {
            break;
        }
        std::uint64_t pos = t;
        const auto* h = reinterpret_cast<const RecordHeader*>(ring + (pos & mask));  // NOLINT
        std::uint64_t stamp = h->stamp.load(std::memory_order_acquire);
        if (committed_at(stamp, pos) && (stamp & kPadFlag) != 0) {
            const std::uint64_t len = h->len.load(std::memory_order_relaxed);
            if ((pos & mask) + kRecordHeaderBytes + len != lane_bytes) {
                break;  // not a pad we wrote
            }
            pos += kRecordHeaderBytes + len;  // the message after a pad starts the ring
            h = reinterpret_cast<const RecordHeader*>(ring);  // NOLINT
            stamp = h->stamp.load(std::memory_order_acquire);
        }
        auto expected = static_cast<std::uint32_t>(n);
        if (committed_at(stamp, pos)) {
            expected = h->seq.load(std::memory_order_relaxed);
        }
        // Overwrite mode: the bytes at `pos` may be a record of an earlier lap (any bytes at all:
        // records do not fall on the same boundaries every lap) or be overwritten while we read
        // them. The publisher raises the floor before it overwrites, so a floor still at or
        // below `pos` after our reads means they were what the argument above needs.
        if (overwrite) {
            acquire_fence();
            if (after(p.floor.load(std::memory_order_relaxed), pos)) {
                continue;
            }
        }
        s.cursor = t;
        s.seq_pos = t;
        s.expected = expected;
        s.seq_known = true;
        return;
    }
    // A corrupt tail or pad, or lapped 64 times in a row: start at the tail, learning numbers
    // later.
    s.cursor = p.tail.load(std::memory_order_acquire) & ~kStampFlagMask;
    s.seq_pos = s.cursor;
    s.seq_known = false;
}

[[gnu::always_inline]] inline void SubscriberImpl::update_hold(std::uint32_t lane,
                                                               bool force) noexcept {
    LaneState& s = lanes[lane];
    std::uint64_t h = s.cursor;
    for (const Held& x : held) {
        if (x.lane == lane && after(h, x.pos)) {
            h = x.pos;
        }
    }
    if (h == s.hold && !force) {
        return;  // nothing new for a publisher (a held sample still pins this lane)
    }
    s.hold = h;
    file.hold(index, lane).store(h, std::memory_order_release);
    if (overwrite || h == s.fenced_hold) {
        return;
    }
    // The fence of the sleep/wake protocol costs as much as the rest of a receive, so it is paid
    // every quarter lane of progress, when we run dry (flush_holds), or when a publisher is seen
    // asleep. A publisher that misses a hold store re-checks within its 20 ms liveness slice.
    auto& hd = file.header();
    const bool quarter = h - s.fenced_hold >= file.geometry().lane_bytes / 4;
    if (force || quarter || hd.space_sleepers.load(std::memory_order_relaxed) != 0) {
        s.fenced_hold = h;
        wake_sleepers(hd.space_seq, hd.space_sleepers);
    }
}

void SubscriberImpl::flush_holds() noexcept {
    for (std::uint32_t l = 0; l < lanes.size(); ++l) {
        if (lanes[l].hold != lanes[l].fenced_hold || lanes[l].hold != lanes[l].cursor) {
            update_hold(l, true);
        }
    }
}

[[gnu::always_inline]] inline void SubscriberImpl::release(std::uint32_t lane, std::uint64_t pos) noexcept {
    if (!held.empty() && held.back().lane == lane && held.back().pos == pos) {
        held.pop_back();  // the usual case: the newest sample goes first
    } else {
        for (auto it = held.begin(); it != held.end(); ++it) {
            if (it->lane == lane && it->pos == pos) {
                held.erase(it);
                break;
            }
        }
    }
    rec->loans.store(static_cast<std::uint32_t>(held.size()), std::memory_order_relaxed);
    update_hold(lane);
}

void SubscriberImpl::note_corrupt(LaneState& s, std::uint64_t tail) noexcept {
    ++corrupt;
    rec->corrupt.store(corrupt, std::memory_order_relaxed);
    // Skip to the tail: the records in between cannot be delimited any more. The next valid
    // record's sequence number counts them (and the corrupt one) as lost.
    s.cursor = tail & ~kStampFlagMask;
}

namespace {


/// Overwrite mode, after reading: true when the writer may have lapped `cursor` meanwhile (the
/// acquire fence orders our reads of the record before the floor load).
[[gnu::always_inline]] inline bool overwritten_since(const PubRecord& p, std::uint64_t cursor) noexcept {
    acquire_fence();
    return after(p.floor.load(std::memory_order_relaxed), cursor);
}

/// What the header fields of a committed record (each read once) describe.
enum class RecordKind : std::uint8_t { Message, Pad, Bad };

[[gnu::always_inline]] inline RecordKind classify(std::uint64_t stamp, std::uint32_t len,
                                                  std::uint64_t off, const Geometry& g) noexcept {
    if ((stamp & kUnknownFlags) != 0) {
        return RecordKind::Bad;
    }
    if ((stamp & kPadFlag) != 0) {
        // A pad runs exactly to the ring's end.
        return off + kRecordHeaderBytes + std::uint64_t{len} == g.lane_bytes ? RecordKind::Pad
                                                                             : RecordKind::Bad;
    }
    if (len > g.max_message_size || off + record_bytes(len) > g.lane_bytes) {
        return RecordKind::Bad;
    }
    return RecordKind::Message;
}

}  // namespace

void SubscriberImpl::skip_to_tail(LaneState& s, const PubRecord& p) noexcept {
    // Skips what cannot be delimited any more, up to the committed tail (if that is sane).
    const std::uint64_t t = p.tail.load(std::memory_order_acquire);
    if (after(t, s.cursor) && t - s.cursor <= file.geometry().lane_bytes &&
        (t & kStampFlagMask) == 0) {
        note_corrupt(s, t);
    } else {
        ++corrupt;
        rec->corrupt.store(corrupt, std::memory_order_relaxed);
    }
}

SubscriberImpl::Look SubscriberImpl::resume_at_floor(LaneState& s,
                                                     const PubRecord& p) const noexcept {
    // The floor is the oldest record still intact (the publisher keeps it on a record boundary);
    // the next record's seq tells how many we lost. A floor that is not a sane position within a
    // lane below the tail is corrupt: fall back to the tail, the owner's commit point.
    const std::uint64_t f = p.floor.load(std::memory_order_acquire);
    const std::uint64_t t = p.tail.load(std::memory_order_acquire);
    if ((t & kStampFlagMask) != 0 || !after(t, s.cursor)) {
        return Look::Stop;
    }
    const bool sane = (f & kStampFlagMask) == 0 && after(f, s.cursor) && !after(f, t) &&
                      t - f <= file.geometry().lane_bytes;
    s.cursor = sane ? f : t;
    return Look::Retry;
}

[[gnu::always_inline]] inline SubscriberImpl::Look SubscriberImpl::look_at(
    LaneState& s, const PubRecord& p, const RecordHeader& h, std::uint64_t& stamp) noexcept {
    if (overwrite && after(p.floor.load(std::memory_order_acquire), s.cursor)) {
        return resume_at_floor(s, p);
    }
    // The record's stamp is the commit marker (stored last, with release): polling it reads
    // the line we need anyway, and leaves the writer's tail line alone.
    stamp = h.stamp.load(std::memory_order_acquire);
    if (committed_at(stamp, s.cursor)) {
        return Look::Read;
    }
    // Not committed yet, overwritten, or corrupt. The lane's tail (stored after every commit)
    // tells them apart. It is the writer's line: reading it while spinning steals it from the
    // writer, so only every kTailCheckPolls-th empty poll (and before sleeping).
    if (++s.empty_polls % kTailCheckPolls != 0 && !force_tail_check) {
        return Look::Stop;
    }
    IPCKIT_FAULT_POINT("chan.subscribe.before_tail_check");
    return check_tail(s, p, h, stamp);
}

SubscriberImpl::Look SubscriberImpl::check_tail(LaneState& s, const PubRecord& p,
                                                const RecordHeader& h, std::uint64_t& stamp) noexcept {
    const std::uint64_t t = p.tail.load(std::memory_order_acquire);
    if (!after(t, s.cursor)) {
        return Look::Stop;  // nothing new (a tail behind us is "no data" too)
    }
    if (overwrite && t - s.cursor > file.geometry().lane_bytes && (t & kStampFlagMask) == 0 &&
        after(p.floor.load(std::memory_order_acquire), s.cursor)) {
        // Lapped since look_at() read the floor (we were preempted or stopped in between): the
        // writer raises the floor before its tail, so this floor is past us. A lap, not a
        // corrupt tail.
        return resume_at_floor(s, p);
    }
    if (t - s.cursor > file.geometry().lane_bytes || (t & kStampFlagMask) != 0) {
        // A corrupt index: counted, never trusted; the owner's next commit rewrites it.
        ++corrupt;
        rec->corrupt.store(corrupt, std::memory_order_relaxed);
        return Look::Stop;
    }
    stamp = h.stamp.load(std::memory_order_acquire);
    if (committed_at(stamp, s.cursor)) {
        return Look::Read;
    }
    if (!(overwrite && after(p.floor.load(std::memory_order_acquire), s.cursor))) {
        note_corrupt(s, t);  // committed per the tail, yet no valid record here
    }
    return Look::Retry;
}

[[gnu::always_inline]] inline void SubscriberImpl::take(LaneState& s, std::uint32_t lane,
                                                        const Record& r, Got& got) noexcept {
    s.expected = r.seq + 1;
    s.seq_known = true;
    ++received;
    rec->received.store(received, std::memory_order_relaxed);
    if (r.gap != 0) {
        lost += r.gap;
        rec->lost.store(lost, std::memory_order_relaxed);
    }
    got = Got{r.payload, r.len, lane, s.cursor, r.gap};
    s.cursor += record_bytes(r.len);
    s.seq_pos = s.cursor;
    if (r.zero_copy) {
        held.push_back(Held{lane, got.pos});
        rec->loans.store(static_cast<std::uint32_t>(held.size()), std::memory_order_relaxed);
    }
    update_hold(lane);
}

SubscriberImpl::Polled SubscriberImpl::too_small(std::uint32_t lane, std::uint64_t start,
                                                 std::uint32_t len, Got& got) noexcept {
    if (lanes[lane].cursor != start) {
        update_hold(lane);
    }
    got.size = len;
    return Polled::TooSmall;  // left in place: a bigger buffer can take it
}

bool SubscriberImpl::in_sequence(LaneState& s, const PubRecord& p, const Record& r, bool bad,
                                 std::uint32_t& gap) noexcept {
    gap = s.seq_known ? r.seq - s.expected : 0;
    if (bad || gap >= 0x80000000U) {
        skip_to_tail(s, p);  // corrupt, or a sequence going backwards
        return false;
    }
    if (gap > (s.cursor - s.seq_pos) / kRecordHeaderBytes) {
        // More messages "lost" than the bytes passed since the last record taken could hold
        // (each takes 16 at least): a forged number. Skip just this record, counted; the next
        // honest one counts it as lost.
        ++corrupt;
        rec->corrupt.store(corrupt, std::memory_order_relaxed);
        s.cursor += record_bytes(r.len);
        return false;
    }
    return true;
}

SubscriberImpl::Polled SubscriberImpl::poll_lane(std::uint32_t lane, std::span<std::byte>* out,
                                                 Got& got) noexcept {
    const Geometry& g = file.geometry();
    LaneState& s = lanes[lane];
    const PubRecord& p = file.pub(lane);
    const std::byte* ring = file.lane(lane);
    const std::uint64_t start = s.cursor;
    // Bounded: each step consumes at least 16 bytes or resynchronises to the tail.
    const std::uint64_t max_steps = g.lane_bytes / kRecordHeaderBytes + 4;
    for (std::uint64_t step = 0; step < max_steps; ++step) {
        const std::uint64_t off = s.cursor & mask;
        const auto& h = *reinterpret_cast<const RecordHeader*>(ring + off);  // NOLINT
        std::uint64_t stamp = 0;
        const Look look = look_at(s, p, h, stamp);
        if (look == Look::Stop) {
            break;
        }
        if (look == Look::Retry) {
            continue;
        }
        const Record r{ring + off + kRecordHeaderBytes, h.len.load(std::memory_order_relaxed),
                       h.seq.load(std::memory_order_relaxed), 0, out == nullptr};
        if (overwrite && overwritten_since(p, s.cursor)) {
            continue;  // overwritten while we read the header
        }
        const RecordKind kind = classify(stamp, r.len, off, g);
        if (kind == RecordKind::Pad) {
            s.cursor += kRecordHeaderBytes + r.len;
            continue;
        }
        std::uint32_t gap = 0;
        if (!in_sequence(s, p, r, kind == RecordKind::Bad, gap)) {
            continue;  // skipped and counted
        }
        if (out != nullptr) {
            if (out->size() < r.len) {
                return too_small(lane, start, r.len, got);
            }
            if (r.len != 0) {  // an empty `out` may have no storage at all (memcpy(nullptr, ..))
                std::memcpy(out->data(), r.payload, r.len);
            }
            if (overwrite && overwritten_since(p, s.cursor)) {
                continue;  // torn copy: discarded; counted as lost by the next seq
            }
        }
        take(s, lane, Record{r.payload, r.len, r.seq, gap, r.zero_copy}, got);
        return Polled::Got;
    }
    if (s.cursor != start) {
        update_hold(lane);
    }
    return Polled::Empty;
}

Result<int> SubscriberImpl::start_notifier() {
    if (event_fd) {
        return event_fd.get();
    }
    const int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd < 0) {
        return sys::last_error("eventfd", "chan:" + file.name());
    }
    event_fd.reset(fd);
    const std::uint32_t n = file.geometry().max_publishers;
    cursor_mirror = std::make_unique<std::atomic<std::uint64_t>[]>(n);
    for (std::uint32_t l = 0; l < n; ++l) {
        cursor_mirror[l].store(lanes[l].cursor, std::memory_order_relaxed);
    }
    notifier = std::thread([this] { notifier_loop(); });
    return fd;
}

void SubscriberImpl::notifier_loop() noexcept {
    auto& h = file.header();
    const Geometry& g = file.geometry();
    while (!stop_notifier.load(std::memory_order_acquire)) {
        h.data_sleepers.fetch_add(1, std::memory_order_seq_cst);
        full_fence();
        const std::uint32_t v = h.data_seq.load(std::memory_order_acquire);
        const std::uint32_t hw =
            std::min(h.lanes_hw.load(std::memory_order_acquire), g.max_publishers);
        bool pending = false;
        for (std::uint32_t l = 0; l < hw && !pending; ++l) {
            pending = file.pub(l).tail.load(std::memory_order_acquire) !=
                      cursor_mirror[l].load(std::memory_order_acquire);
        }
        if (pending && !signalled.exchange(true, std::memory_order_acq_rel)) {
            const std::uint64_t one = 1;
            (void)::write(event_fd.get(), &one, sizeof one);
        }
        if (!stop_notifier.load(std::memory_order_acquire)) {
            (void)Futex::wait(h.data_seq, v,
                              Deadline::after(pending ? std::chrono::milliseconds(50)
                                                      : std::chrono::milliseconds(1000)));
        }
        h.data_sleepers.fetch_sub(1, std::memory_order_relaxed);
    }
}

void SubscriberImpl::stop_notifier_thread() noexcept {
    if (!notifier.joinable()) {
        return;
    }
    stop_notifier.store(true, std::memory_order_release);
    auto& h = file.header();
    h.data_seq.fetch_add(1, std::memory_order_release);  // others re-check and sleep again
    (void)Futex::wake_all(h.data_seq);
    notifier.join();
}

[[gnu::always_inline]] inline SubscriberImpl::Fast SubscriberImpl::poll_fast(Got& got) noexcept {
    const Geometry& g = file.geometry();
    if (overwrite || force_tail_check || held.size() >= g.max_loans || !file.header_ok()) {
        return Fast::Slow;  // the seqlock checks, a tail check, the quota error, a header error
    }
    const std::uint32_t hw =
        std::min(file.header().lanes_hw.load(std::memory_order_acquire), g.max_publishers);
    const std::uint32_t lane = rr < hw ? rr : 0;  // where poll_inner() would look first
    if (hw == 0) {
        return Fast::Slow;
    }
    LaneState& s = lanes[lane];
    const std::uint64_t off = s.cursor & mask;
    const auto& h = *reinterpret_cast<const RecordHeader*>(file.lane(lane) + off);  // NOLINT
    const std::uint64_t stamp = h.stamp.load(std::memory_order_acquire);
    if (stamp != (s.cursor | kValidFlag)) {
        // Not a plain message. Not stamped for the cursor at all means "not yet" (or overwritten
        // or corrupt, which the periodic tail check finds); with one lane and no hold to
        // announce, that is "nothing new". A pad or odd flags take the full look.
        const std::uint32_t polls = s.empty_polls + 1;
        if ((stamp & ~kStampFlagMask) == s.cursor || hw != 1 || polls % kTailCheckPolls == 0 ||
            s.hold != s.cursor || s.fenced_hold != s.cursor) {
            return Fast::Slow;
        }
        s.empty_polls = polls;
        return Fast::Empty;
    }
    const std::uint32_t len = h.len.load(std::memory_order_relaxed);
    const std::uint32_t seq = h.seq.load(std::memory_order_relaxed);
    if (len > g.max_message_size || off + record_bytes(len) > g.lane_bytes || !s.seq_known ||
        seq != s.expected) {
        return Fast::Slow;  // a bad length, or a gap to count
    }
    take(s, lane, Record{file.lane(lane) + off + kRecordHeaderBytes, len, seq, 0, true}, got);
    rr = lane + 1;
    return Fast::Got;
}

SubscriberImpl::Polled SubscriberImpl::poll(std::span<std::byte>* out, Got& got) noexcept {
    if (!cursor_mirror) {
        if (out == nullptr) {
            const Fast f = poll_fast(got);
            if (f != Fast::Slow) [[likely]] {
                return f == Fast::Got ? Polled::Got : Polled::Empty;
            }
        }
        return poll_inner(out, got);
    }
    // Cleared before looking, so data arriving after our look is signalled again.
    signalled.store(false, std::memory_order_release);
    const Polled r = poll_inner(out, got);
    for (std::uint32_t l = 0; l < file.geometry().max_publishers; ++l) {
        cursor_mirror[l].store(lanes[l].cursor, std::memory_order_release);
    }
    return r;
}

SubscriberImpl::Polled SubscriberImpl::poll_inner(std::span<std::byte>* out, Got& got) noexcept {
    if (!file.header_ok() || file.faulted()) [[unlikely]] {
        return Polled::CorruptHeader;
    }
    const Geometry& g = file.geometry();
    if (out == nullptr && held.size() >= g.max_loans) [[unlikely]] {
        return Polled::Quota;
    }
    const std::uint32_t hw =
        std::min(file.header().lanes_hw.load(std::memory_order_acquire), g.max_publishers);
    std::uint32_t lane = rr < hw ? rr : 0;
    for (std::uint32_t k = 0; k < hw; ++k) {
        const Polled r = poll_lane(lane, out, got);
        if (r != Polled::Empty) {
            if (r == Polled::Got) {
                rr = lane + 1;  // round robin: the next look starts after this lane
            }
            return r;
        }
        lane = lane + 1 == hw ? 0 : lane + 1;
    }
    if (!overwrite) {
        flush_holds();  // running dry: make sure a waiting publisher hears about our progress
    }
    return Polled::Empty;
}

Error SubscriberImpl::poll_error(Polled p, const Got& got, const std::span<std::byte>* out) const {
    const Geometry& g = file.geometry();
    switch (p) {
        case Polled::CorruptHeader: {
            // Truncated under us: the zeros we now read are not the peer's corruption.
            IPCKIT_TRY(file.check_intact());
            auto r = file.check_header();
            return r ? file.corrupt("chan receive", "header changed while in use")
                     : std::move(r).error();
        }
        case Polled::Quota:
            return {std::errc::no_buffer_space,
                    "chan receive",
                    "chan:" + file.name(),
                    "this subscriber holds " + std::to_string(held.size()) + "/" +
                        std::to_string(g.max_loans) + " samples (max_loans); release one"};
        case Polled::TooSmall:
            return {std::errc::message_size,
                    "chan receive",
                    "chan:" + file.name(),
                    "message of " + std::to_string(got.size) + " bytes; buffer holds " +
                        std::to_string(out == nullptr ? 0 : out->size())};
        case Polled::Empty:
        case Polled::Got:
            break;
    }
    IPCKIT_ASSERT(false, "poll_error() of a successful poll");
    return {std::errc::invalid_argument, "chan receive"};
}

Result<bool> SubscriberImpl::poll_checked(std::span<std::byte>* out, Got& got) {
    const Polled p = poll(out, got);
    if (p > Polled::Got) [[unlikely]] {
        return poll_error(p, got, out);
    }
    return p == Polled::Got;
}

Result<bool> SubscriberImpl::wait(std::span<std::byte>* out, Deadline deadline, Got& got) {
    for (std::uint32_t i = 0; i < spin_polls; ++i) {
        const Polled p = poll(out, got);
        if (p != Polled::Empty) {
            return p == Polled::Got ? Result<bool>(true) : Result<bool>(poll_error(p, got, out));
        }
        if (expired(deadline)) {
            return false;
        }
        cpu_relax();
    }
    auto& h = file.header();
    for (;;) {
        h.data_sleepers.fetch_add(1, std::memory_order_seq_cst);
        full_fence();
        const std::uint32_t v = h.data_seq.load(std::memory_order_acquire);
        force_tail_check = true;  // before sleeping, tell "nothing yet" from a corrupt record
        auto r = poll_checked(out, got);
        force_tail_check = false;
        if (!r || *r || expired(deadline)) {
            h.data_sleepers.fetch_sub(1, std::memory_order_relaxed);
            return r;
        }
        auto intact = file.check_intact();
        if (!intact) {
            h.data_sleepers.fetch_sub(1, std::memory_order_relaxed);
            return std::move(intact).error();
        }
        // In slices: a file removed or truncated under us wakes nobody, and must not leave us
        // asleep until the deadline (one fstat per idle slice).
        Deadline slice = Deadline::after(kIntactSlice);
        if (deadline < slice) {
            slice = deadline;
        }
        auto w = Futex::wait(h.data_seq, v, slice);
        h.data_sleepers.fetch_sub(1, std::memory_order_relaxed);
        if (!w) {
            return std::move(w).error();
        }
    }
}

}  // namespace detail

using detail::SubscriberImpl;

[[gnu::always_inline]] inline Sample SubscriberImpl::sample(const Got& got) noexcept {
    Sample s;
    s.owner_ = this;
    s.data_ = got.data;
    s.size_ = got.size;
    s.pos_ = got.pos;
    s.lost_before_ = got.lost_before;
    s.lane_ = got.lane;
    return s;
}

Sample& Sample::operator=(Sample&& o) noexcept {
    if (this != &o) {
        if (owner_ != nullptr) {
            release();
        }
        owner_ = std::exchange(o.owner_, nullptr);
        data_ = o.data_;
        size_ = o.size_;
        pos_ = o.pos_;
        lost_before_ = o.lost_before_;
        lane_ = o.lane_;
    }
    return *this;
}

void Sample::release() noexcept {
    owner_->release(lane_, pos_);
    owner_ = nullptr;
}

bool Sample::still_valid() const noexcept {
    if (owner_ == nullptr) {
        return false;
    }
    if (!owner_->overwrite) {
        return true;
    }
    detail::acquire_fence();
    const std::uint64_t f = owner_->file.pub(lane_).floor.load(std::memory_order_relaxed);
    return static_cast<std::int64_t>(f - pos_) <= 0;
}

Subscriber::Subscriber(std::unique_ptr<SubscriberImpl> impl) noexcept : impl_(std::move(impl)) {}
Subscriber::Subscriber(Subscriber&& other) noexcept = default;
Subscriber& Subscriber::operator=(Subscriber&& other) noexcept = default;
Subscriber::~Subscriber() = default;

namespace {
constexpr auto kMake = detail::make_participant<SubscriberImpl>;
}  // namespace

Result<Subscriber> Subscriber::open(std::string_view name, const ChannelOptions& options) {
    IPCKIT_TRY_ASSIGN(auto i,
                      kMake(detail::ChannelFile::open(name, options, detail::Role::Subscriber),
                            options.spin_polls));
    return Subscriber(std::move(i));
}

Result<Subscriber> Subscriber::create(std::string_view name, const ChannelConfig& config) {
    IPCKIT_TRY_ASSIGN(auto i,
                      kMake(detail::ChannelFile::create(name, config, detail::Role::Subscriber),
                            config.options.spin_polls));
    return Subscriber(std::move(i));
}

Result<Subscriber> Subscriber::open_or_create(std::string_view name, const ChannelConfig& config) {
    IPCKIT_TRY_ASSIGN(
        auto i,
        kMake(detail::ChannelFile::open_or_create(name, config, detail::Role::Subscriber),
              config.options.spin_polls));
    return Subscriber(std::move(i));
}

Result<std::optional<Sample>> Subscriber::receive_until(Deadline deadline) {
    SubscriberImpl::Got got;
    // A try (no deadline) is one poll: the spin-mode hot path skips the waiting machinery.
    IPCKIT_TRY_ASSIGN(const bool took,
                      deadline == detail::kImmediately ? impl_->poll_checked(nullptr, got)
                                                       : impl_->wait(nullptr, deadline, got));
    if (!took) {
        return std::optional<Sample>();
    }
    return std::optional<Sample>(impl_->sample(got));
}

Result<std::optional<Sample>> Subscriber::try_receive() {
    // The spin-mode hot path: poll_fast() inlined here, without the Result<bool> and Got
    // round trip through memory of poll_checked(). Anything it does not take goes the long way.
    if (!impl_->cursor_mirror) [[likely]] {
        SubscriberImpl::Got got;
        const auto f = impl_->poll_fast(got);
        if (f == SubscriberImpl::Fast::Got) [[likely]] {
            return std::optional<Sample>(impl_->sample(got));
        }
        if (f == SubscriberImpl::Fast::Empty) {
            return std::optional<Sample>();
        }
    }
    return receive_until(detail::kImmediately);
}

Result<Sample> Subscriber::receive() {
    IPCKIT_TRY_ASSIGN(auto r, receive_until(Deadline::never()));
    IPCKIT_ASSERT(r.has_value(), "a wait without deadline returned empty");
    return std::move(*r);
}

void Subscriber::release(Sample&& sample) noexcept {
    IPCKIT_ASSERT(sample.owner_ == nullptr || sample.owner_ == impl_.get(),
                  "release() of a sample from another subscriber");
    Sample dropped(std::move(sample));
}

Result<std::optional<Received>> Subscriber::receive_until(std::span<std::byte> out,
                                                          Deadline deadline) {
    SubscriberImpl::Got got;
    IPCKIT_TRY_ASSIGN(const bool took,
                      deadline == detail::kImmediately ? impl_->poll_checked(&out, got)
                                                       : impl_->wait(&out, deadline, got));
    if (!took) {
        return std::optional<Received>();
    }
    return std::optional<Received>(Received{got.size, got.lane, got.lost_before});
}

Result<std::optional<Received>> Subscriber::receive_until(std::vector<std::byte>& out,
                                                          Deadline deadline) {
    for (;;) {
        SubscriberImpl::Got got;
        std::span<std::byte> span(out);
        // The analyzer loses the Result's tag when an error is dropped on `continue` and reports
        // the Error's text as leaked; ~Result destroys it (tests/unit/core/result_test.cpp).
        // NOLINTNEXTLINE(clang-analyzer-cplusplus.NewDeleteLeaks)
        auto r = deadline == detail::kImmediately ? impl_->poll_checked(&span, got)
                                                       : impl_->wait(&span, deadline, got);
        if (!r) {
            // Too small: the record stays in place and got.size is its validated length.
            if (r.error() == std::errc::message_size && got.size > out.size()) {
                out.resize(got.size);
                continue;
            }
            return std::move(r).error();
        }
        if (!*r) {
            return std::optional<Received>();
        }
        return std::optional<Received>(Received{got.size, got.lane, got.lost_before});
    }
}

Result<std::optional<Received>> Subscriber::try_receive(std::span<std::byte> out) {
    return receive_until(out, detail::kImmediately);
}

std::uint64_t Subscriber::received_count() const noexcept { return impl_->received; }
std::uint64_t Subscriber::lost_count() const noexcept { return impl_->lost; }
std::uint64_t Subscriber::corrupt_count() const noexcept { return impl_->corrupt; }
std::size_t Subscriber::max_message_size() const noexcept { return impl_->file.geometry().max_message_size; }
std::uint32_t Subscriber::index() const noexcept { return impl_->index; }
Result<int> Subscriber::notification_fd() { return impl_->start_notifier(); }

}  // namespace ipckit
