// SPDX-License-Identifier: MIT
// Channels in the inventory: their files in /dev/shm or $IPCKIT_SHM_DIR, read through
// Channel::inspect, which bounds-checks everything it reads from the file.
#include "admin/host_files.hpp"
#include "admin/scanners.hpp"
#include "ipckit/channel/channel.hpp"

#include <chrono>
#include <cstdlib>

namespace ipckit {

namespace detail {

std::optional<IpcObjectInfo> channel_of_file(const std::string& dir, const std::string& entry) {
    if (entry.size() <= kChannelFileSuffix.size() || !entry.ends_with(kChannelFileSuffix)) {
        return std::nullopt;
    }
    IpcObjectInfo o;
    o.kind = IpcObjectKind::Channel;
    o.name = entry.substr(0, entry.size() - kChannelFileSuffix.size());
    o.uri = "chan:" + o.name;
    if (dir != kShmDir) {
        o.uri += "?dir=" + dir;
    }
    return o;
}

void read_channel(IpcObjectInfo& o, const std::string& dir) {
    ChannelOptions co;
    co.dir = dir;
    co.init_wait = std::chrono::milliseconds(50);  // a listing does not wait for a creator
    auto info = Channel::inspect(o.name, co);
    if (!info) {
        o.notes.push_back(info.error().message());
        return;
    }
    o.channel = std::move(*info);
}

}  // namespace detail

std::string channel_directory() {
    const char* env = std::getenv("IPCKIT_SHM_DIR");  // NOLINT(concurrency-mt-unsafe): CLI use
    if (env != nullptr && env[0] == '/') {
        std::string d(env);
        while (d.size() > 1 && d.back() == '/') {
            d.pop_back();
        }
        return d;
    }
    return detail::kShmDir;
}

}  // namespace ipckit
