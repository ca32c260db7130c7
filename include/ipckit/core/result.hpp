// SPDX-License-Identifier: MIT
// Result<T>: a value or an ipckit::Error. The member set is a subset of C++23 std::expected so
// that switching to std::expected<T, Error> later is mechanical (see docs/design/error-model.md).
#pragma once

#include <concepts>
#include <optional>
#include <system_error>
#include <type_traits>
#include <utility>
#include <memory>

#include "ipckit/core/error.hpp"
#include "ipckit/export.hpp"

namespace ipckit {

/// Wraps an Error so that `return unexpected(err);` reads like std::expected code.
class IPCKIT_API Unexpected {
public:
    explicit Unexpected(Error e) : error_(std::move(e)) {}
    [[nodiscard]] Error& error() & noexcept { return error_; }
    [[nodiscard]] Error&& error() && noexcept { return std::move(error_); }

private:
    Error error_;
};

inline Unexpected unexpected(Error e) { return Unexpected(std::move(e)); }

/// Thrown by Result::value() on an error. Catch it only at the edges (CLI main, tests).
class IPCKIT_API ResultError : public std::system_error {
public:
    explicit ResultError(Error e) : std::system_error(e.code(), e.message()), error_(std::move(e)) {}
    [[nodiscard]] const Error& error() const noexcept { return error_; }

private:
    Error error_;
};

template <class T>
class [[nodiscard]] Result;

namespace detail {
template <class R>
struct IsResult : std::false_type {};
template <class U>
struct IsResult<Result<U>> : std::true_type {};
}  // namespace detail

/// A T or an Error. Non-throwing access: has_value()/operator bool, *, ->, error(), value_or().
/// value() throws ResultError on an error, for code that prefers exceptions.
template <class T>
class [[nodiscard]] Result {
public:
    using value_type = T;    // NOLINT(readability-identifier-naming): std::expected's names
    using error_type = Error;  // NOLINT(readability-identifier-naming): std::expected's names

    // NOLINTBEGIN(google-explicit-constructor,hicpp-explicit-conversions,bugprone-forwarding-reference-overload)
    // Implicit like std::expected; the constraints exclude Result and Unexpected themselves.
    template <class U = T>
        requires std::constructible_from<T, U&&> &&
                 (!std::same_as<std::remove_cvref_t<U>, Result>) &&
                 (!std::same_as<std::remove_cvref_t<U>, Unexpected>)
    Result(U&& v) : has_value_(true) {
        std::construct_at(&value_, std::forward<U>(v));
    }
    Result(Unexpected e) : has_value_(false) { std::construct_at(&error_, std::move(e).error()); }
    Result(Error e) : has_value_(false) { std::construct_at(&error_, std::move(e)); }
    // NOLINTEND(google-explicit-constructor,hicpp-explicit-conversions,bugprone-forwarding-reference-overload)

    Result(const Result& o) requires std::copy_constructible<T> : has_value_(o.has_value_) {
        if (has_value_) {
            std::construct_at(&value_, o.value_);
        } else {
            std::construct_at(&error_, o.error_);
        }
    }
    Result(Result&& o) noexcept(std::is_nothrow_move_constructible_v<T>) : has_value_(o.has_value_) {
        if (has_value_) {
            std::construct_at(&value_, std::move(o.value_));
        } else {
            std::construct_at(&error_, std::move(o.error_));
        }
    }
    Result& operator=(const Result& o) requires std::copy_constructible<T> {
        if (this != &o) {
            *this = Result(o);
        }
        return *this;
    }
    Result& operator=(Result&& o) noexcept(std::is_nothrow_move_constructible_v<T> &&
                                           std::is_nothrow_move_assignable_v<T>) {
        if (this == &o) {
            return *this;
        }
        if (has_value_ && o.has_value_) {
            value_ = std::move(o.value_);
        } else if (!has_value_ && !o.has_value_) {
            error_ = std::move(o.error_);
        } else if (has_value_) {
            std::destroy_at(&value_);
            std::construct_at(&error_, std::move(o.error_));  // Error's move never throws
            has_value_ = false;
        } else if constexpr (std::is_nothrow_move_constructible_v<T>) {
            std::destroy_at(&error_);
            std::construct_at(&value_, std::move(o.value_));
            has_value_ = true;
        } else {
            // Keep the error until the value is in place, so a throwing move leaves *this whole.
            Error saved(std::move(error_));
            std::destroy_at(&error_);
            try {
                std::construct_at(&value_, std::move(o.value_));
            } catch (...) {
                std::construct_at(&error_, std::move(saved));
                throw;
            }
            has_value_ = true;
        }
        return *this;
    }
    ~Result() {
        if (has_value_) {
            std::destroy_at(&value_);
        } else {
            std::destroy_at(&error_);
        }
    }

    [[nodiscard]] bool has_value() const noexcept { return has_value_; }
    explicit operator bool() const noexcept { return has_value_; }

    T& operator*() & noexcept { return value_; }
    const T& operator*() const& noexcept { return value_; }
    T&& operator*() && noexcept { return std::move(value_); }
    T* operator->() noexcept { return &value_; }
    const T* operator->() const noexcept { return &value_; }

    [[nodiscard]] T& value() & {
        throw_if_error();
        return **this;
    }
    [[nodiscard]] const T& value() const& {
        throw_if_error();
        return **this;
    }
    [[nodiscard]] T&& value() && {
        throw_if_error();
        return std::move(**this);
    }

    [[nodiscard]] const Error& error() const& noexcept { return error_; }
    [[nodiscard]] Error&& error() && noexcept { return std::move(error_); }

    template <class U>
    T value_or(U&& fallback) const& {
        return has_value() ? **this : static_cast<T>(std::forward<U>(fallback));
    }

    /// f(T) -> Result<U>; errors pass through.
    template <class F>
    auto and_then(F&& f) && {
        using R = std::remove_cvref_t<std::invoke_result_t<F, T&&>>;
        static_assert(detail::IsResult<R>::value, "and_then must return a Result");
        if (!has_value()) {
            return R(std::move(*this).error());
        }
        return std::forward<F>(f)(std::move(**this));
    }
    /// f(T) -> U; wraps U in a Result.
    template <class F>
    auto transform(F&& f) && {
        using U = std::remove_cvref_t<std::invoke_result_t<F, T&&>>;
        if (!has_value()) {
            return Result<U>(std::move(*this).error());
        }
        if constexpr (std::is_void_v<U>) {
            std::forward<F>(f)(std::move(**this));
            return Result<U>();  // dependent on U: Result<void> is specialised further down
        } else {
            return Result<U>(std::forward<F>(f)(std::move(**this)));
        }
    }
    /// f(Error) -> Result<T>; values pass through.
    template <class F>
    Result or_else(F&& f) && {
        if (has_value()) {
            return std::move(*this);
        }
        return std::forward<F>(f)(std::move(*this).error());
    }

private:
    void throw_if_error() const {
        if (!has_value()) {
            throw ResultError(error());
        }
    }
    // A tagged union rather than std::variant: constructing and moving a Result sits on every hot
    // path (a channel receive, a semaphore post), and variant's generic visitation cost a
    // measurable share of them.
    union {
        T value_;
        Error error_;
    };
    bool has_value_;
};

/// Result<void>: success or an Error.
template <>
class [[nodiscard]] Result<void> {
public:
    using value_type = void;   // NOLINT(readability-identifier-naming): std::expected's names
    using error_type = Error;  // NOLINT(readability-identifier-naming): std::expected's names

    // Success writes one byte: the Error stays unconstructed (a union member), so `return {};`
    // neither zero-fills nor builds a std::error_code on the semaphore and channel hot paths.
    // NOLINTNEXTLINE(modernize-use-equals-default,hicpp-use-equals-default,cppcoreguidelines-pro-type-member-init)
    Result() noexcept {}
    // NOLINTBEGIN(google-explicit-constructor,hicpp-explicit-conversions): implicit, like expected
    Result(Unexpected e) : failed_(true) { std::construct_at(&error_, std::move(e).error()); }
    Result(Error e) : failed_(true) { std::construct_at(&error_, std::move(e)); }
    // NOLINTEND(google-explicit-constructor,hicpp-explicit-conversions)

    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-member-init): error_ lives only when failed_
    Result(const Result& o) : failed_(o.failed_) {
        if (failed_) {
            std::construct_at(&error_, o.error_);
        }
    }
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-member-init): error_ lives only when failed_
    Result(Result&& o) noexcept : failed_(o.failed_) {
        if (failed_) {
            std::construct_at(&error_, std::move(o.error_));
        }
    }
    Result& operator=(const Result& o) {
        if (this != &o) {
            *this = Result(o);
        }
        return *this;
    }
    Result& operator=(Result&& o) noexcept {
        if (this == &o) {
            return *this;
        }
        if (failed_ && o.failed_) {
            error_ = std::move(o.error_);
        } else if (failed_) {
            std::destroy_at(&error_);
        } else if (o.failed_) {
            std::construct_at(&error_, std::move(o.error_));
        }
        failed_ = o.failed_;
        return *this;
    }
    ~Result() {
        if (failed_) {
            std::destroy_at(&error_);
        }
    }

    [[nodiscard]] bool has_value() const noexcept { return !failed_; }
    explicit operator bool() const noexcept { return !failed_; }
    void operator*() const noexcept {}
    void value() const {
        if (failed_) {
            throw ResultError(error_);
        }
    }
    [[nodiscard]] const Error& error() const& noexcept { return error_; }
    [[nodiscard]] Error&& error() && noexcept { return std::move(error_); }

    template <class F>
    auto and_then(F&& f) && {
        using R = std::remove_cvref_t<std::invoke_result_t<F>>;
        static_assert(detail::IsResult<R>::value, "and_then must return a Result");
        if (failed_) {
            return R(std::move(error_));
        }
        return std::forward<F>(f)();
    }
    template <class F>
    Result or_else(F&& f) && {
        if (!failed_) {
            return {};
        }
        return std::forward<F>(f)(std::move(error_));
    }

private:
    union {
        Error error_;
    };
    bool failed_ = false;
};

/// Evaluates a Result-returning expression; on error returns the error from the enclosing function.
/// Keeps propagation one line without exceptions (like absl's RETURN_IF_ERROR).
// NOLINTNEXTLINE(cppcoreguidelines-macro-usage): early return needs a macro (no coroutines here)
#define IPCKIT_TRY(expr)                                 \
    do {                                                 \
        if (auto ipckit_try_r_ = (expr); !ipckit_try_r_) \
            return std::move(ipckit_try_r_).error();     \
    } while (false)

/// Evaluates a Result<T>-returning expression; on error returns the error from the enclosing
/// function, else moves the value into `lhs`, which may declare a variable:
///   IPCKIT_TRY_ASSIGN(UniqueFd fd, open_fd(path));   IPCKIT_TRY_ASSIGN(size, file.size());
// NOLINTNEXTLINE(cppcoreguidelines-macro-usage): early return needs a macro (no coroutines here)
#define IPCKIT_TRY_ASSIGN(lhs, expr) \
    IPCKIT_TRY_ASSIGN_IMPL(IPCKIT_TRY_CONCAT(ipckit_try_v_, __LINE__), lhs, expr)
// NOLINTBEGIN(cppcoreguidelines-macro-usage,bugprone-macro-parentheses): helpers of the above
#define IPCKIT_TRY_CONCAT(a, b) IPCKIT_TRY_CONCAT_IMPL(a, b)
#define IPCKIT_TRY_CONCAT_IMPL(a, b) a##b
#define IPCKIT_TRY_ASSIGN_IMPL(tmp, lhs, expr) \
    auto tmp = (expr);                         \
    if (!tmp) {                                \
        return std::move(tmp).error();         \
    }                                          \
    lhs = std::move(*tmp)
// NOLINTEND(cppcoreguidelines-macro-usage,bugprone-macro-parentheses)

}  // namespace ipckit
