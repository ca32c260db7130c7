// SPDX-License-Identifier: MIT
// Events in the inventory: their files (NAME.event) beside the channels, read through
// Event::inspect, which checks the header as open() does.
#include "admin/host_files.hpp"
#include "admin/scanners.hpp"
#include "ipckit/event/event.hpp"

#include <chrono>
#include <string_view>

namespace ipckit::detail {

namespace {
constexpr std::string_view kEventFileSuffix = ".event";
}  // namespace

std::optional<IpcObjectInfo> event_of_file(const std::string& dir, const std::string& entry) {
    if (entry.size() <= kEventFileSuffix.size() || !entry.ends_with(kEventFileSuffix)) {
        return std::nullopt;
    }
    IpcObjectInfo o;
    o.kind = IpcObjectKind::Event;
    o.name = entry.substr(0, entry.size() - kEventFileSuffix.size());
    o.uri = "event:" + o.name;
    if (dir != kShmDir) {
        o.uri += "?dir=" + dir;
    }
    return o;
}

void read_event(IpcObjectInfo& o, const std::string& dir) {
    EventOptions eo;
    eo.dir = dir;
    eo.init_wait = std::chrono::milliseconds(50);  // a listing does not wait for a creator
    auto info = Event::inspect(o.name, eo);
    if (!info) {
        o.notes.push_back(info.error().message());
        return;
    }
    o.event = std::move(*info);
}

}  // namespace ipckit::detail
