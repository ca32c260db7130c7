// SPDX-License-Identifier: MIT
// ipckit_chaos: the end-of-run checks (docs/design/chaos.md), run by the supervisor once every
// peer is gone. Everything read here was written by peers that may have been killed mid-update,
// so every index is bounds-checked first.
#include "chaos.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <string>

namespace chaos {

namespace {

std::string str(std::uint64_t v) {
    return std::to_string(v);
}

/// What is known about one sender incarnation's message count n: c <= n <= c + 1.
struct SenderView {
    std::uint64_t c = 0;      ///< confirmed
    bool maybe = false;       ///< killed inside a send: one more may exist
    bool seen_extra = false;  ///< ... and a receiver saw it
    std::uint32_t lane = kNone;
    std::uint64_t ticket = 0;
    std::uint32_t pos = 0;  ///< position on its lane (channel)
    [[nodiscard]] std::uint64_t lo() const { return c + (maybe && seen_extra ? 1 : 0); }
    [[nodiscard]] std::uint64_t hi() const { return c + (maybe ? 1 : 0); }
};

class Checker {
public:
    Checker(Facility f, Arena& arena, const RunRecord& run, Figures& fig)
        : f_(f), arena_(arena), run_(run), fig_(fig) {
        views_.resize(run.senders_used);
        for (std::uint32_t i = 0; i < run.senders_used; ++i) {
            SenderSlot& s = arena.sender(i);
            const std::uint64_t p = s.progress.load();
            SenderView& v = views_[i];
            v.c = p / 2;
            v.maybe = (p & 1) != 0;
            v.lane = s.lane.load();
            v.ticket = s.ticket.load();
            fig_.confirmed += v.c;
            fig_.sent += v.c + (v.maybe ? 1 : 0);
        }
    }

    void run() {
        receiver_counters();
        if (is_channel(f_)) {
            channel();
        } else if (is_queue(f_)) {
            queue();
        } else if (is_group(f_)) {
            group();
        } else if (f_ == Facility::UnixDgram || f_ == Facility::Stream) {
            connections();
        } else {
            locks();
        }
    }

private:
    [[nodiscard]] bool receiver_survived(std::uint32_t r) const {
        return r < run_.receivers_used && run_.receivers[r].final &&
               arena_.receiver(r).state.load() == kClean;
    }

    /// Streams of receiver r that hold at least one message (a record cut by a kill has none).
    template <class F>
    void for_streams(std::uint32_t r, bool with_empty, F&& fn) {
        ReceiverSlot& rs = arena_.receiver(r);
        const std::uint32_t n = std::min(rs.n_streams.load(), kMaxStreams);
        for (std::uint32_t k = 0; k < n; ++k) {
            Stream& st = rs.streams[k];
            if (st.sender >= run_.senders_used) {
                if (st.count.load() != 0) {
                    fig_.violation("receiver slot " + str(r) + " recorded unknown sender slot " +
                                   str(st.sender));
                }
                continue;
            }
            if (st.count.load() == 0 && !with_empty) {
                continue;
            }
            fn(st);
        }
    }

    void receiver_counters() {
        std::uint64_t bad = 0, dup = 0, reorder = 0, gap = 0, over = 0, mis = 0, lossless = 0;
        for (std::uint32_t r = 0; r < run_.receivers_used; ++r) {
            ReceiverSlot& rs = arena_.receiver(r);
            fig_.checked += rs.received.load();
            bad += rs.bad.load();
            dup += rs.dup.load();
            reorder += rs.reorder.load();
            gap += rs.gap.load();
            over += rs.overcount.load();
            mis += rs.misrouted.load();
            lossless += rs.lossless_lost.load();
            fig_.torn += rs.torn.load();
            fig_.truncated += rs.truncated.load();
            fig_.redelivered += rs.redelivered.load();
            if (is_channel(f_)) {
                fig_.lost_counted += rs.lost.load();
            }
            if (rs.injected.load() != 0) {
                fig_.violation("(--inject-loss: receiver slot " + str(r) +
                               " dropped one message from its records)");
            }
        }
        fig_.bad += bad;
        fig_.dup += dup;
        fig_.reorder += reorder;
        fig_.lost_uncounted += gap;
        if (bad != 0) {
            fig_.violation(str(bad) + " messages with a bad checksum or malformed");
        }
        if (dup != 0) {
            fig_.violation(str(dup) + " duplicate messages");
        }
        if (reorder != 0) {
            fig_.violation(str(reorder) + " messages out of per-sender order");
        }
        if (gap != 0) {
            fig_.violation(str(gap) + " messages missing inside a stream and not counted as lost");
        }
        if (over != 0) {
            fig_.violation("lost_before exceeded the gap by " + str(over) + " messages in total");
        }
        if (mis != 0) {
            fig_.violation(str(mis) + " messages from an unknown sender, lane or connection");
        }
        if (lossless != 0) {
            fig_.violation("block mode reported " + str(lossless) + " messages lost (lost_before)");
        }
    }

    // ---- channel

    /// Messages k < n of sender i whose pre-loan G was >= thr (G only grows along a sender).
    [[nodiscard]] std::uint64_t count_pre_at_least(std::uint32_t i,
                                                   std::uint64_t n,
                                                   std::uint64_t thr) const {
        SenderSlot& s = arena_.sender(i);
        const std::uint32_t m = std::min(s.n_pre.load(), kMaxMarks);
        for (std::uint32_t k = 0; k < m; ++k) {
            if (s.pre[k].gen >= thr) {
                return n > s.pre[k].seq ? n - s.pre[k].seq : 0;
            }
        }
        return 0;
    }

    [[nodiscard]] std::uint64_t gen_pre(std::uint32_t i, std::uint64_t seq) const {
        SenderSlot& s = arena_.sender(i);
        const std::uint32_t m = std::min(s.n_pre.load(), kMaxMarks);
        std::uint64_t gen = 0;
        for (std::uint32_t k = 0; k < m && s.pre[k].seq <= seq; ++k) {
            gen = s.pre[k].gen;
        }
        return gen;
    }

    /// Messages k < n of sender i that may have committed after a subscriber that read G = thr
    /// before opening started to join: post-publish G >= thr, or unknown (k >= confirmed).
    [[nodiscard]] std::uint64_t count_post_maybe(std::uint32_t i,
                                                 std::uint64_t n,
                                                 std::uint64_t thr) const {
        SenderSlot& s = arena_.sender(i);
        const std::uint64_t c = std::min(views_[i].c, n);
        std::uint64_t first = c;
        const std::uint32_t m = std::min(s.n_post.load(), kMaxMarks);
        for (std::uint32_t k = 0; k < m; ++k) {
            if (s.post[k].gen >= thr) {
                first = std::min(s.post[k].seq, c);
                break;
            }
        }
        return (c - first) + (n - c);
    }

    void channel() {
        // Each lane's publisher incarnations in the order they held it.
        std::map<std::uint32_t, std::vector<std::uint32_t>> lanes;
        for (std::uint32_t i = 0; i < views_.size(); ++i) {
            if (views_[i].lane != kNone && views_[i].ticket != 0) {
                lanes[views_[i].lane].push_back(i);
            }
        }
        for (auto& [lane, list] : lanes) {
            std::sort(list.begin(), list.end(), [&](auto a, auto b) {
                return views_[a].ticket < views_[b].ticket;
            });
            for (std::uint32_t p = 0; p < list.size(); ++p) {
                views_[list[p]].pos = p;
            }
        }
        // Resolve "killed inside publish": did anyone see the message numbered `confirmed`?
        for (std::uint32_t r = 0; r < run_.receivers_used; ++r) {
            for_streams(r, false, [&](Stream& st) {
                note_seen(st.sender, st.last_seq.load(), r);
                if (st.prev_sender < views_.size()) {
                    note_seen(st.prev_sender, st.prev_seq, r);
                }
            });
        }
        for (std::uint32_t r = 0; r < run_.receivers_used; ++r) {
            ReceiverSlot& rs = arena_.receiver(r);
            const std::uint64_t g_join = rs.g_join.load();
            const std::uint64_t g_pre = rs.g_pre.load();
            for_streams(r, false, [&](Stream& st) { boundary(r, st, lanes, g_join, g_pre); });
            if (receiver_survived(r)) {
                lane_ends(r, lanes, g_join);
                if (rs.lib_valid.load() != 0 && rs.lib_corrupt.load() != 0) {
                    fig_.violation("receiver slot " + str(r) + " corrupt_count " +
                                   str(rs.lib_corrupt.load()));
                }
            }
        }
    }

    void note_seen(std::uint32_t i, std::uint64_t seq, std::uint32_t r) {
        SenderView& v = views_[i];
        if (seq < v.c) {
            return;
        }
        if (seq == v.c && v.maybe) {
            v.seen_extra = true;
            return;
        }
        fig_.violation("receiver slot " + str(r) + " got seq " + str(seq) + " of sender slot " +
                       str(i) + ", which confirmed " + str(v.c) +
                       (v.maybe ? " (+1 in flight)" : " and had nothing in flight"));
    }

    void boundary(std::uint32_t r,
                  Stream& st,
                  std::map<std::uint32_t, std::vector<std::uint32_t>>& lanes,
                  std::uint64_t g_join,
                  std::uint64_t g_pre) {
        const std::uint32_t i = st.sender;
        const SenderView& v = views_[i];
        if (v.lane != st.lane || lanes.count(st.lane) == 0) {
            fig_.violation("receiver slot " + str(r) + " got sender slot " + str(i) + " on lane " +
                           str(st.lane) + ", but it published on lane " + str(v.lane));
            return;
        }
        const auto& list = lanes[st.lane];
        std::uint64_t lo = 0;
        std::uint64_t hi = 0;
        const std::uint64_t y = st.first_seq;
        std::string what;
        if (st.prev_sender == kNone) {
            // First message on the lane since joining: count the messages before it that were
            // loaned after the join (must be lost), and those that may have been.
            if (g_join == 0) {
                return;
            }
            for (std::uint32_t p = 0; p < v.pos; ++p) {
                lo += count_pre_at_least(list[p], views_[list[p]].lo(), g_join);
                hi += count_post_maybe(list[p], views_[list[p]].hi(), g_pre);
            }
            lo += count_pre_at_least(i, y, g_join);
            hi += count_post_maybe(i, y, g_pre);
            what = "first message on lane " + str(st.lane) + " after joining";
        } else {
            const std::uint32_t a = st.prev_sender;
            if (a >= views_.size() || views_[a].lane != st.lane || views_[a].pos >= v.pos) {
                fig_.violation("receiver slot " + str(r) + " went from sender slot " + str(a) +
                               " to " + str(i) + " on lane " + str(st.lane) +
                               ", against the order the lane changed hands");
                return;
            }
            const std::uint64_t x = st.prev_seq;
            lo = views_[a].lo() > x ? views_[a].lo() - x - 1 : 0;
            hi = views_[a].hi() > x ? views_[a].hi() - x - 1 : 0;
            for (std::uint32_t p = views_[a].pos + 1; p < v.pos; ++p) {
                lo += views_[list[p]].lo();
                hi += views_[list[p]].hi();
            }
            lo += y;
            hi += y;
            what = "lane " + str(st.lane) + " handed from sender slot " + str(a) + " (last seq " +
                   str(x) + ") to " + str(i);
        }
        const std::uint64_t lost = st.first_lost;
        if (lost < lo) {
            fig_.lost_uncounted += lo - lost;
            fig_.violation("receiver slot " + str(r) + ", " + what + " at seq " + str(y) +
                           ": lost_before=" + str(lost) + " but " + str(lo) +
                           (lo == hi ? "" : ".." + str(hi)) + " messages were skipped");
        } else if (lost > hi) {
            fig_.violation("receiver slot " + str(r) + ", " + what + " at seq " + str(y) +
                           ": lost_before=" + str(lost) + " exceeds the " + str(hi) +
                           " messages that could have been skipped");
        } else if (lo == hi) {
            ++fig_.exact;
        } else {
            ++fig_.bracketed;
        }
    }

    /// A subscriber that lived to the end drained every lane: it must end on the lane's last
    /// message when that one was loaned after it joined. In overwrite mode too: a subscriber
    /// lapped at the end resumes at the floor, the oldest intact record, and the last message
    /// is never overwritten once the publishers are gone.
    void lane_ends(std::uint32_t r,
                   std::map<std::uint32_t, std::vector<std::uint32_t>>& lanes,
                   std::uint64_t g_join) {
        std::map<std::uint32_t, std::uint64_t> last_of;  // sender -> last seq received
        for_streams(r, false, [&](Stream& st) {
            auto& l = last_of[st.sender];
            l = std::max(l, st.last_seq.load() + 1);
        });
        for (auto& [lane, list] : lanes) {
            for (auto it = list.rbegin(); it != list.rend(); ++it) {
                const std::uint64_t n = views_[*it].lo();
                if (n == 0) {
                    continue;
                }
                if (g_join != 0 && gen_pre(*it, n - 1) >= g_join) {
                    const std::uint64_t got = last_of.count(*it) != 0 ? last_of[*it] : 0;
                    if (got < n) {
                        fig_.lost_uncounted += n - got;
                        fig_.violation("receiver slot " + str(r) +
                                       " lived to the end but its last "
                                       "message from sender slot " +
                                       str(*it) + " (lane " + str(lane) + ") is seq " +
                                       (got == 0 ? std::string("none") : str(got - 1)) + " of " +
                                       str(n));
                    }
                }
                break;
            }
        }
    }

    // ---- queues: competing consumers

    void queue() {
        std::uint64_t missing = 0;
        std::vector<std::uint64_t> max_seen(views_.size(), 0);
        for (std::uint32_t r = 0; r < run_.receivers_used; ++r) {
            for_streams(r, false, [&](Stream& st) {
                max_seen[st.sender] = std::max(max_seen[st.sender], st.last_seq.load() + 1);
            });
        }
        for (std::uint32_t i = 0; i < views_.size(); ++i) {
            const SenderView& v = views_[i];
            const std::atomic<std::uint64_t>* bits = arena_.bitmap(i);
            auto bit = [&](std::uint64_t k) { return (bits[k / 64].load() >> (k % 64)) & 1U; };
            for (std::uint64_t k = 0; k < v.c; ++k) {
                missing += bit(k) == 0 ? 1U : 0U;
            }
            const std::uint64_t end = std::min(kBitmapBits, std::max(v.c + 1, max_seen[i]) + 64);
            for (std::uint64_t k = v.c; k < end; ++k) {
                if (bit(k) != 0 && !(k == v.c && v.maybe)) {
                    fig_.violation("sender slot " + str(i) + " seq " + str(k) +
                                   " was received but never sent (confirmed " + str(v.c) + ")");
                    break;
                }
            }
        }
        const std::uint64_t receiver_kills = killed_receivers();
        // A receiver killed between its dequeue and its record loses that one message.
        const std::uint64_t excused = std::min(missing, receiver_kills);
        fig_.lost_counted += excused;
        if (missing > excused) {
            fig_.lost_uncounted += missing - excused;
            fig_.violation(str(missing) + " confirmed messages never received; the " +
                           str(receiver_kills) + " receiver kills explain at most " +
                           str(receiver_kills));
        }
    }

    std::uint64_t killed_receivers() const {
        std::uint64_t n = 0;
        for (std::uint32_t r = 0; r < run_.receivers_used; ++r) {
            n += run_.receivers[r].killed ? 1U : 0U;
        }
        return n;
    }

    // ---- work-queue group, at-least-once: every confirmed message recorded, none invented

    void group() {
        std::uint64_t missing = 0;
        for (std::uint32_t i = 0; i < views_.size(); ++i) {
            const SenderView& v = views_[i];
            const std::atomic<std::uint64_t>* bits = arena_.bitmap(i);
            auto bit = [&](std::uint64_t k) { return (bits[k / 64].load() >> (k % 64)) & 1U; };
            for (std::uint64_t k = 0; k < v.c && k < kBitmapBits; ++k) {
                missing += bit(k) == 0 ? 1U : 0U;
            }
            // Past the confirmed count only the one message a killed sender may have published.
            for (std::uint64_t k = v.c + (v.maybe ? 1 : 0); k < std::min(kBitmapBits, v.c + 4096);
                 ++k) {
                if (bit(k) != 0) {
                    fig_.violation("sender slot " + str(i) + " seq " + str(k) +
                                   " was received but never sent (confirmed " + str(v.c) + ")");
                    break;
                }
            }
        }
        const std::uint64_t receiver_kills = killed_receivers();
        std::uint64_t killed_holding = 0;  // killed after the record, before the acknowledgement
        for (std::uint32_t r = 0; r < run_.receivers_used; ++r) {
            killed_holding += run_.receivers[r].killed && arena_.receiver(r).held.load() == 1;
        }
        fig_.held_killed += killed_holding;
        // Nothing here forges the group's words: any corrupt count would be a false one.
        if (const std::uint64_t corrupt = arena_.header().group_corrupt.load(); corrupt != 0) {
            fig_.violation("the group counted " + str(corrupt) +
                           " corrupt although nothing forged its words");
        }
        if (f_ == Facility::GroupAmo) {
            at_most_once(missing, receiver_kills, killed_holding);
            return;
        }
        // A consumer killed between its record and the start of its acknowledgement held that
        // message: it
        // must come back, flagged (unless the log of redeliveries overflowed).
        std::set<std::uint64_t> again;
        bool complete = true;
        for (std::uint32_t r = 0; r < run_.receivers_used; ++r) {
            ReceiverSlot& rs = arena_.receiver(r);
            const std::uint32_t n = rs.n_redelivered_log.load();
            complete = complete && n < std::size(rs.redelivered_log);
            for (std::uint32_t k = 0; k < std::min<std::uint32_t>(n, 64); ++k) {
                again.insert(rs.redelivered_log[k].load());
            }
        }
        for (std::uint32_t r = 0; r < run_.receivers_used; ++r) {
            ReceiverSlot& rs = arena_.receiver(r);
            if (!run_.receivers[r].killed || rs.held.load() != 1) {
                continue;
            }
            const std::uint64_t key =
                (std::uint64_t{rs.held_sender.load()} << 40) | rs.held_seq.load();
            if (again.count(key) != 0) {
                ++fig_.held_redelivered;
            } else if (complete) {
                fig_.violation("receiver slot " + str(r) + " was killed holding sender slot " +
                               str(rs.held_sender.load()) + " seq " + str(rs.held_seq.load()) +
                               ", which was never redelivered");
            }
        }
        if (missing != 0) {
            // At-least-once with a live consumer throughout: no kill excuses a loss.
            fig_.lost_uncounted += missing;
            fig_.violation(str(missing) + " confirmed messages never delivered (at-least-once)");
        }
    }

    /// At-most-once: a dead consumer's messages are dropped and counted in the group's lost
    /// (or, for an entry that fails the range check, corrupt); never given again.
    void at_most_once(std::uint64_t missing,
                      std::uint64_t receiver_kills,
                      std::uint64_t killed_holding) {
        const std::uint64_t lost = arena_.header().group_lost.load();
        const std::uint64_t corrupt = arena_.header().group_corrupt.load();
        if (fig_.redelivered != 0) {
            fig_.violation(str(fig_.redelivered) + " deliveries flagged redelivered in an " +
                           "at-most-once group");
        }
        fig_.lost_counted += std::min(missing, lost + corrupt);
        if (missing > lost + corrupt) {
            fig_.lost_uncounted += missing - (lost + corrupt);
            fig_.violation(str(missing) + " confirmed messages never delivered; the group " +
                           "counted " + str(lost) + " lost and " + str(corrupt) + " corrupt");
        }
        // A consumer killed holding a message it recorded: dropped, so counted (lost or corrupt).
        if (missing + killed_holding > lost + corrupt) {
            fig_.violation(str(killed_holding) + " consumers were killed holding a message and " +
                           str(missing) + " messages are missing, but the group counted only " +
                           str(lost) + " lost and " + str(corrupt) + " corrupt");
        }
        // Each consumer holds one message at a time: a kill loses at most one.
        if (lost > receiver_kills) {
            fig_.violation("the group counted " + str(lost) + " lost but only " +
                           str(receiver_kills) + " consumers were killed");
        }
    }

    // ---- datagrams and streams: a contiguous run of seqs per connection

    void connections() {
        const bool stream = f_ == Facility::Stream;
        std::map<std::pair<std::uint32_t, std::uint32_t>,
                 std::vector<std::pair<std::uint32_t, Stream*>>>
            by_conn;
        for (std::uint32_t r = 0; r < run_.receivers_used; ++r) {
            for_streams(r, true, [&](Stream& st) {
                by_conn[{st.sender, st.conn}].push_back({r, &st});
            });
        }
        for (std::uint32_t i = 0; i < views_.size(); ++i) {
            SenderSlot& s = arena_.sender(i);
            const SenderView& v = views_[i];
            const std::uint32_t n = std::min(s.n_conns.load(), kMaxConns);
            const bool sender_killed = i < run_.senders.size() && run_.senders[i].killed;
            for (std::uint32_t k = 0; k < n; ++k) {
                const Conn& conn = s.conns[k];
                const bool last = k + 1 == n;
                const std::uint64_t first = conn.first_seq;
                const std::uint64_t end_lo = last ? v.c : s.conns[k + 1].first_seq;
                const std::uint64_t end_hi = last ? v.hi() : end_lo;
                if (end_lo < first) {
                    fig_.violation("sender slot " + str(i) + " connection " + str(k) +
                                   " has a negative range");
                    continue;
                }
                const std::uint64_t lo = end_lo - first;
                const std::uint64_t hi = end_hi - first;
                Stream* rec = nullptr;
                for (auto& [r, st] : by_conn[{i, k}]) {
                    if (r != conn.target) {
                        fig_.violation("sender slot " + str(i) + " connection " + str(k) +
                                       " was meant for receiver slot " + str(conn.target) +
                                       " but receiver slot " + str(r) + " got it");
                    } else if (rec != nullptr) {
                        fig_.violation("receiver slot " + str(r) + " recorded connection " +
                                       str(k) + " of sender slot " + str(i) + " twice");
                    } else {
                        rec = st;
                    }
                }
                const std::uint64_t got = rec != nullptr ? rec->count.load() : 0;
                if (got != 0 && rec->first_seq != first) {
                    fig_.lost_uncounted += rec->first_seq > first ? rec->first_seq - first : 0;
                    fig_.violation("receiver slot " + str(conn.target) + " started connection " +
                                   str(k) + " of sender slot " + str(i) + " at seq " +
                                   str(rec->first_seq) + ", not " + str(first));
                }
                if (got > hi) {
                    fig_.violation("receiver slot " + str(conn.target) + " got " + str(got) +
                                   " messages on connection " + str(k) + " of sender slot " +
                                   str(i) + ", which sent at most " + str(hi));
                    continue;
                }
                if (!receiver_survived(conn.target)) {
                    // Unread data dies with a killed receiver's socket.
                    fig_.lost_counted += lo > got ? lo - got : 0;
                    continue;
                }
                if (got < lo) {
                    fig_.lost_uncounted += lo - got;
                    fig_.violation("receiver slot " + str(conn.target) +
                                   " lived to the end but got " + str(got) + " of the " + str(lo) +
                                   " messages sender slot " + str(i) + " confirmed on connection " +
                                   str(k));
                }
                if (hi > lo) {
                    ++fig_.bracketed;
                } else {
                    ++fig_.exact;
                }
                if (!stream) {
                    continue;
                }
                const std::uint32_t end = rec != nullptr ? rec->end.load() : 0;
                const bool cut_by_kill = last && sender_killed;
                if (conn.end.load() == 2) {
                    fig_.violation("sender slot " + str(i) + " saw connection " + str(k) +
                                   " break, yet receiver slot " + str(conn.target) + " lived");
                } else if (rec == nullptr) {
                    fig_.violation("receiver slot " + str(conn.target) +
                                   " never recorded connection " + str(k) + " of sender slot " +
                                   str(i));
                } else if (end == 2 && !(cut_by_kill && v.maybe)) {
                    fig_.violation("connection " + str(k) + " of sender slot " + str(i) +
                                   " ended in a truncated frame, but the sender was not killed "
                                   "inside write_frame");
                } else if (end != 1 && end != 2) {
                    fig_.violation("connection " + str(k) + " of sender slot " + str(i) +
                                   " did not end cleanly (end=" + str(end) + ")");
                }
            }
        }
    }

    // ---- locks

    void locks() {
        const bool robust = f_ == Facility::RobustMutex;
        std::uint64_t owner_died = run_.final_owner_died ? 1 : 0;
        std::uint64_t dead_owner = run_.final_dead_owner != 0 ? 1 : 0;
        std::uint64_t broken = 0, intruded = 0;
        std::set<std::int32_t> killed;
        std::uint64_t kills = 0, critical = 0, failed = 0;
        for (std::uint32_t i = 0; i < run_.senders_used; ++i) {
            if (run_.senders[i].killed) {
                killed.insert(run_.senders[i].pid);
                ++kills;
                critical += run_.senders[i].critical_at_death ? 1U : 0U;
            }
            failed += arena_.sender(i).state.load() == kFailed ? 1U : 0U;
        }
        auto check_pid = [&](std::int32_t pid) {
            if (killed.count(pid) == 0) {
                fig_.violation("lock owner pid " + std::to_string(pid) +
                               " was found dead-holding, but it was never killed");
            }
        };
        if (run_.final_dead_owner != 0) {
            check_pid(run_.final_dead_owner);
        }
        for (std::uint32_t i = 0; i < run_.senders_used; ++i) {
            SenderSlot& s = arena_.sender(i);
            owner_died += s.owner_died.load();
            dead_owner += s.dead_owner.load();
            fig_.repaired += s.repaired.load();
            broken += s.broken.load();
            intruded += s.intruded.load();
            const std::uint32_t n = std::min<std::uint32_t>(s.n_dead_pids.load(), 8);
            for (std::uint32_t k = 0; k < n; ++k) {
                check_pid(s.dead_pids[k].load());
            }
            if (s.injected.load() != 0) {
                fig_.violation("(--inject-loss: worker slot " + str(i) + " left half an update)");
            }
        }
        fig_.owner_died = robust ? owner_died : dead_owner;
        if (broken != 0) {
            fig_.violation(str(broken) +
                           " times the pair was torn with no owner death to explain it");
        }
        if (intruded != 0) {
            fig_.violation(str(intruded) +
                           " times another process entered while the lock was held");
        }
        if (robust && owner_died < critical) {
            fig_.violation(str(critical) + " holders were killed but only " + str(owner_died) +
                           " OwnerDied outcomes were seen");
        }
        if (robust && owner_died > kills + failed) {
            fig_.violation(str(owner_died) + " OwnerDied outcomes for only " + str(kills) +
                           " killed workers");
        }
        if (dead_owner > critical) {
            fig_.violation(str(dead_owner) + " dead owners found for only " + str(critical) +
                           " holders killed");
        }
        if (!run_.final_lock) {
            fig_.violation("the supervisor could not take the lock at the end");
            return;
        }
        if (run_.final_a != run_.final_b) {
            fig_.violation("at the end a=" + str(run_.final_a) + " b=" + str(run_.final_b));
        }
        if (run_.final_a < fig_.confirmed || run_.final_a > fig_.confirmed + kills + failed) {
            fig_.violation("a=" + str(run_.final_a) + " after " + str(fig_.confirmed) +
                           " confirmed updates and " + str(kills) + " killed workers");
        }
        fig_.checked = fig_.confirmed;
    }

    Facility f_;
    Arena& arena_;
    const RunRecord& run_;
    Figures& fig_;
    std::vector<SenderView> views_;
};

}  // namespace

void check_run(Facility facility, Arena& arena, const RunRecord& run, Figures& f) {
    Checker(facility, arena, run, f).run();
}

}  // namespace chaos
