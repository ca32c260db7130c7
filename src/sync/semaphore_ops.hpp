// SPDX-License-Identifier: MIT
// The operations NamedSemaphore and UnnamedSemaphore share (sem_wait(3), sem_post(3), ...).
// Private to the library.
#pragma once

#include "ipckit/core/deadline.hpp"
#include "ipckit/core/result.hpp"

#include <semaphore.h>

#include <string_view>

namespace ipckit::detail {

Result<void> sem_wait_blocking(sem_t* sem, std::string_view object);
Result<bool> sem_try_wait(sem_t* sem, std::string_view object);
Result<bool> sem_wait_until(sem_t* sem, Deadline deadline, std::string_view object);
Result<void> sem_post_checked(sem_t* sem, std::string_view object);
Result<int> sem_value(sem_t* sem, std::string_view object);
/// errc::invalid_argument naming SEM_VALUE_MAX when `initial` is above it.
Result<void> check_initial_value(const char* op, std::string_view object, unsigned initial);

}  // namespace ipckit::detail
