// SPDX-License-Identifier: MIT
// ipckit_chaos: POSIX and System V message queue senders and receivers (competing consumers).
#include "chaos.hpp"
#include "ipckit/core/posix_name.hpp"
#include "ipckit/message/posix_mq.hpp"
#include "ipckit/message/sysv_msg_queue.hpp"

#include <array>
#include <optional>
#include <unordered_map>

namespace chaos {

using namespace std::chrono_literals;

namespace {

/// One queue of either kind, opened by the peer itself.
class Queue {
public:
    static std::optional<Queue> open(PeerContext& ctx, std::string& error) {
        Queue q;
        if (ctx.facility == Facility::PosixMq) {
            auto name = ipckit::PosixName::make(ctx.names->mq);
            if (!name) {
                error = name.error().message();
                return std::nullopt;
            }
            auto mq = ipckit::PosixMq::open(*name);
            if (!mq) {
                error = "PosixMq::open: " + mq.error().message();
                return std::nullopt;
            }
            q.posix_.emplace(std::move(*mq));
        } else {
            auto mq = ipckit::SysvMsgQueue::from_id(ctx.names->sysv_id);
            if (!mq) {
                error = "SysvMsgQueue::from_id: " + mq.error().message();
                return std::nullopt;
            }
            q.sysv_.emplace(*mq);
        }
        return q;
    }

    ipckit::Result<bool> send(std::span<const std::byte> m, ipckit::Deadline d) {
        if (posix_) {
            return posix_->send_until(m, 0, d);
        }
        return sysv_->send_until(1, m, d);
    }

    ipckit::Result<std::optional<std::size_t>> receive(std::span<std::byte> buf,
                                                       ipckit::Deadline d) {
        if (posix_) {
            auto r = posix_->receive_until(buf, d);
            if (!r) {
                return std::move(r).error();
            }
            return *r ? std::optional<std::size_t>((*r)->size) : std::nullopt;
        }
        auto r = sysv_->receive_until(buf, 0, d);
        if (!r) {
            return std::move(r).error();
        }
        return *r ? std::optional<std::size_t>((*r)->size) : std::nullopt;
    }

private:
    std::optional<ipckit::PosixMq> posix_;
    std::optional<ipckit::SysvMsgQueue> sysv_;
};

}  // namespace

int run_queue_sender(PeerContext& ctx) {
    SenderSlot& s = ctx.arena->sender(ctx.slot);
    Header& h = ctx.arena->header();
    std::string error;
    auto q = Queue::open(ctx, error);
    if (!q) {
        return fail(s, error);
    }
    s.state.store(kReady, std::memory_order_release);
    std::array<std::byte, kMaxMessage> buf{};
    for (std::uint64_t seq = 0;; ++seq) {
        if (h.stop_senders.load(std::memory_order_acquire) != 0) {
            break;
        }
        if (seq + 1 >= kBitmapBits) {
            s.state.store(kRetired, std::memory_order_release);
            return 0;
        }
        const auto m = std::span(buf).first(random_size(ctx.rng, kHeaderSize, kMaxMessage));
        build_message(m, kMagic, ctx.slot, 0, seq, 0);
        s.progress.store(2 * seq + 1, std::memory_order_release);
        auto sent = q->send(m, ipckit::Deadline::after(5s));
        if (!sent) {
            return fail(s, "send: " + sent.error().message());
        }
        if (!*sent) {
            return fail(s, "hang: send waited 5 s on a full queue");
        }
        s.progress.store(2 * (seq + 1), std::memory_order_release);
    }
    s.state.store(kClean, std::memory_order_release);
    return 0;
}

int run_queue_receiver(PeerContext& ctx) {
    ReceiverSlot& r = ctx.arena->receiver(ctx.slot);
    Header& h = ctx.arena->header();
    std::string error;
    auto q = Queue::open(ctx, error);
    if (!q) {
        return fail(r, error);
    }
    r.state.store(kReady, std::memory_order_release);
    std::unordered_map<std::uint32_t, Stream*> streams;
    std::array<std::byte, kMaxMessage> buf{};
    for (;;) {
        // Critical from before the dequeue: a kill from here to the record may lose a message.
        r.critical.store(1, std::memory_order_release);
        auto got = q->receive(buf, ipckit::Deadline::after(50ms));
        if (!got) {
            return fail(r, "receive: " + got.error().message());
        }
        if (!*got) {
            r.critical.store(0, std::memory_order_release);
            // Every sender has exited: an empty queue stays empty.
            if (h.drain.load(std::memory_order_acquire) != 0) {
                break;
            }
            continue;
        }
        MsgHeader m{};
        if (!parse_message(std::span(buf).first(**got), m) || m.seq >= kBitmapBits) {
            r.bad.fetch_add(1, std::memory_order_relaxed);
            continue;
        }
        if (m.sender >= ctx.arena->sender_slots()) {
            r.misrouted.fetch_add(1, std::memory_order_relaxed);
            continue;
        }
        if (ctx.options->inject_loss && r.received.load() > 50 && take_injection(h)) {
            r.injected.store(1);
            continue;  // dropped from the records on purpose
        }
        auto* bits = ctx.arena->bitmap(m.sender);
        const std::uint64_t bit = std::uint64_t{1} << (m.seq % 64);
        if ((bits[m.seq / 64].fetch_or(bit, std::memory_order_acq_rel) & bit) != 0) {
            r.dup.fetch_add(1, std::memory_order_relaxed);
            continue;
        }
        Stream*& st = streams[m.sender];
        if (st == nullptr) {
            st = add_stream(r, m.sender, 0);
            if (st == nullptr) {
                r.critical.store(0, std::memory_order_release);
                r.state.store(kRetired, std::memory_order_release);
                return 0;
            }
        }
        // Competing consumers: this receiver sees a subsequence, in order, of each sender.
        if (st->count.load(std::memory_order_relaxed) == 0) {
            start_stream(*st, m.seq);
        } else if (m.seq <= st->last_seq.load(std::memory_order_relaxed)) {
            r.reorder.fetch_add(1, std::memory_order_relaxed);
        } else {
            st->count.fetch_add(1, std::memory_order_relaxed);
            st->last_seq.store(m.seq, std::memory_order_release);
        }
        r.received.fetch_add(1, std::memory_order_relaxed);
        r.critical.store(0, std::memory_order_release);
    }
    r.state.store(kClean, std::memory_order_release);
    return 0;
}

}  // namespace chaos
