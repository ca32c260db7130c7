// SPDX-License-Identifier: MIT
// ipckit_chaos: channel publisher and subscriber incarnations (block and overwrite modes).
#include "channel/fault_point.hpp"  // private: arming a fault point in a restarted peer
#include "chaos.hpp"
#include "ipckit/channel/publisher.hpp"
#include "ipckit/channel/subscriber.hpp"

#include <array>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <thread>

namespace chaos {

using namespace std::chrono_literals;

namespace {

void arm_fault_point(std::uint32_t fault) {
    const std::string spec = std::string(kFaultPoints[fault]) + ":stop";
    ::setenv("IPCKIT_FAULT_POINT", spec.c_str(), 1);
    ipckit::detail::reload_fault_points();
}

/// Appends {seq, gen} to a mark log; the entry is written before the count that publishes it.
void append_mark(Mark* marks, std::atomic<std::uint32_t>& n, std::uint64_t seq, std::uint64_t gen) {
    const std::uint32_t i = n.load(std::memory_order_relaxed);
    marks[i] = Mark{seq, gen};
    n.store(i + 1, std::memory_order_release);
}

}  // namespace

int run_channel_publisher(PeerContext& ctx) {
    SenderSlot& s = ctx.arena->sender(ctx.slot);
    Header& h = ctx.arena->header();
    auto pub = ipckit::Publisher::open(ctx.names->channel);
    if (!pub) {
        return fail(s, "Publisher::open: " + pub.error().message());
    }
    // Lane and ticket before the first message: an incarnation without them published nothing.
    s.lane.store(pub->lane(), std::memory_order_relaxed);
    s.ticket.store(h.tickets.fetch_add(1) + 1, std::memory_order_release);
    s.state.store(kReady, std::memory_order_release);
    const std::uint64_t arm_at = s.fault != 0 ? s.fault_after.load() : ~std::uint64_t{0};
    const bool overwrite = ctx.facility == Facility::ChanOverwrite;
    std::uint64_t last_pre = 0;
    std::uint64_t last_post = 0;
    for (std::uint64_t seq = 0;; ++seq) {
        if (h.stop_senders.load(std::memory_order_acquire) != 0) {
            break;
        }
        if (s.n_pre.load() + 1 >= kMaxMarks || s.n_post.load() + 1 >= kMaxMarks) {
            s.state.store(kRetired, std::memory_order_release);
            return 0;
        }
        if (seq == arm_at) {
            arm_fault_point(s.fault);
        }
        // Acquire pairs with a subscriber's fetch_add after open(): gen >= its g_join means this
        // loan starts after it joined.
        const std::uint64_t gen = h.g.load(std::memory_order_acquire);
        if (gen != last_pre) {
            append_mark(s.pre, s.n_pre, seq, gen);
            last_pre = gen;
        }
        const std::size_t n = random_size(ctx.rng, kHeaderSize, kMaxMessage);
        s.progress.store(2 * seq + 1, std::memory_order_release);
        auto loan = pub->loan_for(n, 5s);
        if (!loan) {
            return fail(s, "loan: " + loan.error().message());
        }
        if (!*loan) {
            return fail(s,
                        "hang: loan of " + std::to_string(n) + " bytes waited 5 s (held by pid " +
                            std::to_string(pub->blocked_by()) + ")");
        }
        build_message(std::span((*loan)->data(), n), kMagic, ctx.slot, 0, seq, gen);
        auto done = pub->publish(std::move(**loan));
        if (!done) {
            return fail(s, "publish: " + done.error().message());
        }
        // The fence orders the commit (tail store) before this load: a subscriber that read G
        // above `post` before it opened cannot have started joining before this commit.
        std::atomic_thread_fence(std::memory_order_seq_cst);
        const std::uint64_t post = h.g.load(std::memory_order_relaxed);
        if (post != last_post) {
            append_mark(s.post, s.n_post, seq, post);
            last_post = post;
        }
        s.progress.store(2 * (seq + 1), std::memory_order_release);
        if (overwrite && ctx.rng() % 32 == 0) {
            // Bursts and pauses: subscribers are sometimes lapped, sometimes keep up.
            std::this_thread::sleep_for(std::chrono::microseconds(ctx.rng() % 300));
        }
    }
    s.state.store(kClean, std::memory_order_release);
    return 0;
}

namespace {

struct LaneLocal {
    bool has = false;
    std::uint32_t sender = kNone;
    std::uint64_t seq = 0;
    Stream* stream = nullptr;
    std::uint64_t pending = 0;  ///< messages consumed but discarded since the last recorded one
};

/// The subscriber side's bookkeeping of one delivered message.
class SubscriberBook {
public:
    SubscriberBook(PeerContext& ctx, bool block, std::uint32_t lanes)
        : ctx_(ctx)
        , r_(ctx.arena->receiver(ctx.slot))
        , h_(ctx.arena->header())
        , block_(block)
        , lanes_(lanes) {}

    /// False when the stream table is full (the incarnation retires).
    bool take(std::uint32_t lane,
              std::uint64_t lost_before,
              std::span<const std::byte> bytes,
              bool intact) {
        ++delivered_;
        lost_raw_ += lost_before;
        r_.lost.fetch_add(lost_before, std::memory_order_relaxed);
        if (lane >= lanes_.size()) {
            r_.misrouted.fetch_add(1, std::memory_order_relaxed);
            return true;
        }
        LaneLocal& ll = lanes_[lane];
        MsgHeader m{};
        if (!intact) {
            r_.torn.fetch_add(1, std::memory_order_relaxed);
            ll.pending += lost_before + 1;
            return true;
        }
        if (!parse_message(bytes, m)) {
            r_.bad.fetch_add(1, std::memory_order_relaxed);
            ll.pending += lost_before + 1;
            return true;
        }
        if (m.sender >= ctx_.arena->sender_slots()) {
            r_.misrouted.fetch_add(1, std::memory_order_relaxed);
            ll.pending += lost_before + 1;
            return true;
        }
        const std::uint64_t lost = lost_before + ll.pending;
        ll.pending = 0;
        if (ctx_.options->inject_loss && ll.has && ll.sender == m.sender &&
            ll.stream->count.load() > 10 && take_injection(h_)) {
            r_.injected.store(1);
            return true;  // dropped from the records on purpose: the next one shows a gap
        }
        if (block_ && lost != 0) {
            r_.lossless_lost.fetch_add(lost, std::memory_order_relaxed);
        }
        if (ll.has && ll.sender == m.sender) {
            if (m.seq <= ll.seq) {
                (m.seq == ll.seq ? r_.dup : r_.reorder).fetch_add(1, std::memory_order_relaxed);
                return true;
            }
            const std::uint64_t gap = m.seq - ll.seq - 1;
            if (gap > lost) {
                r_.gap.fetch_add(gap - lost, std::memory_order_relaxed);
            } else if (gap < lost) {
                r_.overcount.fetch_add(lost - gap, std::memory_order_relaxed);
            }
            ll.stream->count.fetch_add(1, std::memory_order_relaxed);
            ll.stream->last_seq.store(m.seq, std::memory_order_release);
        } else {
            // First message on this lane since joining, or the lane changed hands: a boundary,
            // checked at the end against the lane's publishers.
            Stream* st = add_stream(r_, m.sender, 0);
            if (st == nullptr) {
                return false;
            }
            st->lane = lane;
            st->prev_sender = ll.has ? ll.sender : kNone;
            st->prev_seq = ll.has ? ll.seq : 0;
            st->first_lost = lost;
            start_stream(*st, m.seq);
            ll.has = true;
            ll.sender = m.sender;
            ll.stream = st;
        }
        ll.seq = m.seq;
        r_.received.fetch_add(1, std::memory_order_relaxed);
        return true;
    }

    [[nodiscard]] std::uint64_t delivered() const noexcept { return delivered_; }
    [[nodiscard]] std::uint64_t lost_raw() const noexcept { return lost_raw_; }

private:
    PeerContext& ctx_;
    ReceiverSlot& r_;
    Header& h_;
    bool block_;
    std::vector<LaneLocal> lanes_;
    std::uint64_t delivered_ = 0;
    std::uint64_t lost_raw_ = 0;
};

}  // namespace

int run_channel_subscriber(PeerContext& ctx) {
    ReceiverSlot& r = ctx.arena->receiver(ctx.slot);
    Header& h = ctx.arena->header();
    const bool block = ctx.facility == Facility::ChanBlock;
    if (r.fault != 0) {
        arm_fault_point(r.fault);
    }
    // G before open(), behind a fence: a publisher whose post-publish G is below this value
    // committed before we started joining (docs/design/chaos.md).
    const std::uint64_t g_pre = h.g.load(std::memory_order_seq_cst);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    r.g_pre.store(g_pre, std::memory_order_relaxed);
    auto sub = ipckit::Subscriber::open(ctx.names->channel);
    if (!sub) {
        return fail(r, "Subscriber::open: " + sub.error().message());
    }
    r.g_join.store(h.g.fetch_add(1, std::memory_order_seq_cst) + 1, std::memory_order_release);
    r.state.store(kReady, std::memory_order_release);

    SubscriberBook book(ctx, block, ctx.options->senders + 1);
    const bool zero_copy = ctx.rng() % 3 != 0;
    const std::size_t hold = block ? 1 + ctx.rng() % 3 : 1;
    std::deque<ipckit::Sample> held;
    std::array<std::byte, kMaxMessage> copy{};
    int empty = 0;
    bool retire = false;
    while (!retire) {
        std::uint32_t lane = 0;
        std::uint64_t lost_before = 0;
        std::size_t size = 0;
        bool intact = true;
        bool got = false;
        if (zero_copy) {
            auto s = sub->receive_for(50ms);
            if (!s) {
                return fail(r, "receive: " + s.error().message());
            }
            if (*s) {
                got = true;
                r.critical.store(1, std::memory_order_release);
                ipckit::Sample& sample = **s;
                lane = sample.publisher();
                lost_before = sample.lost_before();
                size = std::min(sample.size(), copy.size());
                std::memcpy(copy.data(), sample.data(), size);
                if (sample.size() > copy.size()) {
                    size = 0;  // too long: parse_message fails on it
                }
                // Overwrite mode: the copy is good only if the bytes were not reused meanwhile.
                intact = sample.still_valid();
                held.push_back(std::move(sample));
            }
        } else {
            auto x = sub->receive_until(std::span(copy), ipckit::Deadline::after(50ms));
            if (!x) {
                return fail(r, "receive (copy): " + x.error().message());
            }
            if (*x) {
                got = true;
                lane = (*x)->publisher;
                lost_before = (*x)->lost_before;
                size = (*x)->size;
            }
        }
        if (!got) {
            while (!held.empty()) {
                sub->release(std::move(held.front()));
                held.pop_front();
            }
            r.critical.store(0, std::memory_order_release);
            if (h.drain.load(std::memory_order_acquire) != 0 && ++empty >= 2) {
                break;
            }
            continue;
        }
        empty = 0;
        retire = !book.take(lane, lost_before, std::span(copy).first(size), intact);
        while (held.size() > hold || (!held.empty() && ctx.rng() % 4 == 0)) {
            sub->release(std::move(held.front()));
            held.pop_front();
        }
        r.critical.store(held.empty() ? 0 : 1, std::memory_order_release);
    }
    while (!held.empty()) {
        sub->release(std::move(held.front()));
        held.pop_front();
    }
    r.critical.store(0, std::memory_order_release);
    r.lib_received.store(sub->received_count());
    r.lib_lost.store(sub->lost_count());
    r.lib_corrupt.store(sub->corrupt_count());
    r.lib_valid.store(1);
    if (sub->received_count() != book.delivered() || sub->lost_count() != book.lost_raw()) {
        return fail(r,
                    "Subscriber counters disagree with what it delivered: received_count=" +
                        std::to_string(sub->received_count()) +
                        " delivered=" + std::to_string(book.delivered()) +
                        " lost_count=" + std::to_string(sub->lost_count()) +
                        " sum(lost_before)=" + std::to_string(book.lost_raw()));
    }
    if (sub->corrupt_count() != 0) {
        return fail(r, "corrupt_count=" + std::to_string(sub->corrupt_count()));
    }
    r.state.store(retire ? kRetired : kClean, std::memory_order_release);
    return 0;
}

}  // namespace chaos
