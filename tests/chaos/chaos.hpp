// SPDX-License-Identifier: MIT
// ipckit_chaos (RELIABILITY C04, docs/design/chaos.md): the results table shared by the supervisor
// and every peer it forks, the message format, and the roles. A test tool: it ships nowhere.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace chaos {

inline constexpr std::uint32_t kNone = 0xffffffffU;
/// Join-counter changes one publisher incarnation can log before it retires.
inline constexpr std::uint32_t kMaxMarks = 512;
/// Connections (datagram targets, stream connections) of one sender incarnation.
inline constexpr std::uint32_t kMaxConns = 256;
/// Streams (one per sender incarnation or connection) one receiver incarnation can record.
inline constexpr std::uint32_t kMaxStreams = 2048;
/// Messages one queue sender incarnation may send (its bit in the shared bitmap).
inline constexpr std::uint64_t kBitmapBits = std::uint64_t{1} << 20;
inline constexpr std::uint32_t kMaxPeers = 16;
/// Largest message; stream frames up to kMaxFrame.
inline constexpr std::size_t kMaxMessage = 1024;
inline constexpr std::size_t kMaxFrame = 64 * 1024;

enum class Facility : std::uint32_t {
    ChanBlock,
    ChanOverwrite,
    PosixMq,
    SysvMq,
    UnixDgram,
    Stream,
    RobustMutex,
    SemUndo,
    Group,     ///< a block-mode channel consumed by an at-least-once GroupConsumer group
    GroupAmo,  ///< the same with an at-most-once group
};
inline constexpr Facility kAllFacilities[] = {
    Facility::ChanBlock,
    Facility::ChanOverwrite,
    Facility::PosixMq,
    Facility::SysvMq,
    Facility::UnixDgram,
    Facility::Stream,
    Facility::RobustMutex,
    Facility::SemUndo,
    Facility::Group,
    Facility::GroupAmo,
};
std::string_view facility_name(Facility f) noexcept;
inline bool is_channel(Facility f) noexcept {
    return f == Facility::ChanBlock || f == Facility::ChanOverwrite;
}
inline bool is_lock(Facility f) noexcept {
    return f == Facility::RobustMutex || f == Facility::SemUndo;
}
inline bool is_queue(Facility f) noexcept {
    return f == Facility::PosixMq || f == Facility::SysvMq;
}
/// Facilities checked through the per-sender seen-bitmaps (competing consumers).
inline bool is_group(Facility f) noexcept {
    return f == Facility::Group || f == Facility::GroupAmo;
}
inline bool has_bitmaps(Facility f) noexcept {
    return is_queue(f) || is_group(f);
}

/// Life of one incarnation. The peer writes Starting..Retired itself; Killed and Failed are the
/// supervisor's verdict after reaping it.
enum SlotState : std::uint32_t {
    kUnused = 0,
    kStarting,
    kReady,
    kClean,    ///< exited 0 after a stop request
    kRetired,  ///< exited 0 because its table filled; restarted
    kKilled,   ///< SIGKILLed by the chaos loop
    kFailed,   ///< exited non-zero or died of another signal: a violation
};

/// Fault points a restarted peer may be armed with (IPCKIT_FAULT_POINT=<name>:stop).
inline constexpr const char* kFaultPoints[] = {
    "",
    "chan.publish.after_claim",
    "chan.publish.mid_write",
    "chan.publish.after_commit",
    "chan.subscribe.after_lock",
};

struct Mark {
    std::uint64_t seq;  ///< first message with this value
    std::uint64_t gen;  ///< the join counter G read for it
};

/// One datagram target or stream connection of a sender: a contiguous run of its seqs, from
/// first_seq to the next connection's first_seq (or to its confirmed count for the last).
struct Conn {
    std::uint32_t target;            ///< receiver slot
    std::atomic<std::uint32_t> end;  ///< 0 open or cut by a kill, 1 closed cleanly, 2 broken
    std::uint64_t first_seq;
};

/// Fields the supervisor alone writes live in SupervisorView (below), never here.
struct SenderSlot {
    std::atomic<std::uint32_t> state;
    std::atomic<std::uint32_t> critical;  ///< inside a send / holding the lock
    std::uint32_t peer;
    std::uint32_t fault;                     ///< index into kFaultPoints (0: none)
    std::atomic<std::uint64_t> fault_after;  ///< arm the fault point after this many messages
    /// 2 * confirmed + 1 while a send is under way: a killed sender's last message is known to
    /// be absent or exactly seq == confirmed.
    std::atomic<std::uint64_t> progress;
    // ---- channel
    std::atomic<std::uint32_t> lane;  ///< kNone until known
    std::atomic<std::uint64_t> ticket;
    std::atomic<std::uint32_t> n_pre;
    std::atomic<std::uint32_t> n_post;
    Mark pre[kMaxMarks];   ///< G read before the loan
    Mark post[kMaxMarks];  ///< G read after publish() (behind a seq_cst fence)
    // ---- datagram / stream
    std::atomic<std::uint32_t> n_conns;
    Conn conns[kMaxConns];
    // ---- locks
    std::atomic<std::uint64_t> owner_died;   ///< robust mutex: OwnerDied outcomes
    std::atomic<std::uint64_t> dead_owner;   ///< owner field found set by a dead holder
    std::atomic<std::uint64_t> repaired;     ///< a != b found and repaired
    std::atomic<std::uint64_t> broken;       ///< invariant broken without an owner death
    std::atomic<std::uint64_t> intruded;     ///< owner changed under us while we held the lock
    std::atomic<std::int32_t> dead_pids[8];  ///< first dead owners found (checked against kills)
    std::atomic<std::uint32_t> n_dead_pids;
    std::atomic<std::uint32_t> injected;
    char error[240];
};

struct Stream {
    std::uint32_t sender;       ///< sender slot
    std::uint32_t conn;         ///< connection index (datagram, stream), 0 otherwise
    std::uint32_t lane;         ///< channel lane
    std::uint32_t prev_sender;  ///< channel: sender of the previous message on the lane, or kNone
    std::uint64_t prev_seq;
    std::uint64_t first_seq;
    std::uint64_t first_lost;  ///< lost_before of the first message (+ discarded ones before it)
    std::atomic<std::uint64_t> last_seq;
    std::atomic<std::uint64_t> count;
    std::atomic<std::uint32_t> end;  ///< stream: 0 open, 1 end of stream, 2 truncated, 3 error
    std::uint32_t pad;
};

struct ReceiverSlot {
    std::atomic<std::uint32_t> state;
    std::atomic<std::uint32_t> critical;  ///< holding a sample / between dequeue and record
    std::uint32_t peer;
    std::uint32_t fault;
    std::atomic<std::uint64_t> g_pre;   ///< channel: G read before open() (0: unknown)
    std::atomic<std::uint64_t> g_join;  ///< channel: G after open() returned (0: unknown)
    std::atomic<std::uint64_t> received;
    std::atomic<std::uint64_t> bad;            ///< bad checksum / malformed
    std::atomic<std::uint64_t> dup;            ///< duplicate
    std::atomic<std::uint64_t> reorder;        ///< out of order
    std::atomic<std::uint64_t> gap;            ///< missing seqs not counted by the facility
    std::atomic<std::uint64_t> overcount;      ///< lost_before larger than the gap
    std::atomic<std::uint64_t> lost;           ///< lost_before seen (raw, from the library)
    std::atomic<std::uint64_t> lossless_lost;  ///< lost_before != 0 in block mode
    std::atomic<std::uint64_t> torn;           ///< overwrite: sample overwritten while read
    std::atomic<std::uint64_t> truncated;      ///< stream: truncated frames
    std::atomic<std::uint64_t> misrouted;      ///< wrong lane / unknown sender / wrong target
    std::atomic<std::uint64_t> redelivered;    ///< group: deliveries flagged redelivered
    /// group: the message recorded and not yet acknowledged (held == 1; 2 while acknowledging,
    /// when a kill is ambiguous), for the check that a
    /// consumer killed holding it causes a redelivery; and the redeliveries this one got.
    std::atomic<std::uint32_t> held;
    std::atomic<std::uint32_t> held_sender;
    std::atomic<std::uint64_t> held_seq;
    std::atomic<std::uint32_t> n_redelivered_log;
    std::atomic<std::uint64_t> redelivered_log[64];  ///< sender << 40 | seq
    std::atomic<std::uint64_t> lib_received;   ///< Subscriber counters at a clean exit
    std::atomic<std::uint64_t> lib_lost;
    std::atomic<std::uint64_t> lib_corrupt;
    std::atomic<std::uint32_t> lib_valid;
    std::atomic<std::uint32_t> injected;
    std::atomic<std::uint32_t> n_streams;
    char error[240];
    Stream streams[kMaxStreams];
};

struct Header {
    std::atomic<std::uint64_t> g;        ///< channel join counter, starts at 1
    std::atomic<std::uint64_t> tickets;  ///< channel lane tickets
    std::atomic<std::uint32_t> stop_senders;
    std::atomic<std::uint32_t> drain;
    std::atomic<std::uint32_t> inject;              ///< --inject-loss: 1 armed, 2 done
    std::atomic<std::uint32_t> current[kMaxPeers];  ///< receiver index -> live slot (datagram)
    // sem-undo: the protected pair (robust-mutex keeps its own in the shm object)
    alignas(64) std::atomic<std::uint64_t> a;
    std::atomic<std::uint64_t> b;
    std::atomic<std::int32_t> owner;
    // group facilities: the group's own counts, read by the supervisor after every peer exited
    std::atomic<std::uint64_t> group_lost;
    std::atomic<std::uint64_t> group_corrupt;
};

/// What the robust-mutex facility keeps in its named shm object.
struct LockedPair {
    alignas(64) unsigned char mutex[64];
    std::atomic<std::uint64_t> a;
    std::atomic<std::uint64_t> b;
    std::atomic<std::int32_t> owner;
};

/// The shared table: one anonymous MAP_SHARED mapping made before the first fork.
class Arena {
public:
    Arena(std::uint32_t sender_slots, std::uint32_t receiver_slots, bool bitmaps);
    ~Arena();
    Arena(const Arena&) = delete;
    Arena& operator=(const Arena&) = delete;

    Header& header() noexcept { return *header_; }
    SenderSlot& sender(std::uint32_t i) noexcept { return senders_[i]; }
    ReceiverSlot& receiver(std::uint32_t i) noexcept { return receivers_[i]; }
    [[nodiscard]] std::uint32_t sender_slots() const noexcept { return n_senders_; }
    [[nodiscard]] std::uint32_t receiver_slots() const noexcept { return n_receivers_; }
    /// The seen-bitmap of a sender slot (queues only).
    std::atomic<std::uint64_t>* bitmap(std::uint32_t sender) noexcept {
        return bitmaps_ + std::size_t{sender} * (kBitmapBits / 64);
    }
    [[nodiscard]] bool has_bitmaps() const noexcept { return bitmaps_ != nullptr; }

private:
    void* base_ = nullptr;
    std::size_t size_ = 0;
    Header* header_ = nullptr;
    SenderSlot* senders_ = nullptr;
    ReceiverSlot* receivers_ = nullptr;
    std::atomic<std::uint64_t>* bitmaps_ = nullptr;
    std::uint32_t n_senders_ = 0;
    std::uint32_t n_receivers_ = 0;
};

// ---- messages: {header, payload}; the checksum covers both.
struct MsgHeader {
    std::uint32_t magic;
    std::uint32_t sender;
    std::uint32_t conn;
    std::uint32_t size;  ///< whole message
    std::uint64_t seq;
    std::uint64_t gen;
    std::uint64_t checksum;
};
inline constexpr std::uint32_t kMagic = 0x4f414843U;      // "CHAO"
inline constexpr std::uint32_t kOpenMagic = 0x4e45504fU;  // "OPEN": first frame of a stream
inline constexpr std::size_t kHeaderSize = sizeof(MsgHeader);

/// Writes a message of `size` bytes (>= kHeaderSize) into `out`.
void build_message(std::span<std::byte> out,
                   std::uint32_t magic,
                   std::uint32_t sender,
                   std::uint32_t conn,
                   std::uint64_t seq,
                   std::uint64_t gen);
/// Validates size, magic and checksum; fills `h`.
bool parse_message(std::span<const std::byte> in, MsgHeader& h, std::uint32_t magic = kMagic);

// ---- what a forked peer gets
struct Names {
    std::string prefix;    ///< "ipckit-test-chaos-<pid>"
    std::string channel;   ///< channel name
    std::string mq;        ///< "/<prefix>-mq"
    std::string shm;       ///< "/<prefix>-mutex"
    std::string sock_dir;  ///< stream socket directory
    int sysv_id = -1;      ///< SysV queue or semaphore set
};

struct Options {
    std::vector<Facility> facilities;
    double duration = 2.0;  ///< seconds of chaos per facility
    std::uint32_t senders = 2;
    std::uint32_t receivers = 2;
    std::uint64_t seed = 1;
    bool inject_loss = false;
    bool verbose = false;
};

struct PeerContext {
    Facility facility;
    const Options* options;
    const Names* names;
    Arena* arena;
    std::uint32_t slot;
    std::uint32_t peer;
    std::mt19937_64 rng;
};

/// Role bodies, run in the forked child; the return value is its exit code.
int run_sender(PeerContext& ctx);
int run_receiver(PeerContext& ctx);
int run_channel_publisher(PeerContext& ctx);
int run_channel_subscriber(PeerContext& ctx);
int run_queue_sender(PeerContext& ctx);
int run_queue_receiver(PeerContext& ctx);
int run_dgram_sender(PeerContext& ctx);
int run_dgram_receiver(PeerContext& ctx);
int run_stream_sender(PeerContext& ctx);
int run_stream_receiver(PeerContext& ctx);
int run_lock_worker(PeerContext& ctx);
int run_group_publisher(PeerContext& ctx);
int run_group_consumer(PeerContext& ctx);
/// The group the `group` facility's consumers join.
inline constexpr const char* kGroupName = "chaos";

/// Exit code of a peer that recorded an error in its slot.
inline constexpr int kPeerError = 3;
/// Records `what` as the slot's error (first one wins) and returns kPeerError.
int fail(SenderSlot& s, const std::string& what);
int fail(ReceiverSlot& r, const std::string& what);

// ---- helpers shared by the roles
/// Appends a stream record; nullptr (after retiring) when the table is full.
Stream* add_stream(ReceiverSlot& r, std::uint32_t sender, std::uint32_t conn);
/// Records the first message of a stream.
void start_stream(Stream& st, std::uint64_t seq);
/// Online check of one message of a gap-free stream (datagram, stream): returns false for a
/// duplicate or reordered message (counted), counts a gap.
void record_contiguous(ReceiverSlot& r, Stream& st, std::uint64_t seq);
/// True once this process won the single --inject-loss drop (and is then spared by the chaos).
bool take_injection(Header& h);
/// A random message size in [lo, hi].
std::size_t random_size(std::mt19937_64& rng, std::size_t lo, std::size_t hi);
std::uint64_t now_ns() noexcept;
/// A spin-wait hint.
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
}

// ---- the supervisor's verdict, per facility
struct Figures {
    std::uint64_t runs = 0, kills = 0, aimed = 0, fault_kills = 0, critical_kills = 0, stops = 0,
                  restarts = 0, retired = 0;
    std::uint64_t sent = 0, confirmed = 0, checked = 0;
    std::uint64_t lost_counted = 0, lost_uncounted = 0, dup = 0, reorder = 0, bad = 0,
                  truncated = 0, torn = 0, exact = 0, bracketed = 0, redelivered = 0,
                  group_corrupt = 0, held_redelivered = 0, group_lost = 0, held_killed = 0;
    std::uint64_t owner_died = 0, repaired = 0;
    std::vector<std::string> violations;
    void violation(std::string v) { violations.push_back(std::move(v)); }
};

/// What the supervisor knows about every incarnation after reaping it.
struct Incarnation {
    pid_t pid = 0;
    bool killed = false;  ///< by the chaos loop
    bool critical_at_death = false;
    bool final = false;  ///< the incarnation alive when the run was stopped
    bool spared = false;
};
struct RunRecord {
    std::vector<Incarnation> senders;    ///< by sender slot
    std::vector<Incarnation> receivers;  ///< by receiver slot
    std::uint32_t senders_used = 0;
    std::uint32_t receivers_used = 0;
    // Locks: what the supervisor found when it took the lock itself after the workers exited.
    bool final_lock = false;
    std::uint64_t final_a = 0, final_b = 0;
    bool final_owner_died = false;
    std::int32_t final_dead_owner = 0;
};

/// The end-of-run checks of docs/design/chaos.md; adds to `f`.
void check_run(Facility facility, Arena& arena, const RunRecord& run, Figures& f);

}  // namespace chaos
