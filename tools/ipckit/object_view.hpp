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
/// The text of `j` indented by 2, bytes that are not UTF-8 replaced by U+FFFD: names come from
/// the system and from other users (a shm name may be any bytes), and one must not make the whole
/// listing fail.
std::string json_text(const nlohmann::json& j);
/// "512", "64.0K", "1.5M": bytes below 10 KiB, else binary units with one decimal.
std::string human_size(std::uint64_t bytes);
/// The COUNT cell of ls: "2/8" (mq), "val=1" (sem), "att=1" (sysvshm), "pub=1 sub=2" (chan,
/// with " groups=N" when it has work-queue groups), "server=12 clients=2 inflight=1" (srv),
/// "chan:a -> nats://h:4222/a relayed=5 dropped=0 gaps=0" (bridge; "<- relayed=..." for the
/// back direction when it relayed anything, "reconnects=N" when it reconnected).
std::string count_column(const IpcObjectInfo& o);
/// The GROUPS cell of ls: "jobs(2 consumers, 5 in flight)" per group of a channel, or "-".
std::string groups_column(const IpcObjectInfo& o);
/// The PROCESSES cell of ls: "users=12,13 lspid=12", "users=?" or "-".
std::string process_column(const IpcObjectInfo& o);
/// "2026-12-01 20:44:09 +0000", or "-" for no time.
std::string time_string(std::optional<std::int64_t> t);
/// The "field: value" lines `ipckit stat` prints.
std::string render_details(const IpcObjectInfo& o);

/// The JSON of one bridge status (`ipckit bridges --json` rows, the `bridge` member of ls/stat).
nlohmann::json bridge_status_json(const BridgeStatus& b);

/// True for "srv:..." and "bridge:...": services and bridges are found by name
/// (Inventory::find_service, find_bridge), not through Uri.
bool is_named_object(std::string_view text);
/// The NAME of srv:NAME or bridge:PID, checked without touching anything.
Result<std::string> named_object_name(const std::string& text);
/// The service or bridge `text` names (srv:NAME, bridge:PID), if it exists.
Result<std::optional<IpcObjectInfo>> find_named_object(const std::string& text);

/// Parses --type words ("mq", "sysv", "posix", "all", ...) into kinds; errors name the word.
Result<std::vector<IpcObjectKind>> parse_kinds(const std::vector<std::string>& words);

}  // namespace ipckit::cli
