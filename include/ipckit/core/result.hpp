// SPDX-License-Identifier: MIT
// Result<T>: a value or an ipckit::Error. The member set is a subset of C++23 std::expected so
// that switching to std::expected<T, Error> later is mechanical (see docs/design/error-model.md).
#pragma once

#include <concepts>
#include <optional>
#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>

#include "ipckit/core/error.hpp"

namespace ipckit {

/// Wraps an Error so that `return unexpected(err);` reads like std::expected code.
class Unexpected {
public:
    explicit Unexpected(Error e) : error_(std::move(e)) {}
    [[nodiscard]] Error& error() & noexcept { return error_; }
    [[nodiscard]] Error&& error() && noexcept { return std::move(error_); }

private:
    Error error_;
};

inline Unexpected unexpected(Error e) { return Unexpected(std::move(e)); }

/// Thrown by Result::value() on an error. Catch it only at the edges (CLI main, tests).
class ResultError : public std::system_error {
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
    Result(U&& v) : storage_(std::in_place_index<0>, std::forward<U>(v)) {}
    Result(Unexpected e) : storage_(std::in_place_index<1>, std::move(e).error()) {}
    Result(Error e) : storage_(std::in_place_index<1>, std::move(e)) {}
    // NOLINTEND(google-explicit-constructor,hicpp-explicit-conversions,bugprone-forwarding-reference-overload)

    [[nodiscard]] bool has_value() const noexcept { return storage_.index() == 0; }
    explicit operator bool() const noexcept { return has_value(); }

    T& operator*() & noexcept { return *std::get_if<0>(&storage_); }
    const T& operator*() const& noexcept { return *std::get_if<0>(&storage_); }
    T&& operator*() && noexcept { return std::move(*std::get_if<0>(&storage_)); }
    T* operator->() noexcept { return std::get_if<0>(&storage_); }
    const T* operator->() const noexcept { return std::get_if<0>(&storage_); }

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

    [[nodiscard]] const Error& error() const& noexcept { return *std::get_if<1>(&storage_); }
    [[nodiscard]] Error&& error() && noexcept { return std::move(*std::get_if<1>(&storage_)); }

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
    std::variant<T, Error> storage_;
};

/// Result<void>: success or an Error.
template <>
class [[nodiscard]] Result<void> {
public:
    using value_type = void;   // NOLINT(readability-identifier-naming): std::expected's names
    using error_type = Error;  // NOLINT(readability-identifier-naming): std::expected's names

    Result() = default;
    // NOLINTBEGIN(google-explicit-constructor,hicpp-explicit-conversions): implicit, like expected
    Result(Unexpected e) : error_(std::move(e).error()) {}
    Result(Error e) : error_(std::move(e)) {}
    // NOLINTEND(google-explicit-constructor,hicpp-explicit-conversions)

    [[nodiscard]] bool has_value() const noexcept { return !error_.has_value(); }
    explicit operator bool() const noexcept { return has_value(); }
    void operator*() const noexcept {}
    void value() const {
        if (error_) {
            throw ResultError(*error_);
        }
    }
    [[nodiscard]] const Error& error() const& noexcept { return *error_; }
    [[nodiscard]] Error&& error() && noexcept { return std::move(*error_); }

    template <class F>
    auto and_then(F&& f) && {
        using R = std::remove_cvref_t<std::invoke_result_t<F>>;
        static_assert(detail::IsResult<R>::value, "and_then must return a Result");
        if (error_) {
            return R(std::move(*error_));
        }
        return std::forward<F>(f)();
    }
    template <class F>
    Result or_else(F&& f) && {
        if (!error_) {
            return {};
        }
        return std::forward<F>(f)(std::move(*error_));
    }

private:
    std::optional<Error> error_;
};

/// Evaluates a Result-returning expression; on error returns the error from the enclosing function.
/// Keeps propagation one line without exceptions (like absl's RETURN_IF_ERROR).
// NOLINTNEXTLINE(cppcoreguidelines-macro-usage): early return needs a macro (no coroutines here)
#define IPCKIT_TRY(expr)                                 \
    do {                                                 \
        if (auto ipckit_try_r_ = (expr); !ipckit_try_r_) \
            return std::move(ipckit_try_r_).error();     \
    } while (false)

}  // namespace ipckit
