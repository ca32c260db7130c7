// SPDX-License-Identifier: MIT
// Binds ipckit.Semaphore and ipckit.MessageQueue (posix_objects.cpp) into the module.
#pragma once

#include <pybind11/pybind11.h>

namespace ipckit_py {

void bind_posix_objects(pybind11::module_& m);

}  // namespace ipckit_py
