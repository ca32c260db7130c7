// SPDX-License-Identifier: MIT
// Publisher: writes zero-copy messages into its own lane of a channel.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <type_traits>
#include <utility>

#include "ipckit/channel/channel_config.hpp"
#include "ipckit/core/deadline.hpp"
#include "ipckit/core/result.hpp"
#include "ipckit/export.hpp"

namespace ipckit {

namespace detail {
struct PublisherImpl;
}

/// Writable space for one message, inside the channel's shared memory. Obtained from
/// Publisher::loan(), consumed by Publisher::publish(). Dropping it unpublished gives the space
/// back. Move-only; must not outlive its Publisher.
class IPCKIT_API Loan {
public:
    Loan(Loan&& other) noexcept
        : owner_(std::exchange(other.owner_, nullptr)),
          data_(other.data_),
          size_(other.size_),
          capacity_(other.capacity_) {}
    Loan& operator=(Loan&& other) noexcept;
    Loan(const Loan&) = delete;
    Loan& operator=(const Loan&) = delete;
    ~Loan() {
        if (owner_ != nullptr) {
            drop();
        }
    }

    [[nodiscard]] std::byte* data() const noexcept { return data_; }
    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }
    [[nodiscard]] std::span<std::byte> bytes() const noexcept { return {data_, size_}; }
    /// Publishes only the first n bytes (n <= capacity()).
    void resize(std::size_t n) noexcept;
    /// The bytes as a T (trivially copyable, size and alignment checked).
    template <class T>
    [[nodiscard]] T* as() const noexcept {
        static_assert(std::is_trivially_copyable_v<T> && alignof(T) <= 16);
        return size_ >= sizeof(T) ? reinterpret_cast<T*>(data_) : nullptr;  // NOLINT
    }

private:
    friend class Publisher;
    /// Gives an unpublished loan's space back (the next loan reuses it).
    void drop() noexcept;
    Loan(detail::PublisherImpl* owner, std::byte* data, std::size_t n) noexcept
        : owner_(owner), data_(data), size_(n), capacity_(n) {}
    detail::PublisherImpl* owner_ = nullptr;
    std::byte* data_ = nullptr;
    std::size_t size_ = 0;
    std::size_t capacity_ = 0;
};

/// One publisher of a channel. Owns an open file description of the channel file, its mapping,
/// and one publisher record (its lane) held by an OFD lock for its lifetime: if the process dies
/// the lock drops and the lane can be taken over. One outstanding Loan at a time.
///
/// Not thread-safe (one thread at a time). Fork: create publishers after fork (a child that
/// keeps the fd keeps the lock). Fds are CLOEXEC.
///
/// @code
///   auto pub = Publisher::create("chan:prices", ChannelConfig{}).value();
///   auto loan = pub.loan(64).value();
///   std::memcpy(loan.data(), "hello", 6);
///   loan.resize(6);
///   pub.publish(std::move(loan)).value();
/// @endcode
class IPCKIT_API Publisher {
public:
    /// Creates the channel (exclusive) and joins it.
    static Result<Publisher> create(std::string_view name, const ChannelConfig& config);
    /// Joins an existing channel.
    static Result<Publisher> open(std::string_view name, const ChannelOptions& options = {});
    /// Joins the channel, creating it if absent; an existing channel must match `config`.
    static Result<Publisher> open_or_create(std::string_view name, const ChannelConfig& config);

    Publisher(const Publisher&) = delete;
    Publisher& operator=(const Publisher&) = delete;
    Publisher(Publisher&& other) noexcept;
    Publisher& operator=(Publisher&& other) noexcept;
    ~Publisher();

    /// Writable space for n bytes (n <= max_message_size), waiting for space in block mode.
    Result<Loan> loan(std::size_t n);
    /// Empty if the space is not available now (block mode) or by the deadline.
    Result<std::optional<Loan>> try_loan(std::size_t n);
    Result<std::optional<Loan>> loan_until(std::size_t n, Deadline deadline);
    template <class Rep, class Period>
    Result<std::optional<Loan>> loan_for(std::size_t n, std::chrono::duration<Rep, Period> d) {
        return loan_until(n, Deadline::after(d));
    }
    /// Commits the loan: subscribers can see it once this returns.
    Result<void> publish(Loan&& loan);

    /// Copying conveniences: loan, copy, publish. send_until returns false on timeout.
    Result<void> send(std::span<const std::byte> bytes);
    Result<bool> send_until(std::span<const std::byte> bytes, Deadline deadline);

    [[nodiscard]] std::uint32_t lane() const noexcept;
    [[nodiscard]] std::size_t max_message_size() const noexcept;
    /// After a loan timed out in block mode: pid of a live subscriber that held it back, else 0.
    [[nodiscard]] pid_t blocked_by() const noexcept;
    /// Messages published through this publisher.
    [[nodiscard]] std::uint64_t published_count() const noexcept;

private:
    explicit Publisher(std::unique_ptr<detail::PublisherImpl> impl) noexcept;
    std::unique_ptr<detail::PublisherImpl> impl_;
};

/// A Publisher of trivially copyable T values.
template <class T>
class TypedPublisher {
    static_assert(std::is_trivially_copyable_v<T> && alignof(T) <= 16);

public:
    explicit TypedPublisher(Publisher p) noexcept : p_(std::move(p)) {}
    static Result<TypedPublisher> create(std::string_view name, const ChannelConfig& config) {
        auto p = Publisher::create(name, config);
        if (!p) {
            return std::move(p).error();
        }
        return TypedPublisher(std::move(*p));
    }
    static Result<TypedPublisher> open(std::string_view name, const ChannelOptions& o = {}) {
        auto p = Publisher::open(name, o);
        if (!p) {
            return std::move(p).error();
        }
        return TypedPublisher(std::move(*p));
    }
    /// Zero-copy: fill *loan.as<T>() then publish.
    Result<Loan> loan() { return p_.loan(sizeof(T)); }
    Result<void> publish(Loan&& loan) { return p_.publish(std::move(loan)); }
    Result<void> send(const T& value) {
        return p_.send(std::as_bytes(std::span<const T, 1>(&value, 1)));
    }
    Publisher& untyped() noexcept { return p_; }

private:
    Publisher p_;
};

}  // namespace ipckit
