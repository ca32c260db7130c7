// SPDX-License-Identifier: MIT
// Shared pieces of the C API's implementation: Error -> ipckit_status, filling ipckit_error,
// deadlines, and the exception barrier every extern "C" function goes through.
#pragma once

#include "capi/handle_table.hpp"
#include "ipckit/core/deadline.hpp"
#include "ipckit/core/error.hpp"
#include "ipckit/core/result.hpp"
#include "ipckit/ipckit.h"

#include <cerrno>
#include <cstdint>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <utility>

namespace ipckit::capi {

/// The status for an Error from the C++ API.
ipckit_status status_of(const Error& e) noexcept;

/// Fills *err (when not NULL) with status, errno and message (truncated, NUL-terminated).
/// Returns status.
ipckit_status fail(ipckit_error* err,
                   ipckit_status status,
                   int errno_value,
                   std::string_view message) noexcept;

/// fail() for an Error from the C++ API.
ipckit_status fail(ipckit_error* err, const Error& e) noexcept;

/// EBADHANDLE, naming the function.
inline ipckit_status bad_handle(ipckit_error* err, const char* fn) noexcept {
    return fail(err, IPCKIT_EBADHANDLE, 0, fn);
}

/// EINVAL for a NULL or out-of-range argument, naming the function and the argument.
ipckit_status bad_argument(ipckit_error* err, const char* fn, const char* what) noexcept;

/// An absolute CLOCK_MONOTONIC deadline in ns (steady_clock is CLOCK_MONOTONIC on Linux).
inline Deadline to_deadline(std::int64_t ns) noexcept {
    if (ns == IPCKIT_NEVER) {
        return Deadline::never();
    }
    return Deadline::at(Deadline::Clock::time_point(std::chrono::nanoseconds(ns)));
}

/// Puts obj into the handle table and its handle into *out; ENOMEM when the table is full.
template <class T>
ipckit_status insert_handle(std::unique_ptr<T> obj,
                            std::uint64_t* out,
                            ipckit_error* err,
                            const char* fn) {
    const std::uint64_t h = handles().insert(std::move(obj), T::kKind);
    if (h == 0) {
        return fail(err, IPCKIT_ENOMEM, ENOMEM, std::string(fn) + ": handle table full");
    }
    *out = h;
    return IPCKIT_OK;
}

/// Runs body() and turns an escaping exception (bad_alloc from a message string, ...) into a
/// status: no C++ exception crosses the C boundary.
template <class F>
ipckit_status guard(ipckit_error* err, const char* fn, F&& body) noexcept {
    try {
        return body();
    } catch (const std::bad_alloc&) {
        return fail(err, IPCKIT_ENOMEM, ENOMEM, fn);
    } catch (...) {
        return fail(err, IPCKIT_ESYS, 0, fn);
    }
}

/// guard() around body(object) for the live object of type T behind `handle`: a closed, forged,
/// never-opened or other-kind handle is EBADHANDLE before body runs.
template <class T, class F>
ipckit_status with_object(ipckit_error* err,
                          const char* fn,
                          std::uint64_t handle,
                          F&& body) noexcept {
    return guard(err, fn, [&]() -> ipckit_status {
        T* object = handles().lookup<T>(handle);
        if (object == nullptr) {
            return bad_handle(err, fn);
        }
        return body(object);
    });
}

/// A getter: get(object) into *out for the object behind `handle` (EINVAL when out is NULL).
template <class T, class Out, class F>
ipckit_status read_into(
    ipckit_error* err, const char* fn, std::uint64_t handle, Out* out, F&& get) noexcept {
    return with_object<T>(err, fn, handle, [&](T* object) -> ipckit_status {
        if (out == nullptr) {
            return bad_argument(err, fn, "out");
        }
        *out = get(object);
        return IPCKIT_OK;
    });
}

}  // namespace ipckit::capi

/// IPCKIT_TRY_ASSIGN at the C boundary: on an Error, fills *err and returns its status.
// NOLINTBEGIN(cppcoreguidelines-macro-usage,bugprone-macro-parentheses): as IPCKIT_TRY_ASSIGN
#define IPCKIT_C_TRY_ASSIGN(err, lhs, expr) \
    IPCKIT_C_TRY_ASSIGN_IMPL(IPCKIT_TRY_CONCAT(ipckit_c_try_v_, __LINE__), err, lhs, expr)
#define IPCKIT_C_TRY_ASSIGN_IMPL(tmp, err, lhs, expr)  \
    auto tmp = (expr);                                 \
    if (!tmp) {                                        \
        return ::ipckit::capi::fail(err, tmp.error()); \
    }                                                  \
    lhs = std::move(*tmp)
// NOLINTEND(cppcoreguidelines-macro-usage,bugprone-macro-parentheses)
