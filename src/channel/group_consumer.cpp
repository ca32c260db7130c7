// SPDX-License-Identifier: MIT
// Work queues: competing consumers of a channel (docs/design/patterns.md, "Work queue").
#include "ipckit/channel/group_consumer.hpp"

#include "channel/fault_point.hpp"
#include "channel/group_wait.hpp"
#include "channel/participant.hpp"
#include "ipckit/core/assert.hpp"
#include "sync/fences.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <thread>

namespace ipckit {

namespace detail {

namespace {
constexpr std::uint32_t kTailCheckPolls = 1024;
constexpr auto kIntactSlice = std::chrono::milliseconds(250);
constexpr auto kMutexWait = std::chrono::milliseconds(2000);
constexpr std::size_t kMaxGroupName = kGroupNameBytes - 1;

inline bool after(std::uint64_t a, std::uint64_t b) noexcept {
    return static_cast<std::int64_t>(a - b) > 0;
}
[[gnu::always_inline]] inline bool committed_at(std::uint64_t stamp, std::uint64_t pos) noexcept {
    return (stamp & ~kStampFlagMask) == pos && (stamp & kValidFlag) != 0;
}

// The reads of a record at the claim, each behind a fault point: a member paused before or
// between them (tests/multiprocess/channel/group_mp_test.cpp) may read a later lap's bytes.
[[gnu::always_inline]] inline std::uint64_t stamp_of(const RecordHeader& h) noexcept {
    IPCKIT_FAULT_POINT("chan.group.before_stamp");
    return h.stamp.load(std::memory_order_acquire);
}
[[gnu::always_inline]] inline std::uint32_t len_of(const RecordHeader& h) noexcept {
    IPCKIT_FAULT_POINT("chan.group.after_stamp");
    return h.len.load(std::memory_order_relaxed);
}

Error invalid(std::string object, std::string detail) {
    return {std::errc::invalid_argument, "chan group", std::move(object), std::move(detail)};
}

/// The group's name as stored (NUL padded; a name without NUL is cut at the field's end).
std::string stored_name(const GroupHead& g) {
    std::string s;
    for (const auto& c : g.name) {
        const char ch = c.load(std::memory_order_relaxed);
        if (ch == '\0') {
            break;
        }
        s += ch;
    }
    return s;
}
}  // namespace

Result<std::string> validate_group_name(std::string_view name) {
    if (name.empty() || name.size() > kMaxGroupName) {
        return invalid(std::string(name.substr(0, 64)), "group name length must be 1..63");
    }
    for (char c : name) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
        if (!ok) {
            return invalid(std::string(name), "group name characters must be [A-Za-z0-9._-]");
        }
    }
    return std::string(name);
}

struct GroupConsumerImpl {
    struct Slot {
        std::uint64_t pos = kNoPos;
        std::uint32_t lane = 0;
        std::uint32_t kind = NoEntry;
    };
    struct Got {
        const std::byte* data = nullptr;
        std::size_t size = 0;
        std::uint32_t slot = 0;
        std::uint32_t lane = 0;
        bool redelivered = false;
    };
    enum class Polled : std::uint8_t { Empty, Got, CorruptHeader, Quota, TooSmall };

    ChannelFile file;
    std::uint32_t gi = 0;
    std::uint32_t mi = 0;
    MemberHead* rec = nullptr;
    ipckit::GroupDelivery delivery = ipckit::GroupDelivery::AtLeastOnce;
    std::vector<std::uint64_t>
        seen;                   // per lane: the furthest claim we saw (a claim never goes back)
    std::vector<Slot> slots;    // our entries (the file's copy is only for others to read)
    std::uint32_t used = 0;     // slots in use
    std::uint32_t adopted = 0;  // of which adopted, not yet delivered
    std::uint32_t rr = 0;
    std::uint32_t empty_polls = 0;
    std::uint32_t releases = 0;
    std::uint64_t mask = 0;
    std::uint32_t spin_polls = 0;
    bool force_check = false;
    std::uint64_t received = 0;
    std::uint64_t redelivered = 0;
    std::uint64_t corrupt = 0;

    explicit GroupConsumerImpl(ChannelFile f) : file(std::move(f)) {}
    GroupConsumerImpl(const GroupConsumerImpl&) = delete;
    GroupConsumerImpl& operator=(const GroupConsumerImpl&) = delete;
    GroupConsumerImpl(GroupConsumerImpl&&) = delete;
    GroupConsumerImpl& operator=(GroupConsumerImpl&&) = delete;
    ~GroupConsumerImpl();

    Result<void> join(const std::string& group, const GroupOptions& options);
    Result<void> lock_table() const;
    Result<std::uint32_t> find_or_create(const std::string& group, const GroupOptions& options);
    [[nodiscard]] Result<std::uint32_t> take_member_record() const;
    /// With no other live member: the group restarts at the tails; dead members' entries lost.
    void restart_group() const;
    /// Frees the records of dead members of our group; at-least-once adopts what they held.
    Result<void> reclaim_dead();
    Result<void> reclaim_member(std::uint32_t m);
    /// One entry of a dead member (whose lock we hold): adopted, counted lost, or dropped.
    void take_over(MemberEntry& e) noexcept;
    void set_entry(std::uint32_t k,
                   std::uint32_t lane,
                   std::uint64_t pos,
                   std::uint32_t kind) noexcept;
    void clear_entry(std::uint32_t k) noexcept;
    [[nodiscard]] std::uint32_t free_slot() const noexcept;
    void count_corrupt() noexcept;
    void resync(std::uint32_t lane, std::uint64_t from, std::uint64_t to) noexcept;

    Polled poll(std::vector<std::byte>* out, Got& got) noexcept;
    Polled deliver_adopted(std::vector<std::byte>* out, Got& got) noexcept;
    Polled claim_lane(std::uint32_t lane, std::vector<std::byte>* out, Got& got) noexcept;
    enum class Next : std::uint8_t { Stop, Retry };
    /// No committed record at the claim `c`: not yet, or a forged claim (resynchronised).
    Next no_record(std::uint32_t lane, std::uint64_t& c, const RecordHeader& h) noexcept;
    /// The end of the committed record at `c` (0: it cannot be delimited).
    [[nodiscard]] std::uint64_t record_end(std::uint64_t c,
                                           std::uint64_t stamp,
                                           std::uint32_t len) const noexcept;
    Next bad_record(std::uint32_t lane, std::uint64_t& c) noexcept;
    /// True (and `c` reloaded) if the claim moved since `c` was read: what we read at `c` may
    /// be a later lap's bytes (another member took the record, the publisher overwrote it).
    bool claim_moved(std::uint32_t lane, std::uint64_t& c) const noexcept;
    /// True (and `c` reloaded after a counted resync) if the claim `c` cannot be genuine.
    bool forged_claim(std::uint32_t lane, std::uint64_t& c) noexcept;
    void skip_pad(std::uint32_t lane, std::uint64_t& c, std::uint64_t end) noexcept;
    /// Hands out (or copies and releases) the record at `pos` that slot `k` now holds.
    Polled hand_out(std::uint32_t k,
                    std::uint32_t lane,
                    std::uint64_t pos,
                    std::uint32_t len,
                    bool again,
                    std::vector<std::byte>* out,
                    Got& got) noexcept;
    void release(std::uint32_t k) noexcept;
    [[nodiscard]] Error poll_error(Polled p) const;
    GroupSample sample(const Got& got) noexcept {
        GroupSample s;
        s.owner_ = this;
        s.data_ = got.data;
        s.size_ = got.size;
        s.slot_ = got.slot;
        s.lane_ = got.lane;
        s.redelivered_ = got.redelivered;
        return s;
    }
    Result<bool> wait(std::vector<std::byte>* out, Deadline deadline, Got& got);
    /// One announced sleep (a slice at most): the final outcome, or empty to go on waiting.
    Result<std::optional<bool>> sleep_once(std::vector<std::byte>* out,
                                           Deadline deadline,
                                           Got& got);
    [[nodiscard]] Result<bool> outcome(Polled p) const;
};

GroupConsumerImpl::~GroupConsumerImpl() {
    if (rec == nullptr) {
        return;
    }
    if (used == 0) {
        rec->pid.store(0, std::memory_order_relaxed);
        rec->state.store(Free, std::memory_order_release);
    }
    // Else adopted messages not yet delivered remain: the record stays, and with the lock gone
    // it looks dead, so another member of the group adopts them.
    file.unlock(file.member_off(gi, mi));
    auto& h = file.header();
    wake_sleepers(h.space_seq, h.space_sleepers);  // we no longer hold anyone back
}

Result<void> GroupConsumerImpl::lock_table() const {
    const Deadline deadline = Deadline::after(kMutexWait);
    for (;;) {
        IPCKIT_TRY_ASSIGN(auto got, file.try_lock(file.group_table_lock_off()));
        if (got) {
            return {};
        }
        if (deadline.expired()) {
            return Error(std::errc::timed_out,
                         "chan group",
                         "chan:" + file.name(),
                         "the group table stayed locked by another process for 2 s");
        }
        std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
}

Result<std::uint32_t> GroupConsumerImpl::find_or_create(const std::string& group,
                                                        const GroupOptions& options) {
    const Geometry& g = file.geometry();
    std::uint32_t free_index = g.max_groups;
    for (std::uint32_t i = 0; i < g.max_groups; ++i) {
        GroupHead& h = file.group(i);
        const std::uint32_t st = h.state.load(std::memory_order_acquire);
        if (st != Active) {
            free_index = std::min(free_index, i);
            continue;
        }
        if (stored_name(h) != group) {
            continue;
        }
        const std::uint32_t d = h.delivery.load(std::memory_order_relaxed);
        if (d > AtMostOnceWord) {
            return file.corrupt("chan group", "group " + group + ": delivery=" + std::to_string(d));
        }
        if (options.delivery && static_cast<std::uint32_t>(*options.delivery) != d) {
            return invalid("chan:" + file.name(),
                           "group " + group + " exists with delivery " +
                               (d == AtMostOnceWord ? "at-most-once" : "at-least-once"));
        }
        delivery = static_cast<ipckit::GroupDelivery>(d);
        return i;
    }
    if (free_index == g.max_groups) {
        return Error(std::errc::resource_unavailable_try_again,
                     "chan group",
                     "chan:" + file.name(),
                     "all max_groups=" + std::to_string(g.max_groups) + " groups are in use");
    }
    GroupHead& h = file.group(free_index);
    delivery = options.delivery.value_or(ipckit::GroupDelivery::AtLeastOnce);
    h.delivery.store(static_cast<std::uint32_t>(delivery), std::memory_order_relaxed);
    std::size_t at = 0;
    for (auto& c : h.name) {
        c.store(at < group.size() ? group[at] : '\0', std::memory_order_relaxed);
        ++at;
    }
    for (A64* c : {&h.delivered, &h.redelivered, &h.lost, &h.corrupt}) {
        c->store(0, std::memory_order_relaxed);
    }
    for (std::uint32_t m = 0; m < g.max_group_members; ++m) {
        // A free group's member records are free (a member frees its record before its group
        // can be reused); a forged one is overwritten here under the table's mutex.
        file.member(free_index, m).state.store(Free, std::memory_order_relaxed);
        for (std::uint32_t k = 0; k < g.max_loans; ++k) {
            file.entry(free_index, m, k).pos.store(kNoPos, std::memory_order_relaxed);
        }
    }
    h.state.store(Active, std::memory_order_release);
    return free_index;
}

Result<std::uint32_t> GroupConsumerImpl::take_member_record() const {
    const Geometry& g = file.geometry();
    for (std::uint32_t m = 0; m < g.max_group_members; ++m) {
        if (file.member(gi, m).state.load(std::memory_order_acquire) != Free) {
            continue;  // live, or dead with entries someone must reclaim first
        }
        IPCKIT_TRY_ASSIGN(auto got, file.try_lock(file.member_off(gi, m)));
        if (got) {
            return m;
        }
    }
    return Error(std::errc::resource_unavailable_try_again,
                 "chan group",
                 "chan:" + file.name(),
                 "all max_group_members=" + std::to_string(g.max_group_members) +
                     " consumer records of the group are in use");
}

void GroupConsumerImpl::restart_group() const {
    const Geometry& g = file.geometry();
    GroupHead& h = file.group(gi);
    for (std::uint32_t m = 0; m < g.max_group_members; ++m) {
        if (m == mi || file.member(gi, m).state.load(std::memory_order_acquire) == Free) {
            continue;
        }
        auto got = file.try_lock(file.member_off(gi, m));
        if (!got || !*got) {
            continue;  // alive after all (it joined through another path): leave it
        }
        for (std::uint32_t k = 0; k < g.max_loans; ++k) {
            MemberEntry& e = file.entry(gi, m, k);
            if (e.pos.load(std::memory_order_relaxed) != kNoPos) {
                h.lost.fetch_add(1, std::memory_order_relaxed);
                e.pos.store(kNoPos, std::memory_order_relaxed);
            }
        }
        file.member(gi, m).state.store(Free, std::memory_order_release);
        file.unlock(file.member_off(gi, m));
    }
    // Like a new subscriber: start at the tails (the publisher did not wait for this group while
    // it had no live member, so older records may be overwritten).
    for (std::uint32_t l = 0; l < g.max_publishers; ++l) {
        file.claim(gi, l).store(file.pub(l).tail.load(std::memory_order_acquire) & ~kStampFlagMask,
                                std::memory_order_seq_cst);
    }
}

Result<void> GroupConsumerImpl::join(const std::string& group, const GroupOptions& options) {
    const Geometry& g = file.geometry();
    if (g.policy != static_cast<std::uint32_t>(ChannelPolicy::Block)) {
        return Error(std::errc::operation_not_supported,
                     "chan group",
                     "chan:" + file.name(),
                     "work-queue groups need a block-mode channel");
    }
    if (g.max_groups == 0) {
        return Error(std::errc::operation_not_supported,
                     "chan group",
                     "chan:" + file.name(),
                     "the channel was created with max_groups=0");
    }
    IPCKIT_TRY(lock_table());
    struct Unlock {
        const ChannelFile& f;
        explicit Unlock(const ChannelFile& owner) : f(owner) {}
        Unlock(const Unlock&) = delete;
        Unlock& operator=(const Unlock&) = delete;
        Unlock(Unlock&&) = delete;
        Unlock& operator=(Unlock&&) = delete;
        ~Unlock() { f.unlock(f.group_table_lock_off()); }
    } unlock(file);
    IPCKIT_TRY_ASSIGN(gi, find_or_create(group, options));
    // Is anyone else alive in it? (Under the mutex: no one else joins meanwhile.)
    bool others_live = false;
    for (std::uint32_t m = 0; m < g.max_group_members && !others_live; ++m) {
        if (file.member(gi, m).state.load(std::memory_order_acquire) == Free) {
            continue;
        }
        IPCKIT_TRY_ASSIGN(others_live, file.locked_by_other(file.member_off(gi, m)));
    }
    IPCKIT_TRY_ASSIGN(mi, take_member_record());
    MemberHead& r = file.member(gi, mi);
    // "joining" first: a block-mode publisher waits for a live joiner instead of computing a
    // limit from claims we are about to move (pairs with the publisher's fence before its scan).
    r.state.store(Joining, std::memory_order_seq_cst);
    r.pid.store(static_cast<std::uint32_t>(::getpid()), std::memory_order_relaxed);
    r.entries.store(0, std::memory_order_relaxed);
    r.received.store(0, std::memory_order_relaxed);
    r.redelivered.store(0, std::memory_order_relaxed);
    for (std::uint32_t k = 0; k < g.max_loans; ++k) {
        file.entry(gi, mi, k).pos.store(kNoPos, std::memory_order_relaxed);
    }
    full_fence();
    if (!others_live) {
        restart_group();
    }
    mask = g.lane_bytes - 1;
    slots.assign(g.max_loans, Slot{});
    seen.assign(g.max_publishers, 0);
    for (std::uint32_t l = 0; l < g.max_publishers; ++l) {
        seen[l] = file.claim(gi, l).load(std::memory_order_acquire);
    }
    rec = &r;
    r.state.store(Active, std::memory_order_release);
    auto& hd = file.header();
    wake_sleepers(hd.space_seq, hd.space_sleepers);
    if (others_live) {
        IPCKIT_TRY(reclaim_dead());
    }
    return {};
}

void GroupConsumerImpl::set_entry(std::uint32_t k,
                                  std::uint32_t lane,
                                  std::uint64_t pos,
                                  std::uint32_t kind) noexcept {
    MemberEntry& e = file.entry(gi, mi, k);
    e.lane.store(lane, std::memory_order_relaxed);
    e.kind.store(kind, std::memory_order_relaxed);
    // seq_cst: a publisher that sees the claim moved past `pos` sees this entry holding it.
    e.pos.store(pos, std::memory_order_seq_cst);
    if (slots[k].kind == NoEntry) {
        ++used;
    }
    slots[k] = Slot{pos, lane, kind};
}

void GroupConsumerImpl::clear_entry(std::uint32_t k) noexcept {
    file.entry(gi, mi, k).pos.store(kNoPos, std::memory_order_release);
    if (slots[k].kind != NoEntry) {
        --used;
    }
    slots[k] = Slot{};
}

std::uint32_t GroupConsumerImpl::free_slot() const noexcept {
    for (std::uint32_t k = 0; k < slots.size(); ++k) {
        if (slots[k].kind == NoEntry) {
            return k;
        }
    }
    return static_cast<std::uint32_t>(slots.size());
}

void GroupConsumerImpl::count_corrupt() noexcept {
    ++corrupt;
    file.group(gi).corrupt.fetch_add(1, std::memory_order_relaxed);
}

void GroupConsumerImpl::resync(std::uint32_t lane, std::uint64_t from, std::uint64_t to) noexcept {
    count_corrupt();
    std::uint64_t expected = from;
    (void)file.claim(gi, lane).compare_exchange_strong(expected, to, std::memory_order_seq_cst);
    if (after(to, seen[lane])) {
        seen[lane] = to;
    }
}

Result<void> GroupConsumerImpl::reclaim_dead() {
    const Geometry& g = file.geometry();
    for (std::uint32_t m = 0; m < g.max_group_members; ++m) {
        if (m == mi || file.member(gi, m).state.load(std::memory_order_acquire) == Free) {
            continue;
        }
        IPCKIT_TRY_ASSIGN(auto alive, file.locked_by_other(file.member_off(gi, m)));
        if (!alive) {
            IPCKIT_TRY(reclaim_member(m));
        }
    }
    return {};
}

Result<void> GroupConsumerImpl::reclaim_member(std::uint32_t m) {
    const Geometry& g = file.geometry();
    // Count what it holds; adopt only if all of it fits (else a later look does it).
    std::uint32_t holding = 0;
    for (std::uint32_t k = 0; k < g.max_loans; ++k) {
        holding += file.entry(gi, m, k).pos.load(std::memory_order_acquire) != kNoPos ? 1U : 0U;
    }
    if (delivery == ipckit::GroupDelivery::AtLeastOnce &&
        holding > static_cast<std::uint32_t>(slots.size()) - used) {
        return {};
    }
    IPCKIT_TRY_ASSIGN(auto got, file.try_lock(file.member_off(gi, m)));
    if (!got) {
        return {};  // another member is reclaiming it
    }
    for (std::uint32_t k = 0; k < g.max_loans; ++k) {
        take_over(file.entry(gi, m, k));
    }
    file.member(gi, m).pid.store(0, std::memory_order_relaxed);
    file.member(gi, m).state.store(Free, std::memory_order_release);
    file.unlock(file.member_off(gi, m));
    rec->entries.store(used, std::memory_order_relaxed);
    return {};
}

void GroupConsumerImpl::take_over(MemberEntry& e) noexcept {
    const std::uint64_t pos = e.pos.load(std::memory_order_acquire);
    if (pos == kNoPos) {
        return;
    }
    const std::uint32_t lane = e.lane.load(std::memory_order_relaxed);
    const std::uint32_t kind = e.kind.load(std::memory_order_relaxed);
    if (lane >= file.geometry().max_publishers || (pos & kStampFlagMask) != 0 || kind == NoEntry ||
        kind > Adopted) {
        count_corrupt();  // forged: nothing to give back
        e.pos.store(kNoPos, std::memory_order_relaxed);
        return;
    }
    // A pending entry is a claim it may not have won: held only if the claim moved past it
    // (the one ambiguity is documented in patterns.md).
    const bool held =
        kind != Pending || after(file.claim(gi, lane).load(std::memory_order_acquire), pos);
    if (held && delivery == ipckit::GroupDelivery::AtMostOnce) {
        file.group(gi).lost.fetch_add(1, std::memory_order_relaxed);
    } else if (held) {
        const std::uint32_t mine = free_slot();
        IPCKIT_ASSERT(mine < slots.size(), "adoption without a free slot");
        set_entry(mine, lane, pos, Adopted);  // ours before it is not theirs
        ++adopted;
    }
    e.pos.store(kNoPos, std::memory_order_release);
}

GroupConsumerImpl::Polled GroupConsumerImpl::hand_out(std::uint32_t k,
                                                      std::uint32_t lane,
                                                      std::uint64_t pos,
                                                      std::uint32_t len,
                                                      bool again,
                                                      std::vector<std::byte>* out,
                                                      Got& got) noexcept {
    const std::byte* payload = file.lane(lane) + (pos & mask) + kRecordHeaderBytes;
    ++received;
    rec->received.store(received, std::memory_order_relaxed);
    if (again) {
        ++redelivered;
        rec->redelivered.store(redelivered, std::memory_order_relaxed);
        file.group(gi).redelivered.fetch_add(1, std::memory_order_relaxed);
    }
    got = Got{payload, len, k, lane, again};
    if (out != nullptr) {
        if (out->size() < len) {
            out->resize(len);  // a validated length of a record in the ring
        }
        if (len != 0) {
            std::memcpy(out->data(), payload, len);
        }
        release(k);
    }
    return Polled::Got;
}

GroupConsumerImpl::Polled GroupConsumerImpl::deliver_adopted(std::vector<std::byte>* out,
                                                             Got& got) noexcept {
    const Geometry& g = file.geometry();
    for (std::uint32_t k = 0; k < slots.size(); ++k) {
        if (slots[k].kind != Adopted) {
            continue;
        }
        --adopted;
        const Slot s = slots[k];
        // It came from another process's record: validated like any position read from the file.
        const auto& h =
            *reinterpret_cast<const RecordHeader*>(file.lane(s.lane) + (s.pos & mask));  // NOLINT
        const std::uint64_t stamp = h.stamp.load(std::memory_order_acquire);
        const std::uint32_t len = h.len.load(std::memory_order_relaxed);
        const std::uint64_t tail = file.pub(s.lane).tail.load(std::memory_order_acquire);
        const std::uint64_t claim = file.claim(gi, s.lane).load(std::memory_order_acquire);
        const bool ok = committed_at(stamp, s.pos) && (stamp & (kPadFlag | kUnknownFlags)) == 0 &&
                        len <= g.max_message_size &&
                        (s.pos & mask) + record_bytes(len) <= g.lane_bytes && after(claim, s.pos) &&
                        !after(s.pos, tail) && tail - s.pos <= g.lane_bytes;
        if (!ok) {
            count_corrupt();
            clear_entry(k);
            continue;
        }
        file.entry(gi, mi, k).kind.store(Held, std::memory_order_relaxed);
        slots[k].kind = Held;
        return hand_out(k, s.lane, s.pos, len, true, out, got);
    }
    return Polled::Empty;
}

GroupConsumerImpl::Next GroupConsumerImpl::no_record(std::uint32_t lane,
                                                     std::uint64_t& c,
                                                     const RecordHeader& h) noexcept {
    // Not yet, or a claim that is not a record of this lap. The tail (the writer's line) tells
    // them apart: only every kTailCheckPolls-th empty look and before sleeping.
    if (++empty_polls % kTailCheckPolls != 0 && !force_check) {
        return Next::Stop;
    }
    const std::uint64_t lane_bytes = file.geometry().lane_bytes;
    const std::uint64_t t = file.pub(lane).tail.load(std::memory_order_acquire);
    if ((t & kStampFlagMask) != 0 || t == c) {
        return Next::Stop;  // a corrupt tail (its owner's next commit rewrites it), or nothing new
    }
    // A claim may run ahead of the stored tail by records committed before their tail store,
    // never by more than a lane; nor can it fall a lane behind (the publisher waits for it).
    const bool ahead = after(c, t);
    if (ahead && c - t <= lane_bytes) {
        return Next::Stop;
    }
    if (!ahead && t - c <= lane_bytes && committed_at(h.stamp.load(std::memory_order_acquire), c)) {
        return Next::Retry;  // committed meanwhile
    }
    if (claim_moved(lane, c)) {
        return Next::Retry;  // stale, not forged
    }
    resync(lane, c, t);  // forged: out of range, or committed per the tail yet no record
    c = file.claim(gi, lane).load(std::memory_order_acquire);
    return Next::Retry;
}

std::uint64_t GroupConsumerImpl::record_end(std::uint64_t c,
                                            std::uint64_t stamp,
                                            std::uint32_t len) const noexcept {
    const Geometry& g = file.geometry();
    const std::uint64_t off = c & mask;
    if ((stamp & kUnknownFlags) != 0) {
        return 0;
    }
    if ((stamp & kPadFlag) != 0) {  // a pad runs exactly to the ring's end
        return off + kRecordHeaderBytes + len == g.lane_bytes ? c + kRecordHeaderBytes + len : 0;
    }
    return len <= g.max_message_size && off + record_bytes(len) <= g.lane_bytes
               ? c + record_bytes(len)
               : 0;
}

GroupConsumerImpl::Next GroupConsumerImpl::bad_record(std::uint32_t lane,
                                                      std::uint64_t& c) noexcept {
    // A record that cannot be delimited: skip to the tail if it is sane.
    if (claim_moved(lane, c)) {
        return Next::Retry;  // stale, not forged
    }
    const std::uint64_t t = file.pub(lane).tail.load(std::memory_order_acquire);
    if (!after(t, c) || t - c > file.geometry().lane_bytes || (t & kStampFlagMask) != 0) {
        count_corrupt();
        return Next::Stop;
    }
    resync(lane, c, t);
    c = file.claim(gi, lane).load(std::memory_order_acquire);
    return Next::Retry;
}

bool GroupConsumerImpl::claim_moved(std::uint32_t lane, std::uint64_t& c) const noexcept {
    // After the reads at `c`: a claim still at `c` vouches for them (the publisher never
    // overwrites the record at the claim); one that moved does not.
    acquire_fence();  // sync/fences.hpp: TSan refuses std::atomic_thread_fence
    const std::uint64_t now = file.claim(gi, lane).load(std::memory_order_seq_cst);
    if (now == c) {
        return false;
    }
    c = now;
    return true;
}

bool GroupConsumerImpl::forged_claim(std::uint32_t lane, std::uint64_t& c) noexcept {
    if ((c & kStampFlagMask) == 0 && !after(seen[lane], c)) {
        return false;
    }
    // Not a record boundary, or gone backwards: forged. Resume where we know it was.
    const std::uint64_t t = file.pub(lane).tail.load(std::memory_order_acquire);
    resync(lane, c, after(seen[lane], t) || (t & kStampFlagMask) != 0 ? seen[lane] : t);
    c = file.claim(gi, lane).load(std::memory_order_acquire);
    return true;
}

void GroupConsumerImpl::skip_pad(std::uint32_t lane, std::uint64_t& c, std::uint64_t end) noexcept {
    // A pad carries no message: moved over by the same CAS, with no entry.
    if (file.claim(gi, lane).compare_exchange_strong(c, end, std::memory_order_seq_cst)) {
        c = end;
        seen[lane] = end;
    }
}

GroupConsumerImpl::Polled GroupConsumerImpl::claim_lane(std::uint32_t lane,
                                                        std::vector<std::byte>* out,
                                                        Got& got) noexcept {
    A64& cw = file.claim(gi, lane);
    const std::byte* ring = file.lane(lane);
    std::uint64_t c = cw.load(std::memory_order_acquire);
    const std::uint32_t k = free_slot();
    Next next_step = Next::Retry;
    for (int attempt = 0; attempt < 64 && next_step == Next::Retry; ++attempt) {
        if (forged_claim(lane, c)) {
            continue;
        }
        const auto& h = *reinterpret_cast<const RecordHeader*>(ring + (c & mask));  // NOLINT
        const std::uint64_t stamp = stamp_of(h);
        if (!committed_at(stamp, c)) {
            next_step = no_record(lane, c, h);
            continue;
        }
        const std::uint32_t len = len_of(h);
        const std::uint64_t end = record_end(c, stamp, len);
        if (end == 0) {
            next_step = bad_record(lane, c);
            continue;
        }
        if ((stamp & kPadFlag) != 0) {
            skip_pad(lane, c, end);
            continue;
        }
        // Announce the claim before making it: a publisher that sees the claim past `c` also
        // sees this entry holding the record.
        set_entry(k, lane, c, Pending);
        if (cw.compare_exchange_strong(c, end, std::memory_order_seq_cst)) {
            IPCKIT_FAULT_POINT("chan.group.after_claim");
            file.entry(gi, mi, k).kind.store(Held, std::memory_order_release);
            slots[k].kind = Held;
            seen[lane] = end;
            rec->entries.store(used, std::memory_order_relaxed);
            return hand_out(k, lane, end - record_bytes(len), len, false, out, got);
        }
        // Another consumer took it; `c` is the claim now.
    }
    if (slots[k].kind != NoEntry) {
        clear_entry(k);
    }
    return Polled::Empty;
}

GroupConsumerImpl::Polled GroupConsumerImpl::poll(std::vector<std::byte>* out, Got& got) noexcept {
    if (!file.header_ok() || file.faulted()) [[unlikely]] {
        return Polled::CorruptHeader;
    }
    if (used >= slots.size()) {
        return adopted != 0 ? deliver_adopted(out, got) : Polled::Quota;
    }
    if (adopted != 0) {
        if (deliver_adopted(out, got) == Polled::Got) {
            return Polled::Got;
        }
    }
    const Geometry& g = file.geometry();
    const std::uint32_t hw =
        std::min(file.header().lanes_hw.load(std::memory_order_acquire), g.max_publishers);
    std::uint32_t lane = rr < hw ? rr : 0;
    for (std::uint32_t n = 0; n < hw; ++n) {
        if (claim_lane(lane, out, got) == Polled::Got) {
            rr = lane + 1;
            return Polled::Got;
        }
        lane = lane + 1 == hw ? 0 : lane + 1;
    }
    return Polled::Empty;
}

void GroupConsumerImpl::release(std::uint32_t k) noexcept {
    clear_entry(k);
    rec->entries.store(used, std::memory_order_relaxed);
    // The fence of the sleep/wake pair costs as much as the rest of a receive: paid when a
    // publisher is seen asleep and every 64th release (as a subscriber's quarter lane); a
    // publisher that misses a release re-checks within its 20 ms liveness slice.
    auto& h = file.header();
    if (++releases % 64 == 0 || h.space_sleepers.load(std::memory_order_relaxed) != 0) {
        wake_sleepers(h.space_seq, h.space_sleepers);
    }
}

Error GroupConsumerImpl::poll_error(Polled p) const {
    if (p == Polled::CorruptHeader) {
        if (auto intact = file.check_intact(); !intact) {
            return std::move(intact).error();
        }
        auto r = file.check_header();
        return r ? file.corrupt("chan group receive", "header changed while in use")
                 : std::move(r).error();
    }
    return {std::errc::no_buffer_space,
            "chan group receive",
            "chan:" + file.name(),
            "this consumer holds " + std::to_string(used) + "/" + std::to_string(slots.size()) +
                " samples (max_loans); release one"};
}

Result<bool> GroupConsumerImpl::outcome(Polled p) const {
    if (p == Polled::Got || p == Polled::Empty) {
        return p == Polled::Got;
    }
    return poll_error(p);
}

Result<bool> GroupConsumerImpl::wait(std::vector<std::byte>* out, Deadline deadline, Got& got) {
    for (std::uint32_t i = 0;; ++i) {
        const Polled p = poll(out, got);
        if (p != Polled::Empty || expired(deadline)) {
            return outcome(p);
        }
        if (i >= spin_polls) {
            break;
        }
        cpu_relax();
    }
    for (;;) {
        IPCKIT_TRY_ASSIGN(auto done, sleep_once(out, deadline, got));
        if (done) {
            return *done;
        }
    }
}

Result<std::optional<bool>> GroupConsumerImpl::sleep_once(std::vector<std::byte>* out,
                                                          Deadline deadline,
                                                          Got& got) {
    IPCKIT_TRY(reclaim_dead());  // a dead member's messages must not wait for ever
    auto& h = file.header();
    wake_sleepers(h.space_seq,
                  h.space_sleepers);  // running dry: our acks reach a waiting publisher
    h.data_sleepers.fetch_add(1, std::memory_order_seq_cst);
    full_fence();
    const std::uint32_t v = h.data_seq.load(std::memory_order_acquire);
    force_check = true;
    const Polled p = poll(out, got);
    force_check = false;
    if (p != Polled::Empty || expired(deadline)) {
        h.data_sleepers.fetch_sub(1, std::memory_order_relaxed);
        IPCKIT_TRY_ASSIGN(const bool took, outcome(p));
        return std::optional<bool>(took);
    }
    auto intact = file.check_intact();
    if (!intact) {
        h.data_sleepers.fetch_sub(1, std::memory_order_relaxed);
        return std::move(intact).error();
    }
    // In slices: a file removed or truncated under us wakes nobody.
    Deadline slice = Deadline::after(kIntactSlice);
    if (deadline < slice) {
        slice = deadline;
    }
    auto w = Futex::wait(h.data_seq, v, slice);
    h.data_sleepers.fetch_sub(1, std::memory_order_relaxed);
    if (!w) {
        return std::move(w).error();
    }
    return std::optional<bool>();
}

ChannelFile& group_file(GroupConsumerImpl& g) noexcept {
    return g.file;
}

bool group_ready(const GroupConsumerImpl& g) noexcept {
    if (g.adopted != 0) {
        return true;
    }
    const ChannelFile& f = g.file;
    const std::uint32_t hw =
        std::min(f.header().lanes_hw.load(std::memory_order_acquire), f.geometry().max_publishers);
    for (std::uint32_t l = 0; l < hw; ++l) {
        if (f.pub(l).tail.load(std::memory_order_acquire) !=
            f.claim(g.gi, l).load(std::memory_order_acquire)) {
            return true;
        }
    }
    return false;
}

Result<void> group_before_sleep(GroupConsumerImpl& g) {
    IPCKIT_TRY(g.reclaim_dead());
    auto& h = g.file.header();
    wake_sleepers(h.space_seq, h.space_sleepers);
    return {};
}

}  // namespace detail

using detail::GroupConsumerImpl;

GroupSample& GroupSample::operator=(GroupSample&& o) noexcept {
    if (this != &o) {
        if (owner_ != nullptr) {
            release();
        }
        owner_ = std::exchange(o.owner_, nullptr);
        data_ = o.data_;
        size_ = o.size_;
        slot_ = o.slot_;
        lane_ = o.lane_;
        redelivered_ = o.redelivered_;
    }
    return *this;
}

void GroupSample::release() noexcept {
    if (owner_ != nullptr) {
        owner_->release(slot_);
        owner_ = nullptr;
    }
}

GroupConsumer::GroupConsumer(std::unique_ptr<GroupConsumerImpl> impl) noexcept
    : impl_(std::move(impl)) {}
GroupConsumer::GroupConsumer(GroupConsumer&& other) noexcept = default;
GroupConsumer& GroupConsumer::operator=(GroupConsumer&& other) noexcept = default;
GroupConsumer::~GroupConsumer() = default;

Result<std::string> GroupConsumer::validate_group_name(std::string_view group) {
    return detail::validate_group_name(group);
}

Result<GroupConsumer> GroupConsumer::open(std::string_view channel,
                                          std::string_view group,
                                          const GroupOptions& options) {
    IPCKIT_TRY_ASSIGN(auto name, detail::validate_group_name(group));
    IPCKIT_TRY_ASSIGN(
        auto f, detail::ChannelFile::open(channel, options.channel, detail::Role::Subscriber));
    auto impl = std::make_unique<GroupConsumerImpl>(std::move(f));
    impl->spin_polls = options.channel.spin_polls;
    IPCKIT_TRY(impl->join(name, options));
    return GroupConsumer(std::move(impl));
}

Result<std::optional<GroupSample>> GroupConsumer::try_receive() {
    return receive_until(detail::kImmediately);
}

Result<std::optional<GroupSample>> GroupConsumer::receive_until(Deadline deadline) {
    GroupConsumerImpl::Got got;
    // The analyzer loses the Result's tag on the early return and reports the Error's text as
    // leaked; ~Result destroys it (as in Subscriber::receive_until).
    // NOLINTNEXTLINE(clang-analyzer-cplusplus.NewDeleteLeaks)
    IPCKIT_TRY_ASSIGN(const bool took, impl_->wait(nullptr, deadline, got));
    if (!took) {
        return std::optional<GroupSample>();
    }
    return std::optional<GroupSample>(impl_->sample(got));
}

Result<std::optional<GroupReceived>> GroupConsumer::receive_until(std::vector<std::byte>& out,
                                                                  Deadline deadline) {
    GroupConsumerImpl::Got got;
    // NOLINTNEXTLINE(clang-analyzer-cplusplus.NewDeleteLeaks): as above
    IPCKIT_TRY_ASSIGN(const bool took, impl_->wait(&out, deadline, got));
    if (!took) {
        return std::optional<GroupReceived>();
    }
    return std::optional<GroupReceived>(GroupReceived{got.size, got.lane, got.redelivered});
}

std::uint64_t GroupConsumer::received_count() const noexcept {
    return impl_->received;
}
std::uint64_t GroupConsumer::redelivered_count() const noexcept {
    return impl_->redelivered;
}
std::uint64_t GroupConsumer::corrupt_count() const noexcept {
    return impl_->corrupt;
}
std::size_t GroupConsumer::max_message_size() const noexcept {
    return static_cast<std::size_t>(impl_->file.geometry().max_message_size);
}

GroupDelivery GroupConsumer::delivery() const noexcept {
    return impl_->delivery;
}
std::uint32_t GroupConsumer::group_index() const noexcept {
    return impl_->gi;
}
std::uint32_t GroupConsumer::member_index() const noexcept {
    return impl_->mi;
}

}  // namespace ipckit
