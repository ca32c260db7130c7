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

}  // namespace ipckit
