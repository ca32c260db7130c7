// SPDX-License-Identifier: MIT
#include "object_view.hpp"

#include "ipckit/service/service.hpp"

#include <algorithm>
#include <array>
#include <ctime>
#include <fmt/core.h>
#include <grp.h>
#include <pwd.h>

namespace ipckit::cli {

std::string user_name(uid_t uid) {
    passwd pw{};
    passwd* found = nullptr;
    char buf[1024];
    if (::getpwuid_r(uid, &pw, buf, sizeof buf, &found) == 0 && found != nullptr) {
        return found->pw_name;
    }
    return std::to_string(uid);
}

std::string group_name(gid_t gid) {
    group gr{};
    group* found = nullptr;
    char buf[1024];
    if (::getgrgid_r(gid, &gr, buf, sizeof buf, &found) == 0 && found != nullptr) {
        return found->gr_name;
    }
    return std::to_string(gid);
}

std::string mode_string(mode_t mode) {
    return fmt::format("{:04o}", mode & 07777);
}

std::string state_of(const IpcObjectInfo& o) {
    return std::string(state_name(o.state));
}

namespace {

std::string pid_list(const std::vector<pid_t>& pids, std::size_t max = 4) {
    std::string out;
    for (std::size_t i = 0; i < pids.size() && i < max; ++i) {
        out += (i == 0 ? "" : ",") + std::to_string(pids[i]);
    }
    if (pids.size() > max) {
        out += fmt::format(",+{}", pids.size() - max);
    }
    return out;
}

}  // namespace

std::string human_size(std::uint64_t bytes) {
    if (bytes < std::uint64_t{10} * 1024) {
        return std::to_string(bytes);
    }
    constexpr std::array<const char*, 4> kUnits = {"K", "M", "G", "T"};
    auto v = static_cast<double>(bytes);
    std::size_t u = 0;
    v /= 1024;  // at least 10 KiB, so at least "K"
    while (v >= 1024 && u + 1 < kUnits.size()) {
        v /= 1024;
        ++u;
    }
    return fmt::format("{:.1f}{}", v, kUnits.at(u));
}

namespace {

/// "pub=1 sub=2", with "dead=N" when records of dead participants remain.
std::string channel_count(const ChannelInfo& c) {
    std::size_t pubs = 0;
    std::size_t subs = 0;
    std::size_t dead = 0;
    for (const auto& p : c.publishers) {
        (p.alive ? pubs : dead) += 1;
    }
    for (const auto& p : c.subscribers) {
        (p.alive ? subs : dead) += 1;
    }
    return fmt::format("pub={} sub={}", pubs, subs) +
           (dead > 0 ? fmt::format(" dead={}", dead) : "") +
           (c.groups.empty() ? "" : fmt::format(" groups={}", c.groups.size()));
}

/// "server=123 clients=2 inflight=1": the server's pid (or "dead", "?" for no valid record),
/// live clients and their requests in flight.
std::string service_count(const ServiceInfo& s) {
    std::size_t clients = 0;
    for (const auto& c : s.clients) {
        clients += c.alive ? 1 : 0;
    }
    const std::string server = !s.record_valid  ? std::string("?")
                               : s.server_alive ? std::to_string(s.server_pid)
                                                : std::string("dead");
    return fmt::format("server={} clients={} inflight={}", server, clients, s.in_flight);
}

/// "relayed=5 dropped=0 gaps=0"
std::string bridge_counters_text(const BridgeDirectionCounters& c) {
    return fmt::format("relayed={} dropped={} gaps={}", c.relayed, c.dropped, c.gaps);
}

/// The bridge's COUNT cell (see count_column()).
std::string bridge_count(const BridgeStatus& b) {
    std::string out = fmt::format("{} -> {} {}", b.from, b.to, bridge_counters_text(b.forward));
    if (b.back.relayed != 0 || b.back.dropped != 0 || b.back.gaps != 0) {  // no sum: no wrap
        out += " <- " + bridge_counters_text(b.back);
    }
    if (b.reconnects > 0) {
        out += fmt::format(" reconnects={}", b.reconnects);
    }
    return out;
}

nlohmann::ordered_json participants_json(const std::vector<ChannelParticipantInfo>& list,
                                         bool sub) {
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const auto& p : list) {
        nlohmann::ordered_json j;
        j["index"] = p.index;
        j["pid"] = p.pid;
        j["alive"] = p.alive;
        j["messages"] = p.messages;
        if (sub) {
            j["lost"] = p.lost;
            j["corrupt"] = p.corrupt;
            j["depth"] = p.depth;
        }
        out.push_back(std::move(j));
    }
    return out;
}

std::string participant_line(const ChannelParticipantInfo& p, bool sub) {
    std::string s = fmt::format(
        "#{} pid {} {} messages {}", p.index, p.pid, p.alive ? "alive" : "dead", p.messages);
    if (sub) {
        s += fmt::format(" lost {} corrupt {} depth {}", p.lost, p.corrupt, p.depth);
    }
    return s;
}

}  // namespace

std::string count_column(const IpcObjectInfo& o) {
    switch (o.kind) {
        case IpcObjectKind::PosixMq:
            if (o.messages) {
                return fmt::format("{}/{}", *o.messages, o.max_messages.value_or(0));
            }
            return "?";
        case IpcObjectKind::SysvMsg:
            return o.messages ? std::to_string(*o.messages) : "?";
        case IpcObjectKind::PosixSem:
            return o.sem_value ? "val=" + std::to_string(*o.sem_value) : "?";
        case IpcObjectKind::SysvSem:
            return o.nsems ? "nsems=" + std::to_string(*o.nsems) : "?";
        case IpcObjectKind::SysvShm:
            return o.attached ? "att=" + std::to_string(*o.attached) : "?";
        case IpcObjectKind::Channel:
            return o.channel ? channel_count(*o.channel) : "?";
        case IpcObjectKind::Event:
            return o.event ? "ids=" + std::to_string(o.event->max_ids) : "?";
        case IpcObjectKind::Service:
            return o.service ? service_count(*o.service) : "?";
        case IpcObjectKind::Bridge:
            return o.bridge ? bridge_count(*o.bridge) : "?";
        default:
            return "-";
    }
}

std::string groups_column(const IpcObjectInfo& o) {
    if (!o.channel || o.channel->groups.empty()) {
        return "-";
    }
    std::string out;
    for (const auto& g : o.channel->groups) {
        out += fmt::format("{}{}({} consumers, {} in flight)",
                           out.empty() ? "" : " ",
                           g.name,
                           g.consumers,
                           g.in_flight);
    }
    return out;
}

std::string process_column(const IpcObjectInfo& o) {
    std::string out;
    if (!o.users.empty()) {
        out = "users=" + pid_list(o.users);
    } else if (!o.users_known) {
        out = "users=?";
    }
    auto add = [&](const char* label, std::optional<pid_t> pid) {
        if (pid) {
            out += (out.empty() ? "" : " ") + fmt::format("{}={}", label, *pid);
        }
    };
    add("notify", o.notify_pid);
    add("lspid", o.last_send_pid);
    add("lrpid", o.last_recv_pid);
    add("cpid", o.creator_pid);
    add("lpid", o.last_pid);
    if (o.kind == IpcObjectKind::SysvSem) {
        std::vector<pid_t> last;
        for (pid_t p : o.sem_pids) {
            if (p > 0 && std::find(last.begin(), last.end(), p) == last.end()) {
                last.push_back(p);
            }
        }
        if (!last.empty()) {
            out += (out.empty() ? "" : " ") + ("last=" + pid_list(last));
        }
    }
    return out.empty() ? "-" : out;
}

namespace {

/// The `service` member of the JSON form: record fields null when the record is not valid.
nlohmann::ordered_json service_json(const ServiceInfo& s) {
    const auto from_record = [&](auto v) {
        return s.record_valid ? nlohmann::ordered_json(v) : nlohmann::ordered_json(nullptr);
    };
    nlohmann::ordered_json v;
    v["record_valid"] = s.record_valid;
    v["server_pid"] = from_record(s.server_pid);
    v["server_alive"] = s.server_alive;
    v["generation"] = from_record(s.generation);
    v["max_request"] = from_record(s.max_request);
    v["max_response"] = from_record(s.max_response);
    v["max_clients"] = from_record(s.max_clients);
    v["received"] = s.received;
    v["waiting_bytes"] = s.waiting;
    v["in_flight"] = s.in_flight;
    nlohmann::ordered_json clients = nlohmann::ordered_json::array();
    for (const auto& c : s.clients) {
        clients.push_back({{"lane", c.lane},
                           {"pid", c.pid},
                           {"alive", c.alive},
                           {"requests", c.requests},
                           {"responses", c.responses},
                           {"in_flight", c.in_flight},
                           {"lost", c.lost},
                           {"corrupt", c.corrupt}});
    }
    v["clients"] = clients;
    v["files"] = s.files;
    return v;
}

template <class T>
void put(nlohmann::json& j, const char* key, const std::optional<T>& v) {
    if (v) {
        j[key] = *v;
    } else {
        j[key] = nullptr;
    }
}

}  // namespace

nlohmann::json bridge_status_json(const BridgeStatus& b) {
    const auto counters = [](const BridgeDirectionCounters& c) {
        return nlohmann::json{{"relayed", c.relayed}, {"dropped", c.dropped}, {"gaps", c.gaps}};
    };
    return {{"pid", b.pid},
            {"state", b.alive ? "running" : "dead"},
            {"from", b.from},
            {"to", b.to},
            {"forward", counters(b.forward)},
            {"back", counters(b.back)},
            {"reconnects", b.reconnects},
            {"status_file", b.path}};
}

std::string time_string(std::optional<std::int64_t> t) {
    if (!t || *t == 0) {
        return "-";
    }
    const auto tt = static_cast<std::time_t>(*t);
    std::tm tm{};
    ::localtime_r(&tt, &tm);
    char buf[64];
    if (std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S %z", &tm) == 0) {
        return "-";  // cannot happen with this format and buffer; never print garbage
    }
    return buf;
}

std::string json_text(const nlohmann::json& j) {
    return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

nlohmann::json to_json(const IpcObjectInfo& o) {
    nlohmann::json j;
    j["type"] = kind_name(o.kind);
    j["name"] = o.name;
    j["uri"] = o.uri;
    j["path"] = o.path.empty() ? nlohmann::json(nullptr) : nlohmann::json(o.path);
    if (o.key) {
        j["key"] = SysvKey::from_number(static_cast<std::uint32_t>(*o.key))
                       .transform([](SysvKey k) { return k.to_string(); })
                       .value_or(std::string("private"));
    } else {
        j["key"] = nullptr;
    }
    j["id"] = o.id >= 0 ? nlohmann::json(o.id) : nlohmann::json(nullptr);
    j["uid"] = o.uid;
    j["user"] = user_name(o.uid);
    j["gid"] = o.gid;
    j["group"] = group_name(o.gid);
    put(j, "cuid", o.cuid);
    put(j, "cgid", o.cgid);
    j["mode"] = mode_string(o.mode);
    put(j, "size", o.size);
    put(j, "messages", o.messages);
    put(j, "max_messages", o.max_messages);
    put(j, "max_message_size", o.max_message_size);
    put(j, "max_bytes", o.max_bytes);
    put(j, "notify_pid", o.notify_pid);
    put(j, "value", o.sem_value);
    put(j, "waiters", o.sem_waiters);
    put(j, "nsems", o.nsems);
    j["values"] = o.sem_values;
    j["sem_pids"] = o.sem_pids;
    put(j, "attached", o.attached);
    put(j, "rss", o.rss);
    put(j, "swap", o.swap);
    j["marked_for_removal"] = o.marked_for_removal;
    j["locked"] = o.locked;
    j["creator_command"] =
        o.creator_command.empty() ? nlohmann::json(nullptr) : nlohmann::json(o.creator_command);
    put(j, "creator_pid", o.creator_pid);
    put(j, "last_pid", o.last_pid);
    put(j, "last_send_pid", o.last_send_pid);
    put(j, "last_recv_pid", o.last_recv_pid);
    put(j, "access_time", o.access_time);
    put(j, "modify_time", o.modify_time);
    put(j, "change_time", o.change_time);
    if (o.channel) {
        nlohmann::ordered_json c;
        c["policy"] = o.channel->policy == ChannelPolicy::Overwrite ? "overwrite" : "block";
        c["capacity"] = o.channel->lane_bytes;
        c["max_message"] = o.channel->max_message_size;
        c["max_publishers"] = o.channel->max_publishers;
        c["max_subscribers"] = o.channel->max_subscribers;
        c["publishers"] = participants_json(o.channel->publishers, false);
        c["subscribers"] = participants_json(o.channel->subscribers, true);
        nlohmann::ordered_json groups = nlohmann::ordered_json::array();
        for (const auto& g : o.channel->groups) {
            groups.push_back({{"name", g.name},
                              {"delivery", g.at_most_once ? "at-most-once" : "at-least-once"},
                              {"consumers", g.consumers},
                              {"dead_consumers", g.dead_consumers},
                              {"received", g.received},
                              {"in_flight", g.in_flight},
                              {"redelivered", g.redelivered},
                              {"lost", g.lost},
                              {"corrupt", g.corrupt},
                              {"claims", g.claims},
                              {"backlog_bytes", g.backlog}});
        }
        c["groups"] = groups;
        j["channel"] = c;
    }
    if (o.event) {
        nlohmann::ordered_json e;
        e["max_ids"] = o.event->max_ids;
        e["creator_pid"] = o.event->creator_pid;
        e["sleepers"] = o.event->sleepers;
        e["doorbells"] = o.event->doorbells;
        nlohmann::ordered_json counters = nlohmann::ordered_json::array();
        for (const auto& c : o.event->counters) {
            counters.push_back({{"id", c.id}, {"count", c.count}});
        }
        e["counters"] = counters;
        j["event"] = e;
    }
    if (o.service) {
        j["service"] = service_json(*o.service);
    }
    if (o.bridge) {
        j["bridge"] = bridge_status_json(*o.bridge);
    }
    j["users"] = o.users;
    j["users_state"] = o.users_known ? "known" : "unknown";
    j["state"] = state_of(o);
    j["stale"] = o.stale;
    j["notes"] = o.notes;
    return j;
}

/// The event's lines of `ipckit stat` (through the caller's line formatter).
template <class Line>
void event_details(const EventInfo& e, Line& line) {
    line("ids", fmt::format("{} (creator pid {})", e.max_ids, e.creator_pid));
    line("waiting",
         fmt::format("{} listeners asleep, {} WaitSet doorbells", e.sleepers, e.doorbells));
    for (const auto& c : e.counters) {
        line("counter", fmt::format("id {}: {}", c.id, c.count));
    }
    if (e.counters.empty()) {
        line("counter", "- (every id at 0)");
    }
}

/// The service's lines of `ipckit stat` (through the caller's line formatter).
template <class Line>
void service_details(const ServiceInfo& s, Line& line) {
    if (s.record_valid) {
        line("server",
             fmt::format("pid {} {} generation {}",
                         s.server_pid,
                         s.server_alive ? "alive" : "dead",
                         s.generation));
        line("sizes",
             fmt::format("request {} bytes, response {} bytes, max {} clients",
                         s.max_request,
                         s.max_response,
                         s.max_clients));
    } else {
        line("server",
             std::string("no valid record (see the note)") +
                 (s.server_alive ? ", its lock is held" : ""));
    }
    line("requests",
         fmt::format(
             "{} received, {} bytes waiting, {} in flight", s.received, s.waiting, s.in_flight));
    for (const auto& c : s.clients) {
        line("client",
             fmt::format("lane {} pid {} {} requests {} responses {} in flight {} lost {} "
                         "corrupt {}",
                         c.lane,
                         c.pid,
                         c.alive ? "alive" : "dead",
                         c.requests,
                         c.responses,
                         c.in_flight,
                         c.lost,
                         c.corrupt));
    }
    std::string files;
    for (const auto& f : s.files) {
        files += (files.empty() ? "" : " ") + f;
    }
    line("files", files);
}

/// The channel's lines of `ipckit stat` (through the caller's line formatter).
template <class Line>
void channel_details(const ChannelInfo& c, Line& line) {
    line("policy", c.policy == ChannelPolicy::Overwrite ? "overwrite" : "block");
    line("capacity", fmt::format("{} bytes per publisher", c.lane_bytes));
    line("max message", fmt::format("{} bytes", c.max_message_size));
    line("participants",
         fmt::format("{} (of max {} publishers, {} subscribers)",
                     channel_count(c),
                     c.max_publishers,
                     c.max_subscribers));
    for (const auto& p : c.publishers) {
        line("publisher", participant_line(p, false));
    }
    for (const auto& p : c.subscribers) {
        line("subscriber", participant_line(p, true));
    }
    for (const auto& g : c.groups) {  // work-queue groups
        std::string claims;
        for (std::size_t l = 0; l < g.claims.size(); ++l) {
            claims += fmt::format("{}{}", l == 0 ? "" : ",", g.claims[l]);
        }
        line("group",
             fmt::format("{} ({}): {} consumer(s){}, received {}, in flight {}, redelivered {}, "
                         "lost {}, corrupt {}, claim positions [{}]",
                         g.name,
                         g.at_most_once ? "at-most-once" : "at-least-once",
                         g.consumers,
                         g.dead_consumers != 0 ? fmt::format(" + {} dead", g.dead_consumers) : "",
                         g.received,
                         g.in_flight,
                         g.redelivered,
                         g.lost,
                         g.corrupt,
                         claims));
    }
}

/// The bridge's lines of `ipckit stat` (through the caller's line formatter).
template <class Line>
void bridge_details(const BridgeStatus& b, Line& line) {
    line("bridge",
         fmt::format("pid {} {}", b.pid, b.alive ? "running" : "dead (its status file is left)"));
    line("from", b.from);
    line("to", b.to);
    line("forward", bridge_counters_text(b.forward) + " (FROM -> TO)");
    line("back", bridge_counters_text(b.back) + " (TO -> FROM, --both)");
    line("reconnects", std::to_string(b.reconnects));
}

/// The lines of the ipckit facilities (channel, event, service, bridge) of `ipckit stat`.
template <class Line>
void facility_details(const IpcObjectInfo& o, Line& line) {
    if (o.channel) {
        channel_details(*o.channel, line);
    }
    if (o.event) {
        event_details(*o.event, line);
    }
    if (o.service) {
        service_details(*o.service, line);
    }
    if (o.bridge) {
        bridge_details(*o.bridge, line);
    }
}

std::string render_details(const IpcObjectInfo& o) {
    std::string out;
    auto line = [&](const char* k, const std::string& v) {
        out += fmt::format("{:<16} {}\n", std::string(k) + ":", v);
    };
    auto opt = [&](const char* k, const auto& v) {
        if (v) {
            line(k, fmt::format("{}", *v));
        }
    };
    line("type", std::string(kind_name(o.kind)));
    line("uri", o.uri);
    line("name", o.name);
    if (!o.path.empty()) {
        line("path", o.path);
    }
    if (o.id >= 0) {
        line("id", std::to_string(o.id));
    }
    line("owner",
         fmt::format("{} ({}) group {} ({})", user_name(o.uid), o.uid, group_name(o.gid), o.gid));
    if (o.cuid) {
        line("creator",
             fmt::format("{} ({}) group {} ({})",
                         user_name(*o.cuid),
                         *o.cuid,
                         group_name(o.cgid.value_or(0)),
                         o.cgid.value_or(0)));
    }
    line("mode", mode_string(o.mode));
    if (o.kind != IpcObjectKind::Bridge) {  // a status file's size says nothing
        line("size", o.size ? std::to_string(*o.size) + " bytes" : "unknown");
    }
    opt("messages", o.messages);
    opt("max messages", o.max_messages);
    opt("max msg size", o.max_message_size);
    opt("max bytes", o.max_bytes);
    opt("notify pid", o.notify_pid);
    opt("value", o.sem_value);
    opt("waiters", o.sem_waiters);
    opt("nsems", o.nsems);
    if (!o.sem_values.empty()) {
        std::string v;
        for (std::size_t i = 0; i < o.sem_values.size(); ++i) {
            v += fmt::format("{}#{}={}", i == 0 ? "" : " ", i, o.sem_values[i]);
        }
        line("values", v);
    }
    if (!o.sem_pids.empty()) {
        line("last pids", pid_list(o.sem_pids, 64));
    }
    opt("attached", o.attached);
    opt("rss", o.rss);
    opt("swap", o.swap);
    if (o.marked_for_removal || o.locked) {
        line("status",
             std::string(o.marked_for_removal ? "dest " : "") + (o.locked ? "locked" : ""));
    }
    if (!o.creator_command.empty()) {
        line("creator cmd", o.creator_command);
    }
    opt("creator pid", o.creator_pid);
    opt("last pid", o.last_pid);
    opt("last send pid", o.last_send_pid);
    opt("last recv pid", o.last_recv_pid);
    line("accessed", time_string(o.access_time));
    line("modified", time_string(o.modify_time));
    line("changed", time_string(o.change_time));
    facility_details(o, line);
    line("users",
         (o.users.empty() ? "-" : pid_list(o.users, 64)) +
             (o.users_known ? ""
                            : " (unknown: processes this user may not examine might use "
                              "it)"));
    line("state", state_of(o));
    for (const std::string& n : o.notes) {
        line("note", n);
    }
    return out;
}

bool is_named_object(std::string_view text) {
    return text.starts_with("srv:") || text.starts_with("bridge:");
}

Result<std::string> named_object_name(const std::string& text) {
    return text.starts_with("bridge:") ? Inventory::bridge_name(text)
                                       : Service::validate_name(text);
}

Result<std::optional<IpcObjectInfo>> find_named_object(const std::string& text) {
    return text.starts_with("bridge:") ? Inventory::find_bridge(text)
                                       : Inventory::find_service(text);
}

Result<std::vector<IpcObjectKind>> parse_kinds(const std::vector<std::string>& words) {
    std::vector<IpcObjectKind> kinds;
    auto add = [&](IpcObjectKind k) {
        if (std::find(kinds.begin(), kinds.end(), k) == kinds.end()) {
            kinds.push_back(k);
        }
    };
    for (const std::string& w : words) {
        if (w == "all") {
            return std::vector<IpcObjectKind>{};
        }
        if (w == "posix") {
            add(IpcObjectKind::PosixMq);
            add(IpcObjectKind::PosixShm);
            add(IpcObjectKind::PosixSem);
        } else if (w == "sysv") {
            add(IpcObjectKind::SysvMsg);
            add(IpcObjectKind::SysvShm);
            add(IpcObjectKind::SysvSem);
        } else if (auto k = kind_from_name(w)) {
            add(*k);
        } else {
            return Error(
                std::errc::invalid_argument,
                "--type",
                "'" + w + "'",
                "expected mq, shm, sem, sysvmq, sysvshm, sysvsem, chan, event, srv, bridge, posix, "
                "sysv or all");
        }
    }
    return kinds;
}

}  // namespace ipckit::cli
