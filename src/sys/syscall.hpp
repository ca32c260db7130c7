// SPDX-License-Identifier: MIT
// The one place errno is read: system-call adapters that turn the C conventions (-1 and errno,
// MAP_FAILED, returned error numbers) into Result, retrying EINTR where the call is restartable.
// Private to the library (not installed).
#pragma once

#include <cerrno>
#include <initializer_list>
#include <optional>
#include <string_view>
#include <type_traits>

#include "ipckit/core/result.hpp"

namespace ipckit::sys {

/// An Error from the current errno.
inline Error last_error(const char* op, std::string_view object, std::string detail = {}) {
    return Error::from_errno(errno, op, std::string(object), std::move(detail));
}

/// Runs f() (which returns -1 and sets errno on failure) until it does not fail with EINTR.
/// Use for restartable calls; never for close(2).
template <class F>
auto call(const char* op, std::string_view object, F&& f) -> Result<std::invoke_result_t<F&>> {
    for (;;) {
        auto rc = f();
        if (rc != -1) {
            return rc;
        }
        if (errno != EINTR) {
            return last_error(op, object);
        }
    }
}

/// Like call(), but an errno in `outcomes` (EAGAIN, ETIMEDOUT, ...) is an ordinary outcome
/// reported as an empty optional rather than an Error.
template <class F>
auto call_maybe(const char* op,
                std::string_view object,
                std::initializer_list<int> outcomes,
                F&& f) -> Result<std::optional<std::invoke_result_t<F&>>> {
    using R = std::invoke_result_t<F&>;
    for (;;) {
        auto rc = f();
        if (rc != -1) {
            return std::optional<R>(rc);
        }
        const int err = errno;
        if (err == EINTR) {
            continue;
        }
        for (int o : outcomes) {
            if (err == o) {
                return std::optional<R>();
            }
        }
        return Error::from_errno(err, op, std::string(object));
    }
}

/// Runs f() once: EINTR is reported, for calls whose caller must see it (or that must not be
/// retried, such as close(2)).
template <class F>
auto call_once(const char* op, std::string_view object, F&& f) -> Result<std::invoke_result_t<F&>> {
    auto rc = f();
    if (rc == -1) {
        return last_error(op, object);
    }
    return rc;
}

/// For calls that return a pointer and a sentinel on failure (MAP_FAILED, SEM_FAILED, (void*)-1).
template <class P, class F>
Result<P> call_ptr(const char* op, std::string_view object, P failure, F&& f) {
    for (;;) {
        P p = f();
        if (p != failure) {
            return p;
        }
        if (errno != EINTR) {
            return last_error(op, object);
        }
    }
}

/// For pthread-style calls that return the error number instead of setting errno.
inline Result<void> check_rc(const char* op, std::string_view object, int rc) {
    if (rc != 0) {
        return Error::from_errno(rc, op, std::string(object));
    }
    return {};
}

}  // namespace ipckit::sys
