// SPDX-License-Identifier: MIT
#include "shm/sigbus_guard.hpp"

#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <cstdint>
#include <mutex>

namespace ipckit::detail {

namespace {

constexpr std::size_t kSlots = 1024;
std::array<SigbusGuard::Slot, kSlots> g_slots;
struct sigaction g_previous {};
std::once_flag g_install_once;
bool g_installed = false;

/// Hands a fault that is not ours to the disposition that was there before us. A default (or
/// ignored: a synchronous SIGBUS cannot be ignored) disposition is restored and the faulting
/// instruction re-runs into it, so the process dies exactly as it would have without us.
void chain(int sig, siginfo_t* info, void* context) noexcept {
    if ((g_previous.sa_flags & SA_SIGINFO) != 0 && g_previous.sa_sigaction != nullptr) {
        g_previous.sa_sigaction(sig, info, context);
        return;
    }
    if (g_previous.sa_handler != SIG_DFL && g_previous.sa_handler != SIG_IGN &&
        g_previous.sa_handler != nullptr) {
        g_previous.sa_handler(sig);
        return;
    }
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    (void)::sigaction(sig, &dfl, nullptr);
}

void on_sigbus(int sig, siginfo_t* info, void* context) noexcept {
    const auto addr =
        reinterpret_cast<std::uintptr_t>(info->si_addr);  // NOLINT(performance-no-int-to-ptr)
    for (auto& slot : g_slots) {
        const std::uintptr_t begin = slot.begin.load(std::memory_order_acquire);
        const std::size_t length = slot.length.load(std::memory_order_relaxed);
        if (begin == 0 || addr < begin || addr - begin >= length) {
            continue;
        }
        // The raw system call: async-signal-safe, and no sanitizer interceptor in a handler.
        const long r = ::syscall(SYS_mmap,
                                 begin,
                                 length,
                                 slot.prot.load(std::memory_order_relaxed),
                                 MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS,
                                 -1,
                                 0);
        if (r != -1) {
            slot.faulted.store(true, std::memory_order_relaxed);
            return;  // the access re-runs on zero-filled private memory
        }
        break;
    }
    chain(sig, info, context);
}

bool install() noexcept {
    struct sigaction sa {};
    sa.sa_sigaction = on_sigbus;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    (void)::sigemptyset(&sa.sa_mask);
    return ::sigaction(SIGBUS, &sa, &g_previous) == 0;
}

}  // namespace

SigbusGuard SigbusGuard::watch(const Mapping& mapping) noexcept {
    std::call_once(g_install_once, [] { g_installed = install(); });
    if (!g_installed || !mapping.valid()) {
        return {};
    }
    for (auto& slot : g_slots) {
        bool expected = false;
        if (!slot.used.compare_exchange_strong(expected, true, std::memory_order_acquire)) {
            continue;
        }
        slot.faulted.store(false, std::memory_order_relaxed);
        slot.length.store(mapping.size(), std::memory_order_relaxed);
        slot.prot.store(
            mapping.protection() == Protection::ReadWrite ? PROT_READ | PROT_WRITE : PROT_READ,
            std::memory_order_relaxed);
        slot.begin.store(reinterpret_cast<std::uintptr_t>(mapping.data()),  // NOLINT
                         std::memory_order_release);
        return SigbusGuard(&slot);
    }
    return {};
}

SigbusGuard& SigbusGuard::operator=(SigbusGuard&& other) noexcept {
    if (this != &other) {
        reset();
        slot_ = other.slot_;
        other.slot_ = nullptr;
    }
    return *this;
}

void SigbusGuard::reset() noexcept {
    if (slot_ == nullptr) {
        return;
    }
    slot_->begin.store(0, std::memory_order_release);
    slot_->used.store(false, std::memory_order_release);
    slot_ = nullptr;
}

}  // namespace ipckit::detail
