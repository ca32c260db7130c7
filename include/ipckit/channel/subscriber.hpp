// SPDX-License-Identifier: MIT
// Subscriber: receives every message published after it joined, zero-copy or by copy.
#pragma once

#include "ipckit/channel/channel_config.hpp"
#include "ipckit/core/deadline.hpp"
#include "ipckit/core/result.hpp"
#include "ipckit/export.hpp"

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace ipckit {

namespace detail {
struct SubscriberImpl;
}
class WaitSet;

/// A received message, read-only, in shared memory (mapped PROT_READ). Valid until destroyed or
/// passed to Subscriber::release(). Counts against the channel's max_loans. Move-only; must not
/// outlive its Subscriber.
class IPCKIT_API Sample {
public:
    Sample(Sample&& other) noexcept
        : owner_(std::exchange(other.owner_, nullptr)),
          data_(other.data_),
          size_(other.size_),
          pos_(other.pos_),
          lost_before_(other.lost_before_),
          lane_(other.lane_) {}
    Sample& operator=(Sample&& other) noexcept;
    Sample(const Sample&) = delete;
    Sample& operator=(const Sample&) = delete;
    ~Sample() {
        if (owner_ != nullptr) {
            release();
        }
    }

    [[nodiscard]] const std::byte* data() const noexcept { return data_; }
    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    [[nodiscard]] std::span<const std::byte> bytes() const noexcept { return {data_, size_}; }
    /// Publisher lane it came from (order is kept per lane).
    [[nodiscard]] std::uint32_t publisher() const noexcept { return lane_; }
    /// Messages of this publisher lost just before this one (overwrite mode, or a publisher that
    /// died mid-publish). received + lost = published.
    [[nodiscard]] std::uint64_t lost_before() const noexcept { return lost_before_; }
    /// Overwrite mode: false once the publisher may have overwritten the bytes. Always true in
    /// block mode (the publisher waits for released samples).
    [[nodiscard]] bool still_valid() const noexcept;
    template <class T>
    [[nodiscard]] std::optional<T> copy_as() const noexcept {
        static_assert(std::is_trivially_copyable_v<T>);
        if (size_ != sizeof(T)) {
            return std::nullopt;
        }
        T v{};
        std::memcpy(&v, data_, sizeof(T));
        return v;
    }

private:
    friend class Subscriber;
    friend struct detail::SubscriberImpl;
    Sample() noexcept = default;
    /// Gives the record back to its subscriber (its publisher may reuse the space).
    void release() noexcept;
    detail::SubscriberImpl* owner_ = nullptr;
    const std::byte* data_ = nullptr;
    std::size_t size_ = 0;
    std::uint64_t pos_ = 0;
    std::uint64_t lost_before_ = 0;
    std::uint32_t lane_ = 0;
};

/// What a copying receive delivered.
struct IPCKIT_API Received {
    std::size_t size = 0;
    std::uint32_t publisher = 0;
    std::uint64_t lost_before = 0;
};

/// One subscriber of a channel. Owns an open file description of the channel file, a read-write
/// mapping of the header and tables, a PROT_READ mapping of the payload lanes, and one subscriber
/// record held by an OFD lock for its lifetime. Starts at the head: it sees messages published
/// after open() returned.
///
/// Not thread-safe. Fork: create subscribers after fork. Fds are CLOEXEC.
///
/// @code
///   auto sub = Subscriber::open("chan:prices").value();
///   if (auto s = sub.receive_for(1s).value()) use((*s).bytes());
/// @endcode
class IPCKIT_API Subscriber {
public:
    static Result<Subscriber> open(std::string_view name, const ChannelOptions& options = {});
    static Result<Subscriber> create(std::string_view name, const ChannelConfig& config);
    static Result<Subscriber> open_or_create(std::string_view name, const ChannelConfig& config);

    Subscriber(const Subscriber&) = delete;
    Subscriber& operator=(const Subscriber&) = delete;
    Subscriber(Subscriber&& other) noexcept;
    Subscriber& operator=(Subscriber&& other) noexcept;
    ~Subscriber();

    /// Zero-copy. Errors: corrupt channel, loan quota exhausted, channel file removed.
    Result<std::optional<Sample>> try_receive();
    Result<std::optional<Sample>> receive_until(Deadline deadline);
    Result<Sample> receive();
    template <class Rep, class Period>
    Result<std::optional<Sample>> receive_for(std::chrono::duration<Rep, Period> d) {
        return receive_until(Deadline::after(d));
    }
    void release(Sample&& sample) noexcept;

    /// Copying: copies the next message into `out` (error if it does not fit; nothing consumed).
    Result<std::optional<Received>> try_receive(std::span<std::byte> out);
    Result<std::optional<Received>> receive_until(std::span<std::byte> out, Deadline deadline);
    /// Copying into `out`, which grows to the size of the next message when it is too small (at
    /// most max_message_size, and only for a message that is in the ring: nothing is allocated from a
    /// size the channel file merely claims). Received::size bytes of `out` are the message.
    Result<std::optional<Received>> receive_until(std::vector<std::byte>& out, Deadline deadline);

    /// Opt-in: an fd (owned by the Subscriber) for poll/epoll that becomes readable when messages
    /// may be waiting. After it polls readable: read() its 8-byte counter, then try_receive()
    /// until empty. Readiness can be spurious, never missed. Costs a helper thread that sleeps
    /// on the channel's futex; while it exists publishers always make the wake-up call. Not
    /// inherited usefully across fork.
    Result<int> notification_fd();

    [[nodiscard]] std::uint64_t received_count() const noexcept;
    [[nodiscard]] std::uint64_t lost_count() const noexcept;
    [[nodiscard]] std::uint64_t corrupt_count() const noexcept;
    [[nodiscard]] std::size_t max_message_size() const noexcept;
    [[nodiscard]] std::uint32_t index() const noexcept;

private:
    friend class WaitSet;  // readiness by loads and the doorbell table (event/wait_set.cpp)
    explicit Subscriber(std::unique_ptr<detail::SubscriberImpl> impl) noexcept;
    std::unique_ptr<detail::SubscriberImpl> impl_;
};

/// A Subscriber of trivially copyable T values (copying receive; zero-copy via untyped()).
template <class T>
class TypedSubscriber {
    static_assert(std::is_trivially_copyable_v<T>);

public:
    explicit TypedSubscriber(Subscriber s) noexcept : s_(std::move(s)) {}
    static Result<TypedSubscriber> open(std::string_view name, const ChannelOptions& o = {}) {
        auto s = Subscriber::open(name, o);
        if (!s) {
            return std::move(s).error();
        }
        return TypedSubscriber(std::move(*s));
    }
    /// Empty on timeout. A message of the wrong size is an error.
    Result<std::optional<T>> receive_until(Deadline deadline) {
        T v{};
        auto r = s_.receive_until(std::as_writable_bytes(std::span<T, 1>(&v, 1)), deadline);
        if (!r) {
            return std::move(r).error();
        }
        if (!*r) {
            return std::optional<T>();
        }
        if ((*r)->size != sizeof(T)) {
            return Error(std::errc::bad_message, "chan receive", "typed",
                         "message size differs from sizeof(T)");
        }
        return std::optional<T>(v);
    }
    Result<std::optional<T>> try_receive() {
        T v{};
        auto r = s_.try_receive(std::as_writable_bytes(std::span<T, 1>(&v, 1)));
        if (!r) {
            return std::move(r).error();
        }
        if (!*r) {
            return std::optional<T>();
        }
        if ((*r)->size != sizeof(T)) {
            return Error(std::errc::bad_message, "chan receive", "typed",
                         "message size differs from sizeof(T)");
        }
        return std::optional<T>(v);
    }
    Subscriber& untyped() noexcept { return s_; }

private:
    Subscriber s_;
};

}  // namespace ipckit
