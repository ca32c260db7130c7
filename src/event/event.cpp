// SPDX-License-Identifier: MIT
#include "ipckit/event/event.hpp"

#include "channel/channel_file.hpp"
#include "event/event_file.hpp"
#include "sys/syscall.hpp"

#include <fcntl.h>
#include <unistd.h>

namespace ipckit {

Result<void> Event::create(std::string_view name, const EventConfig& config) {
    IPCKIT_TRY(detail::EventImpl::create(name, config));
    return {};
}

Result<void> Event::remove(std::string_view name_in, const EventOptions& options) {
    IPCKIT_TRY_ASSIGN(auto name, detail::validate_event_name(name_in));
    std::string dir_path;
    IPCKIT_TRY_ASSIGN(auto dir, detail::open_channel_dir(options.dir, &dir_path));
    const std::string file = name + std::string(detail::kEventSuffix);
    IPCKIT_TRY(sys::call(
        "unlink", dir_path + "/" + file, [&] { return ::unlinkat(dir.get(), file.c_str(), 0); }));
    return {};
}

Result<EventInfo> Event::inspect(std::string_view name, const EventOptions& options) {
    IPCKIT_TRY_ASSIGN(auto impl, detail::EventImpl::open(name, options));
    const auto& h = impl->header();
    EventInfo info;
    info.name = impl->name;
    info.max_ids = impl->max_ids;
    info.creator_pid = h.creator_pid.load(std::memory_order_relaxed);
    info.sleepers = h.sleepers.load(std::memory_order_relaxed);
    for (const auto& slot : impl->doorbells().slots) {
        info.doorbells += slot.token.load(std::memory_order_relaxed) != 0 ? 1U : 0U;
    }
    for (std::uint32_t id = 0; id < impl->max_ids; ++id) {
        if (const std::uint64_t v = impl->counter(id).load(std::memory_order_acquire); v != 0) {
            info.counters.push_back({id, v});
        }
    }
    // A SIGBUS during the reads left zeros: the file was truncated, not the counters.
    IPCKIT_TRY(impl->check_usable("event inspect"));
    return info;
}

}  // namespace ipckit
