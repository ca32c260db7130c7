// SPDX-License-Identifier: MIT
// GroupConsumer: one of a group of competing consumers of a channel (a work queue).
#pragma once

#include "ipckit/channel/channel_config.hpp"
#include "ipckit/core/deadline.hpp"
#include "ipckit/core/result.hpp"
#include "ipckit/export.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ipckit {

namespace detail {
struct GroupConsumerImpl;
}
class WaitSet;

/// What happens to a message a consumer held when it died (fixed when the group is created).
enum class GroupDelivery : std::uint32_t {
    /// Given again to another consumer of the group, flagged redelivered (the default: work that
    /// vanishes silently is worse than work done twice).
    AtLeastOnce = 0,
    /// Dropped and counted in the group's lost count.
    AtMostOnce = 1,
};

struct IPCKIT_API GroupOptions {
    /// Empty: join the group as it is (a new group is at-least-once). Given: a new group gets it,
    /// an existing group with the other delivery is an error.
    std::optional<GroupDelivery> delivery;
    ChannelOptions channel{};
};

/// A message taken by a GroupConsumer: no other consumer of its group gets it (unless this
/// consumer dies holding it, at-least-once). Read-only, zero-copy; releasing it (or destroying
/// it) is the acknowledgement. Move-only; must not outlive its GroupConsumer.
class IPCKIT_API GroupSample {
public:
    GroupSample(GroupSample&& o) noexcept
        : owner_(std::exchange(o.owner_, nullptr))
        , data_(o.data_)
        , size_(o.size_)
        , slot_(o.slot_)
        , lane_(o.lane_)
        , redelivered_(o.redelivered_) {}
    GroupSample& operator=(GroupSample&& o) noexcept;
    GroupSample(const GroupSample&) = delete;
    GroupSample& operator=(const GroupSample&) = delete;
    ~GroupSample() {
        if (owner_ != nullptr) {
            release();
        }
    }
    [[nodiscard]] const std::byte* data() const noexcept { return data_; }
    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    [[nodiscard]] std::span<const std::byte> bytes() const noexcept { return {data_, size_}; }
    [[nodiscard]] std::uint32_t publisher() const noexcept { return lane_; }
    /// True when a consumer of the group died holding this message before (at-least-once).
    [[nodiscard]] bool redelivered() const noexcept { return redelivered_; }
    /// Acknowledges the message (the publisher may reuse its space).
    void release() noexcept;

private:
    friend struct detail::GroupConsumerImpl;
    GroupSample() noexcept = default;
    detail::GroupConsumerImpl* owner_ = nullptr;
    const std::byte* data_ = nullptr;
    std::size_t size_ = 0;
    std::uint32_t slot_ = 0;
    std::uint32_t lane_ = 0;
    bool redelivered_ = false;
};

/// What a copying receive delivered.
struct IPCKIT_API GroupReceived {
    std::size_t size = 0;
    std::uint32_t publisher = 0;
    bool redelivered = false;
};

/// One consumer of a named group on a block-mode channel: each message published while the group
/// has a live consumer goes to exactly one of its consumers; several groups (and ordinary
/// subscribers) read the same channel independently. A block-mode publisher waits for the slowest
/// group. Holds one member record of the group by an OFD lock for its lifetime.
///
/// Group names: 1..63 characters of [A-Za-z0-9._-]. Not thread-safe; create after fork.
///
/// @code
///   auto c = GroupConsumer::open("chan:jobs", "workers").value();
///   while (auto s = c.receive_for(1s).value()) work((*s).bytes());  // released: acknowledged
/// @endcode
class IPCKIT_API GroupConsumer {
public:
    static Result<GroupConsumer> open(std::string_view channel,
                                      std::string_view group,
                                      const GroupOptions& options = {});

    GroupConsumer(const GroupConsumer&) = delete;
    GroupConsumer& operator=(const GroupConsumer&) = delete;
    GroupConsumer(GroupConsumer&& other) noexcept;
    GroupConsumer& operator=(GroupConsumer&& other) noexcept;
    ~GroupConsumer();

    /// Zero-copy. Errors: corrupt channel, loan quota (max_loans) exhausted, file removed.
    Result<std::optional<GroupSample>> try_receive();
    Result<std::optional<GroupSample>> receive_until(Deadline deadline);
    template <class Rep, class Period>
    Result<std::optional<GroupSample>> receive_for(std::chrono::duration<Rep, Period> d) {
        return receive_until(Deadline::after(d));
    }
    /// Copying into `out`, grown to the message's size (only for a message in the ring).
    Result<std::optional<GroupReceived>> receive_until(std::vector<std::byte>& out,
                                                       Deadline deadline);

    [[nodiscard]] std::uint64_t received_count() const noexcept;
    [[nodiscard]] std::uint64_t redelivered_count() const noexcept;
    /// Forged or corrupt claims and entries this consumer found (each resynchronised or dropped).
    [[nodiscard]] std::uint64_t corrupt_count() const noexcept;
    [[nodiscard]] GroupDelivery delivery() const noexcept;
    /// The channel's largest message, bytes.
    [[nodiscard]] std::size_t max_message_size() const noexcept;
    /// Index of the group in the channel's group table and of this consumer's record in it.
    [[nodiscard]] std::uint32_t group_index() const noexcept;
    [[nodiscard]] std::uint32_t member_index() const noexcept;

    /// Validates a group name without touching the file system.
    static Result<std::string> validate_group_name(std::string_view group);

private:
    friend class WaitSet;  // readiness by loads and the channel's doorbell table
    explicit GroupConsumer(std::unique_ptr<detail::GroupConsumerImpl> impl) noexcept;
    std::unique_ptr<detail::GroupConsumerImpl> impl_;
};

}  // namespace ipckit
