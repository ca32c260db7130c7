// SPDX-License-Identifier: MIT
// What every part of the ipckit Python extension shares: ipckit::Error -> ipckit.Error, float
// seconds -> Deadline, and waits that release the GIL yet still honour Ctrl-C.
#pragma once

#include "ipckit/core/deadline.hpp"
#include "ipckit/core/result.hpp"

#include <Python.h>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <optional>
#include <pybind11/pybind11.h>
#include <string>
#include <system_error>
#include <utility>

namespace ipckit_py {

namespace py = pybind11;

// ipckit.Error, a subclass of OSError (created and owned by the module).
inline PyObject* g_error_type = nullptr;

// Raises ipckit.Error(errno, message) from an ipckit::Error.
[[noreturn]] inline void raise_error(const ipckit::Error& e) {
    const auto& cat = e.code().category();
    const int err =
        (cat == std::generic_category() || cat == std::system_category()) ? e.code().value() : EIO;
    const std::string text = e.message();
    PyObject* exc = PyObject_CallFunction(g_error_type, "is", err, text.c_str());
    if (exc != nullptr) {
        PyErr_SetObject(g_error_type, exc);
        Py_DECREF(exc);
    }
    throw py::error_already_set();
}

template <class T>
T unwrap(ipckit::Result<T>&& r) {
    if (!r) {
        raise_error(r.error());
    }
    return std::move(*r);
}

inline void unwrap(ipckit::Result<void>&& r) {
    if (!r) {
        raise_error(r.error());
    }
}

// None: never; <= 0: now (a poll); else seconds from now (saturating to never).
// (A py::object, not std::optional<double>: GCC 12 warns maybe-uninitialized in pybind11's
// optional caster.)
inline ipckit::Deadline to_deadline(const py::object& timeout) {
    if (timeout.is_none()) {
        return ipckit::Deadline::never();
    }
    const double seconds = PyFloat_AsDouble(timeout.ptr());
    if (seconds == -1.0 && PyErr_Occurred() != nullptr) {
        throw py::error_already_set();  // TypeError: must be real number
    }
    if (std::isnan(seconds)) {
        throw py::value_error("timeout must be a number of seconds or None, not NaN");
    }
    if (seconds <= 0) {
        return ipckit::Deadline::now();
    }
    return ipckit::Deadline::after(std::chrono::duration<double>(seconds));
}

// Long waits run in slices so Ctrl-C (any Python signal handler) is honoured within this time.
inline constexpr std::chrono::milliseconds kSignalSlice{100};

// Waits by calling attempt(slice_deadline) (with the GIL released) until it yields a value or the
// deadline passes; between slices runs the Python signal handlers.
template <class F>
auto wait_sliced(ipckit::Deadline deadline, F&& attempt) -> decltype(attempt(deadline)) {
    {
        // A first try keeps the GIL: when a message (or space) is there, as in a busy stream,
        // releasing and re-taking the GIL would cost more than the receive itself.
        auto now = attempt(ipckit::Deadline::now());
        if (!now || now->has_value() || deadline.expired()) {
            return now;
        }
    }
    for (;;) {
        const bool long_wait = deadline.is_never() || deadline.remaining() > kSignalSlice;
        const ipckit::Deadline slice = long_wait ? ipckit::Deadline::after(kSignalSlice) : deadline;
        std::optional<decltype(attempt(deadline))> got;
        {
            const py::gil_scoped_release nogil;
            got.emplace(attempt(slice));
        }
        if (!*got || (*got)->has_value() || !long_wait) {
            return std::move(*got);
        }
        if (PyErr_CheckSignals() != 0) {
            throw py::error_already_set();
        }
    }
}
}  // namespace ipckit_py
