// SPDX-License-Identifier: MIT
#include "channel/fault_point.hpp"

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <mutex>

namespace ipckit::detail {

std::atomic<int> g_fault_state{-1};

namespace {
std::mutex g_mutex;
char g_name[128];
char g_action[16];

void load_locked() noexcept {
    const char* env = std::getenv("IPCKIT_FAULT_POINT");
    g_name[0] = '\0';
    g_action[0] = '\0';
    if (env == nullptr || *env == '\0') {
        g_fault_state.store(0, std::memory_order_relaxed);
        return;
    }
    const char* colon = std::strrchr(env, ':');
    const std::size_t n = colon != nullptr ? static_cast<std::size_t>(colon - env) : std::strlen(env);
    if (n >= sizeof g_name) {
        g_fault_state.store(0, std::memory_order_relaxed);
        return;
    }
    std::memset(g_name, 0, sizeof g_name);  // n < sizeof g_name: stays NUL-terminated
    std::memcpy(g_name, env, n);
    std::strncpy(g_action, colon != nullptr ? colon + 1 : "kill", sizeof g_action - 1);
    g_fault_state.store(1, std::memory_order_relaxed);
}
}  // namespace

void reload_fault_points() noexcept {
    const std::lock_guard lock(g_mutex);
    load_locked();
}

void fault_point_hit(const char* name) noexcept {
    {
        const std::lock_guard lock(g_mutex);
        if (g_fault_state.load(std::memory_order_relaxed) < 0) {
            load_locked();
        }
        if (g_fault_state.load(std::memory_order_relaxed) == 0 || std::strcmp(name, g_name) != 0) {
            return;
        }
    }
    if (std::strcmp(g_action, "stop") == 0) {
        (void)::raise(SIGSTOP);
    } else if (std::strcmp(g_action, "exit") == 0) {
        ::_exit(86);
    } else {
        (void)::raise(SIGKILL);
    }
}

}  // namespace ipckit::detail
