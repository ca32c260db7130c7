// SPDX-License-Identifier: MIT
// ChannelFile: one open file description of a channel file, its validated geometry, and its
// mappings. Every participant has its own (OFD locks are per open file description).
#pragma once

#include "channel/layout.hpp"
#include "ipckit/channel/channel_config.hpp"
#include "ipckit/core/mapping.hpp"
#include "ipckit/core/result.hpp"
#include "ipckit/core/unique_fd.hpp"
#include "shm/sigbus_guard.hpp"

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace ipckit::detail {

enum class Role { Publisher, Subscriber, Inspector };

class ChannelFile {
public:
    /// Creates and initialises the file (exclusive); the result is open for a publisher.
    static Result<ChannelFile> create(std::string_view name, const ChannelConfig& config,
                                      Role role);
    static Result<ChannelFile> open(std::string_view name, const ChannelOptions& options,
                                    Role role);
    /// Opens, or creates if absent; an existing file must match `config` (field named).
    static Result<ChannelFile> open_or_create(std::string_view name, const ChannelConfig& config,
                                              Role role);

    [[nodiscard]] const Geometry& geometry() const noexcept { return g_; }
    [[nodiscard]] const std::string& name() const noexcept { return name_; }
    [[nodiscard]] int fd() const noexcept { return fd_.get(); }

    [[nodiscard]] Header& header() const noexcept {
        return *reinterpret_cast<Header*>(meta_base());  // NOLINT
    }
    [[nodiscard]] PubRecord& pub(std::uint32_t i) const noexcept {
        return *reinterpret_cast<PubRecord*>(meta_base() + g_.pub_table_off +  // NOLINT
                                             std::uint64_t{i} * kPubRecordBytes);
    }
    [[nodiscard]] SubRecordHead& sub(std::uint32_t i) const noexcept {
        return *reinterpret_cast<SubRecordHead*>(meta_base() + sub_off(i));  // NOLINT
    }
    [[nodiscard]] A64& hold(std::uint32_t sub_index, std::uint32_t lane) const noexcept {
        return *reinterpret_cast<A64*>(meta_base() + sub_off(sub_index) + kSubRecordHead +  // NOLINT
                                       8ULL * lane);
    }
    [[nodiscard]] std::byte* lane(std::uint32_t i) const noexcept {
        return const_cast<std::byte*>(lanes_.data()) + std::uint64_t{i} * g_.lane_bytes;  // NOLINT
    }
    [[nodiscard]] std::uint64_t pub_lock_off(std::uint32_t i) const noexcept {
        return g_.pub_table_off + std::uint64_t{i} * kPubRecordBytes;
    }
    [[nodiscard]] std::uint64_t sub_lock_off(std::uint32_t i) const noexcept { return sub_off(i); }

    // The group table (work queues). Indexes are the caller's, checked against the geometry.
    [[nodiscard]] std::uint64_t group_off(std::uint32_t gi) const noexcept {
        return g_.group_table_off + std::uint64_t{gi} * g_.group_record_bytes;
    }
    [[nodiscard]] GroupHead& group(std::uint32_t gi) const noexcept {
        return *reinterpret_cast<GroupHead*>(meta_base() + group_off(gi));  // NOLINT
    }
    [[nodiscard]] A64& claim(std::uint32_t gi, std::uint32_t lane) const noexcept {
        return *reinterpret_cast<A64*>(meta_base() + group_off(gi) + kGroupHeadBytes +  // NOLINT
                                       8ULL * lane);
    }
    [[nodiscard]] std::uint64_t member_off(std::uint32_t gi, std::uint32_t mi) const noexcept {
        return group_off(gi) + kGroupHeadBytes + 8ULL * g_.max_publishers +
               std::uint64_t{mi} * g_.member_bytes;
    }
    [[nodiscard]] MemberHead& member(std::uint32_t gi, std::uint32_t mi) const noexcept {
        return *reinterpret_cast<MemberHead*>(meta_base() + member_off(gi, mi));  // NOLINT
    }
    [[nodiscard]] MemberEntry& entry(std::uint32_t gi,
                                     std::uint32_t mi,
                                     std::uint32_t k) const noexcept {
        return *reinterpret_cast<MemberEntry*>(meta_base() + member_off(gi, mi) +  // NOLINT
                                               kMemberHeadBytes + 16ULL * k);
    }
    /// The group table's mutex (joins, creation, reclaiming): an OFD lock on its first byte.
    [[nodiscard]] std::uint64_t group_table_lock_off() const noexcept { return g_.group_table_off; }

    /// OFD write lock on one byte: true if taken, false if another description holds it.
    [[nodiscard]] Result<bool> try_lock(std::uint64_t off) const;
    void unlock(std::uint64_t off) const noexcept;
    /// True if another open file description holds a lock on the byte (its owner is alive).
    [[nodiscard]] Result<bool> locked_by_other(std::uint64_t off) const;
    /// Error if the file was unlinked (logind RemoveIPC, rm) or replaced under us (D16),
    /// truncated below its size, or a SIGBUS hit our mappings (see faulted()).
    Result<void> check_intact() const;
    /// True once a SIGBUS in one of our mappings was caught (the file was truncated under us, or
    /// a page could not be allocated): the mapping is private zeros now, every call must fail.
    [[nodiscard]] bool faulted() const noexcept {
        return meta_guard_.faulted() || lanes_guard_.faulted();
    }
    /// Error if the header's magic or version changed since open (hostile or corrupting peer).
    Result<void> check_header() const;
    /// The cheap form of check_header for hot paths.
    [[nodiscard]] bool header_ok() const noexcept {
        return header().magic.load(std::memory_order_relaxed) == kMagic &&
               header().layout_version.load(std::memory_order_relaxed) == kLayoutVersion;
    }
    [[nodiscard]] Error corrupt(const char* op, std::string detail) const;

private:
    ChannelFile() = default;
    [[nodiscard]] std::byte* meta_base() const noexcept {
        return const_cast<std::byte*>(meta_.data());  // NOLINT
    }
    [[nodiscard]] std::uint64_t sub_off(std::uint32_t i) const noexcept {
        return g_.sub_table_off + std::uint64_t{i} * g_.sub_record_bytes;
    }
    Result<void> map(Role role);
    /// create()'s steps after the exclusive open: lock byte 0, size, map, write the header,
    /// publish the magic, apply the final mode.
    Result<void> initialise(const std::string& path, const ChannelConfig& config);
    /// open()'s bounded wait for the creator to publish the magic; returns the header mapping
    /// and the file's last fstat.
    Result<Mapping> wait_initialised(const std::string& path, const ChannelOptions& options,
                                     struct stat* st) const;
    /// Why an uninitialised file with no live creator cannot be opened (A18).
    [[nodiscard]] Error init_failure(const Mapping& head, const struct stat& st) const;

    UniqueFd fd_;
    Mapping meta_;
    Mapping lanes_;
    // After the mappings: a guard stops watching before its mapping is unmapped.
    detail::SigbusGuard meta_guard_;
    detail::SigbusGuard lanes_guard_;
    Geometry g_;
    std::string name_;
};

/// "NAME" from "NAME" or "chan:NAME", validated (A22).
Result<std::string> validate_channel_name(std::string_view name);
/// Opens the channel directory (D18) O_DIRECTORY|O_NOFOLLOW and checks its owner and mode.
Result<UniqueFd> open_channel_dir(const std::string& dir_option, std::string* path_out);

}  // namespace ipckit::detail
