// SPDX-License-Identifier: MIT
#include "ipckit/channel/publisher.hpp"

#include "channel/fault_point.hpp"
#include "channel/participant.hpp"
#include "event/doorbell.hpp"
#include "ipckit/core/assert.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace ipckit {

namespace detail {

namespace {
constexpr auto kLivenessSlice = std::chrono::milliseconds(20);
inline bool after(std::uint64_t a, std::uint64_t b) noexcept {
    return static_cast<std::int64_t>(a - b) > 0;
}
}  // namespace

PublisherImpl::~PublisherImpl() {
    if (rec != nullptr) {
        rec->pid.store(0, std::memory_order_relaxed);
        rec->state.store(Free, std::memory_order_release);
        file.unlock(file.pub_lock_off(lane));
    }
}

Result<void> PublisherImpl::join() {
    const Geometry& g = file.geometry();
    std::uint32_t i = 0;
    for (; i < g.max_publishers; ++i) {
        IPCKIT_TRY_ASSIGN(auto got, file.try_lock(file.pub_lock_off(i)));
        if (got) {
            break;
        }
    }
    if (i == g.max_publishers) {
        return Error(std::errc::resource_unavailable_try_again, "chan publisher",
                     "chan:" + file.name(),
                     "all max_publishers=" + std::to_string(g.max_publishers) +
                         " publisher records are held by live publishers");
    }
    lane = i;
    PubRecord& r = file.pub(i);
    // The lock makes us the only writer; a previous owner (dead, or closed) left its committed
    // tail, which we continue from so subscribers' cursors stay valid.
    const std::uint64_t t = r.tail.load(std::memory_order_acquire);
    std::uint64_t f = r.floor.load(std::memory_order_relaxed);
    if ((t & kStampFlagMask) != 0 || (overwrite && after(f, t))) {
        file.unlock(file.pub_lock_off(i));
        return file.corrupt("chan publisher",
                            "lane " + std::to_string(i) + ": tail=" + std::to_string(t) +
                                " floor=" + std::to_string(f));
    }
    if ((f & kStampFlagMask) != 0 || t - f > g.lane_bytes) {
        f = t;  // not a record boundary within a lane of the tail: nothing older is trusted
    }
    tail = t;
    floor = f;
    next_seq = r.next_seq.load(std::memory_order_relaxed);
    mask = g.lane_bytes - 1;
    ring = file.lane(i);
    recover_tail();
    if (tail != t) {
        r.next_seq.store(next_seq, std::memory_order_relaxed);
        r.tail.store(tail, std::memory_order_release);
    }
    published = 0;
    limit = tail;  // forces a scan of the subscribers before the first write
    r.generation.fetch_add(1, std::memory_order_relaxed);
    r.pid.store(static_cast<std::uint32_t>(::getpid()), std::memory_order_relaxed);
    r.state.store(Active, std::memory_order_release);
    rec = &r;
    A32& hw = file.header().lanes_hw;
    std::uint32_t cur = hw.load(std::memory_order_relaxed);
    while (cur < i + 1 && !hw.compare_exchange_weak(cur, i + 1, std::memory_order_release)) {
    }
    return {};
}

void PublisherImpl::recover_tail() noexcept {
    // Walk committed records past the stored tail (a previous owner died between its commit and
    // its tail store). Bounded by one lane; stops at the first position not stamped with itself.
    const std::uint64_t lane_bytes = file.geometry().lane_bytes;
    const std::uint64_t start = tail;
    while (tail - start < lane_bytes) {
        const std::uint64_t off = tail & mask;
        const auto* h = reinterpret_cast<const RecordHeader*>(ring + off);  // NOLINT
        const std::uint64_t stamp = h->stamp.load(std::memory_order_acquire);
        const std::uint32_t len = h->len.load(std::memory_order_relaxed);
        if ((stamp & ~kStampFlagMask) != tail || (stamp & kValidFlag) == 0 ||
            (stamp & kUnknownFlags) != 0) {
            break;
        }
        if ((stamp & kPadFlag) != 0) {
            if (off + kRecordHeaderBytes + len != lane_bytes) {
                break;
            }
            tail += kRecordHeaderBytes + len;
            continue;
        }
        if (len > file.geometry().max_message_size || off + record_bytes(len) > lane_bytes) {
            break;
        }
        const std::uint32_t seq = h->seq.load(std::memory_order_relaxed);
        next_seq += static_cast<std::uint32_t>(seq + 1 - static_cast<std::uint32_t>(next_seq));
        tail += record_bytes(len);
    }
}

void PublisherImpl::advance_floor(std::uint64_t end) noexcept {
    // Walk our own records from the floor to the first one that [.., end) leaves intact. Bounded:
    // each step passes at least 16 bytes, and the walk stops at the tail (where this loan
    // starts) or at anything that is not a record we committed (then nothing older is trusted).
    const std::uint64_t need = end - file.geometry().lane_bytes;
    std::uint64_t f = floor;
    while (after(need, f)) {
        if (!after(tail, f)) {
            f = tail;
            break;
        }
        const auto* h = reinterpret_cast<const RecordHeader*>(ring + (f & mask));  // NOLINT
        const std::uint64_t stamp = h->stamp.load(std::memory_order_relaxed);
        const std::uint64_t len = h->len.load(std::memory_order_relaxed);
        const std::uint64_t size =
            (stamp & kPadFlag) != 0 ? kRecordHeaderBytes + len : record_bytes(len);
        if ((stamp & ~kStampFlagMask) != f || (stamp & kValidFlag) == 0 || size > tail - f) {
            f = tail;
            break;
        }
        f += size;
    }
    // Seqlock: announce what we are about to overwrite before writing a byte of it.
    floor = f;
    rec->floor.store(floor, std::memory_order_relaxed);
    full_fence();
}

std::uint64_t PublisherImpl::hold_of(std::uint32_t sub, std::uint32_t state) const noexcept {
    if (state != Active) {
        return tail;  // joining: has posted no cursor yet
    }
    const std::uint64_t h = file.hold(sub, lane).load(std::memory_order_acquire);
    return after(h, tail) ? tail : h;  // ahead of what we wrote: corrupt; cannot hold anything back
}

Result<bool> PublisherImpl::reclaim_if_dead(std::uint32_t sub) const {
    IPCKIT_TRY_ASSIGN(auto alive, file.locked_by_other(file.sub_lock_off(sub)));
    if (alive) {
        return false;
    }
    // Dead: reclaim its record under its lock (exactly one cleaner gets it).
    auto got = file.try_lock(file.sub_lock_off(sub));
    if (got && *got) {
        file.sub(sub).state.store(Free, std::memory_order_release);
        file.unlock(file.sub_lock_off(sub));
    }
    return true;
}

Result<void> PublisherImpl::recompute_limit(std::uint64_t needed_end, bool check_liveness) {
    const Geometry& g = file.geometry();
    // Pairs with the subscriber's fence between "state = joining" and reading our tail.
    full_fence();
    std::uint64_t base = tail;
    bool joiner = false;
    blocked_by = 0;
    for (std::uint32_t i = 0; i < g.max_subscribers; ++i) {
        SubRecordHead& s = file.sub(i);
        const std::uint32_t st = s.state.load(std::memory_order_acquire);
        if (st != Joining && st != Active) {
            continue;  // free (or garbage: a hostile value is treated as free)
        }
        const std::uint64_t h = hold_of(i, st);
        if (st == Joining || after(needed_end, h + g.lane_bytes)) {
            // It holds us back. Liveness (a system call) only when asked.
            if (check_liveness) {
                IPCKIT_TRY_ASSIGN(auto dead, reclaim_if_dead(i));
                if (dead) {
                    continue;
                }
            }
            blocked_by = static_cast<pid_t>(s.pid.load(std::memory_order_relaxed));
            joiner = joiner || st == Joining;
        }
        if (st == Active && after(base, h)) {
            base = h;
        }
    }
    return finish_limit(needed_end, check_liveness, base, joiner);
}

Result<void> PublisherImpl::finish_limit(std::uint64_t needed_end,
                                         bool check_liveness,
                                         std::uint64_t base,
                                         bool joiner) {
    for (std::uint32_t gi = 0; gi < file.geometry().max_groups; ++gi) {
        IPCKIT_TRY(group_hold(gi, needed_end, check_liveness, base, joiner));
    }
    if (!joiner) {
        limit = base + file.geometry().lane_bytes;
    }
    return {};
}

std::uint64_t PublisherImpl::member_hold(std::uint32_t gi,
                                         std::uint32_t m,
                                         std::uint64_t h) const noexcept {
    for (std::uint32_t k = 0; k < file.geometry().max_loans; ++k) {
        const MemberEntry& e = file.entry(gi, m, k);
        const std::uint64_t pos = e.pos.load(std::memory_order_seq_cst);
        if (pos == kNoPos || e.lane.load(std::memory_order_relaxed) != lane) {
            continue;
        }
        if (!after(pos, tail) && after(h, pos)) {
            h = pos;  // (a position ahead of our tail is forged: ignored)
        }
    }
    return h;
}

Result<void> PublisherImpl::group_hold(std::uint32_t gi,
                                       std::uint64_t needed_end,
                                       bool check_liveness,
                                       std::uint64_t& base,
                                       bool& joiner) {
    // A work-queue group holds our lane at the lowest of its claim and every position its
    // members (live, or dead and not yet reclaimed) hold; only while it has a live member.
    const Geometry& g = file.geometry();
    if (file.group(gi).state.load(std::memory_order_acquire) != Active) {
        return {};
    }
    std::uint64_t h = file.claim(gi, lane).load(std::memory_order_seq_cst);
    if (after(h, tail) || (h & kStampFlagMask) != 0) {
        h = tail;  // forged: cannot hold anything back
    }
    bool live = false;
    bool joining = false;
    pid_t pid = 0;
    for (std::uint32_t m = 0; m < g.max_group_members; ++m) {
        const MemberHead& mh = file.member(gi, m);
        const std::uint32_t st = mh.state.load(std::memory_order_acquire);
        if (st != Joining && st != Active) {
            continue;
        }
        bool alive = true;
        if (check_liveness) {
            IPCKIT_TRY_ASSIGN(alive, file.locked_by_other(file.member_off(gi, m)));
        }
        if (alive) {
            live = true;
            joining = joining || st == Joining;
            pid = static_cast<pid_t>(mh.pid.load(std::memory_order_relaxed));
        }
        h = member_hold(gi, m, h);
    }
    if (!live) {
        return {};
    }
    if (joining) {
        joiner = true;
        blocked_by = pid;
    } else if (after(needed_end, h + g.lane_bytes)) {
        blocked_by = pid;
    }
    if (after(base, h)) {
        base = h;
    }
    return {};
}

[[gnu::always_inline]] inline std::byte* PublisherImpl::try_reserve_fast(std::size_t n) noexcept {
    const Geometry& g = file.geometry();
    if (loan_out || n > g.max_message_size) {
        return nullptr;
    }
    const std::uint64_t rec_len = record_bytes(n);
    const std::uint64_t off = tail & mask;
    if (off + rec_len > g.lane_bytes || (!overwrite && after(tail + rec_len, limit))) {
        return nullptr;  // a pad to write, or space to wait for
    }
    return claim(off, 0, tail + rec_len);
}

[[gnu::always_inline]] inline std::byte* PublisherImpl::claim(std::uint64_t off, std::uint64_t pad,
                                                                std::uint64_t end) noexcept {
    if (overwrite && after(end - file.geometry().lane_bytes, floor)) {
        advance_floor(end);
    }
    IPCKIT_FAULT_POINT("chan.publish.after_claim");
    if (pad != 0) {
        // A pad is committed at once (stamp last, release): it carries no message, and if the
        // loan is dropped the next loan writes the very same pad again.
        auto* ph = reinterpret_cast<RecordHeader*>(ring + off);  // NOLINT
        ph->len.store(static_cast<std::uint32_t>(pad - kRecordHeaderBytes), std::memory_order_relaxed);
        ph->seq.store(0, std::memory_order_relaxed);
        ph->stamp.store(tail | kValidFlag | kPadFlag, std::memory_order_release);
    }
    loan_pos = tail + pad;
    loan_out = true;
    return ring + (loan_pos & mask) + kRecordHeaderBytes;
}

Result<void> PublisherImpl::check_loan(std::size_t n) const {
    if (loan_out) {
        return Error(std::errc::operation_in_progress, "chan loan", "chan:" + file.name(),
                     "publish or drop the outstanding loan first (one at a time)");
    }
    if (n > file.geometry().max_message_size) {
        return Error(std::errc::message_size, "chan loan", "chan:" + file.name(),
                     "size " + std::to_string(n) + " > max_message_size " +
                         std::to_string(file.geometry().max_message_size));
    }
    return {};
}

Result<bool> PublisherImpl::sleep_for_space(std::uint64_t end, Deadline deadline) {
    IPCKIT_TRY(file.check_intact());
    Deadline slice = Deadline::after(kLivenessSlice);
    if (deadline < slice) {
        slice = deadline;
    }
    auto& h = file.header();
    return sleep_on(h.space_seq, h.space_sleepers, slice, [&]() -> Result<bool> {
        IPCKIT_TRY(recompute_limit(end, true));
        return !after(end, limit);
    });
}

Result<PublisherImpl::Space> PublisherImpl::recheck_space(std::uint64_t end, Deadline deadline,
                                                          std::uint32_t spins) {
    // Liveness (a system call per laggard) only every 1024 polls and before sleeping:
    // a spinning publisher must not hammer fcntl while a live subscriber catches up.
    IPCKIT_TRY(recompute_limit(end, false));
    if (!after(end, limit)) {
        return Space::Free;
    }
    const bool expired = detail::expired(deadline);
    if (expired || spins % 1024 == 1023 || spins >= spin_polls) {
        IPCKIT_TRY(recompute_limit(end, true));
        if (!after(end, limit)) {
            return Space::Free;
        }
    }
    return expired ? Space::Expired : Space::Short;
}

Result<bool> PublisherImpl::wait_for_space(std::uint64_t end, Deadline deadline) {
    std::uint32_t spins = 0;
    while (after(end, limit)) {
        IPCKIT_TRY_ASSIGN(auto space, recheck_space(end, deadline, spins));
        if (space == Space::Free) {
            break;
        }
        if (space == Space::Expired) {
            return false;
        }
        if (spins < spin_polls) {
            ++spins;
            cpu_relax();
            continue;
        }
        IPCKIT_TRY(sleep_for_space(end, deadline));
    }
    blocked_by = 0;
    return true;
}

Result<std::optional<std::byte*>> PublisherImpl::reserve(std::size_t n, Deadline deadline) {
    if (std::byte* p = try_reserve_fast(n)) {
        return std::optional<std::byte*>(p);
    }
    IPCKIT_TRY(check_loan(n));
    const Geometry& g = file.geometry();
    const std::uint64_t rec_len = record_bytes(n);
    const std::uint64_t off = tail & mask;
    const std::uint64_t pad = off + rec_len > g.lane_bytes ? g.lane_bytes - off : 0;
    const std::uint64_t end = tail + pad + rec_len;
    if (!overwrite) {
        IPCKIT_TRY_ASSIGN(auto space, wait_for_space(end, deadline));
        if (!space) {
            return std::optional<std::byte*>();
        }
    }
    return std::optional<std::byte*>(claim(off, pad, end));
}

[[gnu::always_inline]] inline void PublisherImpl::commit(std::size_t n) noexcept {
    auto* h = reinterpret_cast<RecordHeader*>(ring + (loan_pos & mask));  // NOLINT
    h->len.store(static_cast<std::uint32_t>(n), std::memory_order_relaxed);
    h->seq.store(static_cast<std::uint32_t>(next_seq), std::memory_order_relaxed);
    IPCKIT_FAULT_POINT("chan.publish.mid_write");
    h->stamp.store(loan_pos | kValidFlag, std::memory_order_release);  // the commit
    ++next_seq;
    // Release, after the stamp and before the tail: a joining subscriber reads the tail, then
    // next_seq, then the stamp at the tail, and relies on this order to pair them
    // (SubscriberImpl::start_at_head).
    rec->next_seq.store(next_seq, std::memory_order_release);
    IPCKIT_FAULT_POINT("chan.publish.after_commit");
    // The tail follows the commit; a publisher that dies in between leaves a committed record
    // past the tail, which the lane's next owner finds (recover_tail) and never overwrites.
    tail = loan_pos + record_bytes(n);
    rec->tail.store(tail, std::memory_order_release);
    ++published;
    rec->published.store(published, std::memory_order_relaxed);
    loan_out = false;
    auto& hd = file.header();
    wake_sleepers(hd.data_seq, hd.data_sleepers);
    ring_doorbells(doorbell_table_at(&hd, kChannelDoorbellOffset));  // WaitSets (one load if none)
}

}  // namespace detail

using detail::PublisherImpl;

Loan& Loan::operator=(Loan&& other) noexcept {
    if (this != &other) {
        if (owner_ != nullptr) {
            drop();
        }
        owner_ = std::exchange(other.owner_, nullptr);
        data_ = other.data_;
        size_ = other.size_;
        capacity_ = other.capacity_;
    }
    return *this;
}

void Loan::drop() noexcept {
    owner_->loan_out = false;  // the space was never committed: the next loan reuses it
    owner_ = nullptr;
}

void Loan::resize(std::size_t n) noexcept {
    IPCKIT_ASSERT(n <= capacity_, "Loan::resize beyond the loaned capacity");
    size_ = n;
}

Publisher::Publisher(std::unique_ptr<PublisherImpl> impl) noexcept : impl_(std::move(impl)) {}
Publisher::Publisher(Publisher&& other) noexcept = default;
Publisher& Publisher::operator=(Publisher&& other) noexcept = default;
Publisher::~Publisher() = default;

namespace {
constexpr auto kMake = detail::make_participant<PublisherImpl>;
}  // namespace

Result<Publisher> Publisher::create(std::string_view name, const ChannelConfig& config) {
    IPCKIT_TRY_ASSIGN(auto i,
                      kMake(detail::ChannelFile::create(name, config, detail::Role::Publisher),
                            config.options.spin_polls));
    return Publisher(std::move(i));
}

Result<Publisher> Publisher::open(std::string_view name, const ChannelOptions& options) {
    IPCKIT_TRY_ASSIGN(auto i,
                      kMake(detail::ChannelFile::open(name, options, detail::Role::Publisher),
                            options.spin_polls));
    return Publisher(std::move(i));
}

Result<Publisher> Publisher::open_or_create(std::string_view name, const ChannelConfig& config) {
    IPCKIT_TRY_ASSIGN(
        auto i,
        kMake(detail::ChannelFile::open_or_create(name, config, detail::Role::Publisher),
              config.options.spin_polls));
    return Publisher(std::move(i));
}

Result<std::optional<Loan>> Publisher::loan_until(std::size_t n, Deadline deadline) {
    IPCKIT_TRY_ASSIGN(auto r, impl_->reserve(n, deadline));
    if (!r) {
        return std::optional<Loan>();
    }
    return std::optional<Loan>(Loan(impl_.get(), *r, n));
}

Result<std::optional<Loan>> Publisher::try_loan(std::size_t n) {
    return loan_until(n, detail::kImmediately);
}

Result<Loan> Publisher::loan(std::size_t n) {
    if (std::byte* p = impl_->try_reserve_fast(n)) {  // the common case, without the layers
        return Loan(impl_.get(), p, n);
    }
    IPCKIT_TRY_ASSIGN(auto r, loan_until(n, Deadline::never()));
    IPCKIT_ASSERT(r.has_value(), "a wait without deadline returned empty");
    return std::move(*r);
}

Result<void> Publisher::publish(Loan&& loan) {
    IPCKIT_ASSERT(loan.owner_ == impl_.get(), "publish() of a loan from another publisher");
    loan.owner_ = nullptr;
    impl_->commit(loan.size_);
    if (impl_->file.faulted()) [[unlikely]] {
        return impl_->file.check_intact();  // truncated under us: the message reached nobody
    }
    return {};
}

Result<bool> Publisher::send_until(std::span<const std::byte> bytes, Deadline deadline) {
    IPCKIT_TRY_ASSIGN(auto l, loan_until(bytes.size(), deadline));
    if (!l) {
        return false;
    }
    if (!bytes.empty()) {
        std::memcpy(l->data(), bytes.data(), bytes.size());
    }
    IPCKIT_TRY(publish(std::move(*l)));
    return true;
}

Result<void> Publisher::send(std::span<const std::byte> bytes) {
    IPCKIT_TRY(send_until(bytes, Deadline::never()));
    return {};
}

std::uint32_t Publisher::lane() const noexcept { return impl_->lane; }
std::size_t Publisher::max_message_size() const noexcept { return impl_->file.geometry().max_message_size; }
pid_t Publisher::blocked_by() const noexcept { return impl_->blocked_by; }
std::uint64_t Publisher::published_count() const noexcept { return impl_->published; }

}  // namespace ipckit
