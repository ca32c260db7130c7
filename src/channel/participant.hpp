// SPDX-License-Identifier: MIT
// Internals shared by the publisher and subscriber implementations.
#pragma once

#include "channel/channel_file.hpp"
#include "ipckit/channel/channel_config.hpp"
#include "ipckit/core/deadline.hpp"
#include "ipckit/core/unique_fd.hpp"
#include "ipckit/sync/futex.hpp"
#include "sync/fences.hpp"

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

namespace ipckit {
class Sample;
}

namespace ipckit::detail {

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield" ::: "memory");
#endif
}

/// A deadline that has always passed, made without reading the clock: the try_ calls use it so
/// the non-blocking fast path never calls clock_gettime.
inline constexpr Deadline kImmediately = Deadline::at(Deadline::Clock::time_point::min());
inline bool expired(Deadline d) noexcept { return d == kImmediately || d.expired(); }

/// Bumps `seq` and wakes every sleeper, but only if someone announced it sleeps (Dekker pair
/// with sleep_on: release store of the data, then this; see docs/design/channel.md).
inline void wake_sleepers(A32& seq, A32& sleepers) noexcept {
    full_fence();
    if (sleepers.load(std::memory_order_relaxed) != 0) {
        seq.fetch_add(1, std::memory_order_release);
        (void)Futex::wake_all(seq);
    }
}

/// Sleeps on `seq` unless ready() turns true after announcing the sleep. Returns ready()'s last
/// value or an error; false also when the deadline passed.
template <class Ready>
Result<bool> sleep_on(A32& seq, A32& sleepers, Deadline deadline, Ready&& ready) {
    sleepers.fetch_add(1, std::memory_order_seq_cst);
    full_fence();
    const std::uint32_t v = seq.load(std::memory_order_acquire);
    auto r = ready();
    if (!r || *r) {
        sleepers.fetch_sub(1, std::memory_order_relaxed);
        return r;
    }
    auto w = Futex::wait(seq, v, deadline);
    sleepers.fetch_sub(1, std::memory_order_relaxed);
    if (!w) {
        return std::move(w).error();
    }
    return false;
}

struct PublisherImpl {
    ChannelFile file;
    std::uint32_t lane = 0;
    PubRecord* rec = nullptr;
    std::byte* ring = nullptr;
    std::uint64_t mask = 0;
    std::uint64_t tail = 0;
    std::uint64_t floor = 0;
    std::uint64_t next_seq = 0;
    std::uint64_t limit = 0;  // block mode: positions below it may be written (cached)
    std::uint64_t published = 0;
    bool overwrite = false;
    bool loan_out = false;
    std::uint64_t loan_pos = 0;  // record position of the outstanding loan
    std::uint32_t spin_polls = 0;
    pid_t blocked_by = 0;

    explicit PublisherImpl(ChannelFile f) : file(std::move(f)) {}
    // Subscribers and loans point at it (and its record): it stays where it was made.
    PublisherImpl(const PublisherImpl&) = delete;
    PublisherImpl& operator=(const PublisherImpl&) = delete;
    PublisherImpl(PublisherImpl&&) = delete;
    PublisherImpl& operator=(PublisherImpl&&) = delete;
    ~PublisherImpl();
    Result<void> join();
    void recover_tail() noexcept;
    /// Overwrite mode: moves `floor` over the whole records that [.., end) will overwrite, so it
    /// stays on a record boundary (the oldest record intact) where a lapped subscriber resumes.
    void advance_floor(std::uint64_t end) noexcept;
    Result<std::optional<std::byte*>> reserve(std::size_t n, Deadline deadline);
    /// The common loan: no pad, space known to be free. nullptr: take reserve()'s path.
    std::byte* try_reserve_fast(std::size_t n) noexcept;
    /// Takes [tail, end) for a loan (writing the pad first, if any); returns the payload.
    std::byte* claim(std::uint64_t off, std::uint64_t pad, std::uint64_t end) noexcept;
    void commit(std::size_t n) noexcept;
    /// Recomputes `limit`; reclaims dead subscribers that held it back. Returns whether a live
    /// joining subscriber forces a wait.
    Result<void> recompute_limit(std::uint64_t needed_end, bool check_liveness);
    /// recompute_limit()'s end: every group's hold lowers `base`, then `limit` is set unless a
    /// joiner forces a wait.
    Result<void> finish_limit(std::uint64_t needed_end,
                              bool check_liveness,
                              std::uint64_t base,
                              bool joiner);
    /// The lowest of `h` and the positions member `m` of group `gi` holds on our lane.
    [[nodiscard]] std::uint64_t member_hold(std::uint32_t gi,
                                            std::uint32_t m,
                                            std::uint64_t h) const noexcept;
    /// Lowers `base` to a live work-queue group's hold on our lane; a joining member sets `joiner`.
    Result<void> group_hold(std::uint32_t gi,
                            std::uint64_t needed_end,
                            bool check_liveness,
                            std::uint64_t& base,
                            bool& joiner);
    /// A live subscriber's hold on our lane (our tail while it is joining or if it is corrupt).
    [[nodiscard]] std::uint64_t hold_of(std::uint32_t sub, std::uint32_t state) const noexcept;
    /// True if the subscriber is dead (its record is then reclaimed, by us or another cleaner).
    [[nodiscard]] Result<bool> reclaim_if_dead(std::uint32_t sub) const;
    /// reserve()'s errors: a loan already out, a size above max_message_size.
    [[nodiscard]] Result<void> check_loan(std::size_t n) const;
    enum class Space : std::uint8_t { Free, Short, Expired };
    /// One look at the space for [tail, end) (liveness checked every 1024 polls, at the end of
    /// the spin budget and at the deadline).
    Result<Space> recheck_space(std::uint64_t end, Deadline deadline, std::uint32_t spins);
    /// Block mode: waits until [tail, end) may be written; false when the deadline passed.
    Result<bool> wait_for_space(std::uint64_t end, Deadline deadline);
    /// One bounded sleep on the space futex (a 20 ms slice, to re-check liveness).
    Result<bool> sleep_for_space(std::uint64_t end, Deadline deadline);
};

struct SubscriberImpl {
    struct LaneState {
        std::uint64_t cursor = 0;
        std::uint32_t empty_polls = 0;  // empty looks at this lane (some check the tail)
        std::uint64_t hold = 0;         // value last stored in our shm hold slot
        std::uint64_t fenced_hold = 0;  // value last announced to sleeping publishers
        std::uint32_t expected = 0;     // message number of the next record (low 32 bits)
        std::uint64_t seq_pos = 0;  // where `expected` was learnt: the end of the last record taken
        bool seq_known = false;
    };
    struct Held {
        std::uint32_t lane;
        std::uint64_t pos;
    };
    ChannelFile file;
    std::uint32_t index = 0;
    SubRecordHead* rec = nullptr;
    std::vector<LaneState> lanes;
    std::vector<Held> held;
    std::uint32_t rr = 0;
    std::uint64_t mask = 0;
    bool overwrite = false;
    std::uint32_t spin_polls = 0;
    bool force_tail_check = false;
    std::uint64_t received = 0;
    std::uint64_t lost = 0;
    std::uint64_t corrupt = 0;

    // Opt-in readiness fd: an eventfd written by a helper thread that sleeps on the channel's
    // futex and compares the lanes' tails with a mirror of our cursors.
    UniqueFd event_fd;
    std::thread notifier;
    std::atomic<bool> stop_notifier{false};
    std::atomic<bool> signalled{false};
    std::unique_ptr<std::atomic<std::uint64_t>[]> cursor_mirror;

    explicit SubscriberImpl(ChannelFile f) : file(std::move(f)) {}
    // Samples and the notifier thread point at it: it stays where it was made.
    SubscriberImpl(const SubscriberImpl&) = delete;
    SubscriberImpl& operator=(const SubscriberImpl&) = delete;
    SubscriberImpl(SubscriberImpl&&) = delete;
    SubscriberImpl& operator=(SubscriberImpl&&) = delete;
    Result<int> start_notifier();
    void notifier_loop() noexcept;
    void stop_notifier_thread() noexcept;
    ~SubscriberImpl();
    Result<void> join();
    void release(std::uint32_t lane, std::uint64_t pos) noexcept;
    void update_hold(std::uint32_t lane, bool force = false) noexcept;
    void flush_holds() noexcept;
    /// One message from any lane; copies into `out` when given (else zero-copy).
    struct Got {
        const std::byte* data = nullptr;
        std::size_t size = 0;
        std::uint32_t lane = 0;
        std::uint64_t pos = 0;
        std::uint64_t lost_before = 0;
    };
    /// What one look at the lanes found. The hot path returns this plain enum instead of a
    /// Result<optional<Got>>: moving those through three calls was a third of a spin-mode round
    /// trip. The failures become an Error in poll_error(), off the hot path.
    enum class Polled : std::uint8_t { Empty, Got, CorruptHeader, Quota, TooSmall };
    Polled poll(std::span<std::byte>* out, Got& got) noexcept;
    /// The zero-copy Sample of a message poll() took (it holds the record until destroyed).
    Sample sample(const Got& got) noexcept;
    /// The zero-copy common case in one step: the next record of the round-robin lane is a
    /// plain, in-sequence message (Got), or the only lane has nothing new (Empty). Slow: anything
    /// else; nothing was changed and poll_inner() takes the full look.
    enum class Fast : std::uint8_t { Got, Empty, Slow };
    Fast poll_fast(Got& got) noexcept;
    Polled poll_inner(std::span<std::byte>* out, Got& got) noexcept;
    Polled poll_lane(std::uint32_t lane, std::span<std::byte>* out, Got& got) noexcept;
    /// The error for a failed poll (kTooSmall: got.size is the message's size).
    [[nodiscard]] Error poll_error(Polled p, const Got& got, const std::span<std::byte>* out) const;
    /// poll() with the failures as errors: true when a message was received.
    Result<bool> poll_checked(std::span<std::byte>* out, Got& got);
    /// Waits up to `deadline`: true when a message was received, false on timeout.
    Result<bool> wait(std::span<std::byte>* out, Deadline deadline, Got& got);
    void note_corrupt(LaneState& s, std::uint64_t tail) noexcept;
    /// A late joiner's start on a lane: the tail and the message number that goes with it, read
    /// so that a commit racing with the join cannot skew the loss count.
    void start_at_head(std::uint32_t lane) noexcept;

    // poll_lane()'s steps (hot: the inline ones stay in subscriber.cpp, always inlined).
    /// What the look at a lane's cursor found.
    enum class Look : std::uint8_t { Read, Retry, Stop };
    /// A committed record's header fields, each read once.
    struct Record {
        const std::byte* payload;
        std::uint32_t len;
        std::uint32_t seq;
        std::uint32_t gap;  // messages lost before it
        bool zero_copy;     // held as a Sample until released
    };
    /// Overwrite-mode lap check, then the stamp at the cursor (into `stamp`).
    Look look_at(LaneState& s, const PubRecord& p, const RecordHeader& h,
                 std::uint64_t& stamp) noexcept;
    /// No record at the cursor: the lane's tail tells "not yet" from overwritten or corrupt.
    Look check_tail(LaneState& s, const PubRecord& p, const RecordHeader& h,
                    std::uint64_t& stamp) noexcept;
    /// Counts a record that cannot be delimited and resynchronises to the tail if it is sane.
    void skip_to_tail(LaneState& s, const PubRecord& p) noexcept;
    /// Overwrite mode, lapped: moves the cursor to the oldest record still intact (the floor).
    Look resume_at_floor(LaneState& s, const PubRecord& p) const noexcept;
    /// The sequence checks of a record that can be delimited (`bad`: it cannot): false when it
    /// was skipped and counted; `gap` is the loss it reports.
    bool in_sequence(LaneState& s, const PubRecord& p, const Record& r, bool bad,
                     std::uint32_t& gap) noexcept;
    /// Accounts a delivered record and moves the cursor past it.
    void take(LaneState& s, std::uint32_t lane, const Record& r, Got& got) noexcept;
    Polled too_small(std::uint32_t lane, std::uint64_t start, std::uint32_t len, Got& got) noexcept;
};

/// Builds a PublisherImpl or SubscriberImpl on an opened channel file and registers it.
template <class Impl>
Result<std::unique_ptr<Impl>> make_participant(Result<ChannelFile> f, std::uint32_t spin_polls) {
    if (!f) {
        return std::move(f).error();
    }
    auto impl = std::make_unique<Impl>(std::move(*f));
    impl->overwrite =
        impl->file.geometry().policy == static_cast<std::uint32_t>(ChannelPolicy::Overwrite);
    impl->spin_polls = spin_polls;
    IPCKIT_TRY(impl->join());
    return impl;
}

}  // namespace ipckit::detail
