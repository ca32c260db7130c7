// SPDX-License-Identifier: MIT
// Test-only fault point for SysvSemaphoreSet::create: called between semget and initialisation
// when the library is built with IPCKIT_FAULT_POINTS (the default for test builds), so a test can
// widen the window seed 003 warns about and prove openers wait for it. Private to the library.
#pragma once

namespace ipckit::detail {

/// nullptr (the default) or a function run right after a successful creating semget.
extern void (*sysv_sem_after_create_hook)();

}  // namespace ipckit::detail
