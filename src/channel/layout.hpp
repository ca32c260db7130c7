// SPDX-License-Identifier: MIT
// The bytes of a channel file (docs/design/channel.md). Everything here lives in shared memory
// that other processes may write: read each field once into a local and check it.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace ipckit::detail {

inline constexpr std::uint64_t kMagic = 0x4e41484354'4b5049ULL;  // "IPKTCHAN" little-endian
inline constexpr std::uint32_t kLayoutVersion = 2;  // bump on any change below (2: groups)
inline constexpr std::size_t kHeaderBytes = 4096;
inline constexpr std::size_t kPubRecordBytes = 128;
inline constexpr std::size_t kSubRecordHead = 64;
inline constexpr std::size_t kRecordHeaderBytes = 16;
inline constexpr std::uint64_t kPadFlag = 1;
/// Set in every committed stamp, so that never-written (zero) memory is never a record.
inline constexpr std::uint64_t kValidFlag = 2;
inline constexpr std::uint64_t kUnknownFlags = 12;
inline constexpr std::uint64_t kStampFlagMask = 15;

// Caps: nothing derived from the file may exceed these.
inline constexpr std::uint64_t kMaxLaneBytes = std::uint64_t{1} << 34;
inline constexpr std::uint32_t kMaxPublishers = 1024;
inline constexpr std::uint32_t kMaxSubscribers = 65536;
inline constexpr std::uint32_t kMaxLoans = 1024;
inline constexpr std::uint32_t kMaxGroups = 256;
inline constexpr std::uint32_t kMaxGroupMembers = 1024;
inline constexpr std::size_t kGroupHeadBytes = 192;
inline constexpr std::size_t kMemberHeadBytes = 32;
inline constexpr std::size_t kGroupNameBytes = 64;  // a name of 1..63 characters, NUL padded
inline constexpr std::uint64_t kMaxFileBytes = std::uint64_t{1} << 40;
/// A record's length is a 32-bit field and record_bytes() must not wrap it.
inline constexpr std::uint64_t kMaxMessage = (std::uint64_t{1} << 32) - 16;

enum RecordState : std::uint32_t { Free = 0, Joining = 1, Active = 2 };

using A32 = std::atomic<std::uint32_t>;
using A64 = std::atomic<std::uint64_t>;
static_assert(A32::is_always_lock_free && A64::is_always_lock_free);
static_assert(sizeof(A32) == 4 && sizeof(A64) == 8);

// The padding is the point: alignas(64) gives each futex word and lanes_hw its own cache line.
struct Header {  // NOLINT(clang-analyzer-optin.performance.Padding)
    A64 magic;  // written last, with release, when the file is initialised
    A32 layout_version;
    A32 layout_hash;
    A64 file_size;
    A64 lane_bytes;
    A64 max_message_size;
    A32 max_publishers;
    A32 max_subscribers;
    A32 max_loans;
    A32 policy;
    A64 pub_table_off;
    A64 sub_table_off;
    A64 sub_record_bytes;
    A64 lanes_off;
    A32 creator_pid;
    A32 reserved0;
    alignas(64) A32 data_seq;  // futex: bumped when a publisher commits and someone sleeps
    A32 data_sleepers;
    alignas(64) A32 space_seq;  // futex: bumped when a subscriber frees space and a publisher sleeps
    A32 space_sleepers;
    alignas(64) A32 lanes_hw;  // lanes ever used (subscribers scan [0, lanes_hw))
    alignas(64) A32 max_groups;
    A32 max_group_members;
    A64 group_table_off;
    A64 group_record_bytes;
};
static_assert(sizeof(Header) <= kHeaderBytes);

// The padding is the point: the tail (polled by subscribers) gets its own cache line.
struct PubRecord {  // NOLINT(clang-analyzer-optin.performance.Padding)
    A32 state;
    A32 pid;
    A32 generation;
    A32 reserved;
    alignas(64) A64 tail;  // committed end position: the commit store (release)
    A64 floor;             // overwrite mode: positions below may be overwritten
    A64 next_seq;          // message number of the next record
    A64 published;
};
static_assert(sizeof(PubRecord) == kPubRecordBytes);

struct SubRecordHead {
    A32 state;
    A32 pid;
    A32 loans;
    A32 reserved;
    A64 received;
    A64 lost;
    A64 corrupt;
};
static_assert(sizeof(SubRecordHead) <= kSubRecordHead);
// followed by one A64 `hold` per lane

enum DeliveryWord : std::uint32_t { AtLeastOnceWord = 0, AtMostOnceWord = 1 };

/// A work-queue group (docs/design/patterns.md). Followed by one A64 claim per lane, then
/// max_group_members x (MemberHead + max_loans x MemberEntry).
struct GroupHead {
    A32 state;     // Free or Active; written under the group-table mutex
    A32 delivery;  // DeliveryWord
    A64 delivered;
    A64 redelivered;
    A64 lost;
    A64 corrupt;
    A64 reserved[3];
    std::atomic<char> name[kGroupNameBytes];  // NUL padded, written under the mutex
    A64 pad[8];
};
static_assert(sizeof(GroupHead) == kGroupHeadBytes);

struct MemberHead {
    A32 state;  // Free, Joining, Active; the record's first byte carries the owner's OFD lock
    A32 pid;
    A32 entries;  // entries in use (informational)
    A32 reserved;
    A64 received;     // messages this member took (informational)
    A64 redelivered;  // of which redelivered (informational)
};
static_assert(sizeof(MemberHead) == kMemberHeadBytes);

enum EntryKind : std::uint32_t { NoEntry = 0, Pending = 1, Held = 2, Adopted = 3 };
inline constexpr std::uint64_t kNoPos = ~std::uint64_t{0};

/// A record position a member claims or holds. Written only by its owner (or a reclaimer holding
/// the owner's lock): lane and kind first, then pos (release); cleared by pos = kNoPos.
struct MemberEntry {
    A64 pos;
    A32 lane;
    A32 kind;
};
static_assert(sizeof(MemberEntry) == 16);

struct RecordHeader {
    A64 stamp;  // its own position | kValidFlag [| kPadFlag]: the commit marker, stored last
    A32 len;
    A32 seq;  // low 32 bits of the lane's message number
};
static_assert(sizeof(RecordHeader) == kRecordHeaderBytes);

constexpr std::uint32_t layout_hash() noexcept {
    std::uint32_t h = 2166136261U;
    for (std::uint64_t v : {sizeof(Header),
                            alignof(Header),
                            sizeof(PubRecord),
                            alignof(PubRecord),
                            sizeof(SubRecordHead),
                            sizeof(RecordHeader),
                            sizeof(void*),
                            sizeof(GroupHead),
                            sizeof(MemberHead),
                            sizeof(MemberEntry)}) {
        h = (h ^ static_cast<std::uint32_t>(v)) * 16777619U;
    }
    return h;
}

constexpr std::uint64_t round_up(std::uint64_t v, std::uint64_t a) noexcept {
    return (v + a - 1) / a * a;
}
constexpr std::uint64_t record_bytes(std::uint64_t len) noexcept {
    return round_up(kRecordHeaderBytes + len, 16);
}

/// The locally trusted geometry: computed from validated parameters, never re-read.
struct Geometry {
    std::uint64_t lane_bytes = 0;
    std::uint64_t max_message_size = 0;
    std::uint32_t max_publishers = 0;
    std::uint32_t max_subscribers = 0;
    std::uint32_t max_loans = 0;
    std::uint32_t policy = 0;
    std::uint32_t max_groups = 0;
    std::uint32_t max_group_members = 0;
    std::uint64_t pub_table_off = 0;
    std::uint64_t sub_table_off = 0;
    std::uint64_t sub_record_bytes = 0;
    std::uint64_t lanes_off = 0;
    std::uint64_t file_size = 0;
    std::uint64_t group_table_off = 0;
    std::uint64_t group_record_bytes = 0;
    std::uint64_t member_bytes = 0;  // one member record: head + max_loans entries

    /// Fills the offsets from the parameters.
    void derive(std::uint64_t page) noexcept {
        pub_table_off = kHeaderBytes;
        sub_table_off = pub_table_off + std::uint64_t{max_publishers} * kPubRecordBytes;
        sub_record_bytes = round_up(kSubRecordHead + 8ULL * max_publishers, 64);
        group_table_off =
            round_up(sub_table_off + std::uint64_t{max_subscribers} * sub_record_bytes, 64);
        member_bytes = kMemberHeadBytes + 16ULL * max_loans;
        group_record_bytes = round_up(kGroupHeadBytes + 8ULL * max_publishers +
                                          std::uint64_t{max_group_members} * member_bytes,
                                      64);
        lanes_off =
            round_up(group_table_off + std::uint64_t{max_groups} * group_record_bytes, page);
        file_size = lanes_off + std::uint64_t{max_publishers} * lane_bytes;
    }
};

}  // namespace ipckit::detail
