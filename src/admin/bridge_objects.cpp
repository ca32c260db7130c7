// SPDX-License-Identifier: MIT
// Bridges in the inventory: the status files of running (and killed) bridges, read through
// list_bridges(), which checks each file (size, magic, owner, no symlink, a whole record) and
// skips what is not a status file. Nothing else is read from them here.
#include "admin/host_files.hpp"
#include "admin/scanners.hpp"
#include "ipckit/bridge/bridge_status.hpp"

#include <string>
#include <utility>

namespace ipckit::detail {

void scan_bridges(const InventoryFilter& filter, Inventory& inv, std::vector<IpcObjectInfo>& out) {
    const std::string dir = bridge_status_dir();
    auto list = list_bridges(dir);
    if (!list) {
        inv.warnings.push_back("bridges: " + list.error().message());
        inv.unlisted.push_back(IpcObjectKind::Bridge);
        return;
    }
    for (BridgeStatus& b : *list) {
        IpcObjectInfo o;
        o.kind = IpcObjectKind::Bridge;
        o.name = b.name;
        if (!name_matches(o.name, filter.prefix)) {
            continue;
        }
        o.uri = "bridge:" + o.name;
        o.path = b.path;
        if (auto st = stat_nofollow(b.path)) {
            fill_from_stat(o, *st);
            o.size.reset();  // the record's size says nothing about the bridge
        } else {
            o.notes.push_back(b.path + ": vanished while listing (the bridge ended)");
        }
        if (b.alive) {
            o.users.push_back(b.pid);  // a dead one's pid (or a reused one) is nobody's
        }
        o.bridge = std::move(b);
        out.push_back(std::move(o));
    }
}

}  // namespace ipckit::detail
