// SPDX-License-Identifier: MIT
// How `ipckit ls` and `ipckit stat` show an IPC object: a table row, key/value lines, or JSON.
#pragma once

#include "ipckit/admin/inventory.hpp"

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace ipckit::cli {

/// "alice" for a uid with a passwd entry, else the number.
std::string user_name(uid_t uid);
std::string group_name(gid_t gid);
/// "0600"
std::string mode_string(mode_t mode);
/// The state word: "in-use", "users-unknown", "unread", "never-used", "stale" or "idle".
std::string state_of(const IpcObjectInfo& o);

/// The stable JSON form of one object (schema documented in docs/design/cli.md).
nlohmann::json to_json(const IpcObjectInfo& o);
/// The table `ipckit ls` prints (header + one row per object).
std::string render_table(const std::vector<IpcObjectInfo>& objects);
/// The "field: value" lines `ipckit stat` prints.
std::string render_details(const IpcObjectInfo& o);

/// Parses --type words ("mq", "sysv", "posix", "all", ...) into kinds; errors name the word.
Result<std::vector<IpcObjectKind>> parse_kinds(const std::vector<std::string>& words);

}  // namespace ipckit::cli
