// SPDX-License-Identifier: MIT
// ipckit_chaos: the `group` facility, a block-mode channel consumed by an at-least-once work-queue
// group (GroupConsumer). Publishers write numbered messages; consumers of one group are SIGKILLed
// and restarted at random instants, holding messages or not. Each consumer records a message in
// its sender's seen-bitmap before it acknowledges it (releases the sample), so a consumer killed
// in between leaves a recorded message that comes back flagged redelivered: a second delivery is
// fine only with that flag. check.cpp then requires every confirmed message to be in the bitmap.
#include "chaos.hpp"
#include "ipckit/channel/channel.hpp"
#include "ipckit/channel/group_consumer.hpp"
#include "ipckit/channel/publisher.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <thread>

namespace chaos {

using namespace std::chrono_literals;

namespace {

/// A group with no live consumer does not hold messages (it restarts at the tails when one
/// joins), so a publisher starts only once the group has one; the supervisor keeps one alive.
bool wait_for_consumer(const std::string& channel, const Header& h) {
    for (;;) {
        auto info = ipckit::Channel::inspect(channel);
        if (info && std::any_of(info->groups.begin(), info->groups.end(), [](const auto& g) {
                return g.consumers > 0;
            })) {
            return true;
        }
        if (h.stop_senders.load(std::memory_order_acquire) != 0) {
            return false;
        }
        std::this_thread::sleep_for(1ms);
    }
}

}  // namespace

int run_group_publisher(PeerContext& ctx) {
    SenderSlot& s = ctx.arena->sender(ctx.slot);
    Header& h = ctx.arena->header();
    auto pub = ipckit::Publisher::open(ctx.names->channel);
    if (!pub) {
        return fail(s, "Publisher::open: " + pub.error().message());
    }
    const bool waited = wait_for_consumer(ctx.names->channel, h);
    s.state.store(kReady, std::memory_order_release);
    for (std::uint64_t seq = 0; waited; ++seq) {
        if (h.stop_senders.load(std::memory_order_acquire) != 0) {
            break;
        }
        if (seq + 1 >= kBitmapBits) {
            s.state.store(kRetired, std::memory_order_release);
            return 0;
        }
        const std::size_t size = random_size(ctx.rng, kHeaderSize, kMaxMessage);
        s.progress.store(2 * seq + 1, std::memory_order_release);
        auto loan = pub->loan_for(size, 5s);
        if (!loan) {
            return fail(s, "loan: " + loan.error().message());
        }
        if (!*loan) {
            return fail(s, "hang: loan waited 5 s (the group's consumers took nothing)");
        }
        build_message(std::span((*loan)->data(), size), kMagic, ctx.slot, 0, seq, 0);
        if (auto r = pub->publish(std::move(**loan)); !r) {
            return fail(s, "publish: " + r.error().message());
        }
        s.progress.store(2 * (seq + 1), std::memory_order_release);
    }
    s.state.store(kClean, std::memory_order_release);
    return 0;
}

int run_group_consumer(PeerContext& ctx) {
    ReceiverSlot& r = ctx.arena->receiver(ctx.slot);
    Header& h = ctx.arena->header();
    ipckit::GroupOptions go;
    const bool at_most_once = ctx.facility == Facility::GroupAmo;
    go.delivery =
        at_most_once ? ipckit::GroupDelivery::AtMostOnce : ipckit::GroupDelivery::AtLeastOnce;
    auto consumer = ipckit::GroupConsumer::open(ctx.names->channel, kGroupName, go);
    if (!consumer) {
        return fail(r, "GroupConsumer::open: " + consumer.error().message());
    }
    r.state.store(kReady, std::memory_order_release);
    std::array<std::byte, kMaxMessage> copy{};
    int empty = 0;
    for (;;) {
        auto got = consumer->receive_for(50ms);
        if (!got) {
            return fail(r, "receive: " + got.error().message());
        }
        if (!*got) {
            // After the drain began: two empty waits (a dead member's messages are adopted
            // before each sleep and delivered by the next receive).
            if (h.drain.load(std::memory_order_acquire) != 0 && ++empty >= 2) {
                break;
            }
            continue;
        }
        empty = 0;
        // Critical from here to the acknowledgement: a kill redelivers this message.
        r.critical.store(1, std::memory_order_release);
        ipckit::GroupSample& sample = **got;
        const std::size_t size = std::min(sample.size(), copy.size());
        std::memcpy(copy.data(), sample.data(), size);
        MsgHeader m{};
        if (sample.size() > copy.size() || !parse_message(std::span(copy).first(size), m) ||
            m.seq >= kBitmapBits) {
            r.bad.fetch_add(1, std::memory_order_relaxed);
        } else if (m.sender >= ctx.arena->sender_slots()) {
            r.misrouted.fetch_add(1, std::memory_order_relaxed);
        } else if (ctx.options->inject_loss && r.received.load() > 50 && take_injection(h)) {
            r.injected.store(1);  // acknowledged without a record, on purpose
        } else {
            auto* bits = ctx.arena->bitmap(m.sender);
            const std::uint64_t bit = std::uint64_t{1} << (m.seq % 64);
            const bool seen =
                (bits[m.seq / 64].fetch_or(bit, std::memory_order_acq_rel) & bit) != 0;
            r.held_sender.store(m.sender, std::memory_order_relaxed);
            r.held_seq.store(m.seq, std::memory_order_relaxed);
            r.held.store(1, std::memory_order_release);
            if (sample.redelivered()) {
                r.redelivered.fetch_add(1, std::memory_order_relaxed);
                const std::uint32_t n = r.n_redelivered_log.load(std::memory_order_relaxed);
                if (n < std::size(r.redelivered_log)) {
                    r.redelivered_log[n].store((std::uint64_t{m.sender} << 40) | m.seq);
                    r.n_redelivered_log.store(n + 1, std::memory_order_release);
                }
            }
            if (seen && (at_most_once || !sample.redelivered())) {
                r.dup.fetch_add(1, std::memory_order_relaxed);  // a second delivery, not allowed
            }
            r.received.fetch_add(1, std::memory_order_relaxed);
        }
        if (ctx.rng() % 64 == 0) {
            // Hold it a while (as slow work does): most kills of a consumer then land here, where
            // it holds a recorded message it has not acknowledged.
            std::this_thread::sleep_for(std::chrono::microseconds(200 + ctx.rng() % 800));
        }
        // 2: acknowledging; a kill from here on may or may not have acknowledged it.
        r.held.store(r.held.load(std::memory_order_relaxed) == 1 ? 2 : 0,
                     std::memory_order_seq_cst);
        sample.release();  // the acknowledgement, after the record
        r.held.store(0, std::memory_order_release);
        r.critical.store(0, std::memory_order_release);
    }
    r.state.store(kClean, std::memory_order_release);
    return 0;
}

}  // namespace chaos
