// SPDX-License-Identifier: MIT
#include "ls_table.hpp"

#include "object_view.hpp"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <fmt/core.h>
#include <functional>
#include <libsmartcols.h>
#include <memory>
#include <string_view>

namespace ipckit::cli {

namespace {

struct Column {
    const char* name;
    const char* help;
    double width_hint;  ///< libsmartcols: < 1 is a fraction of the terminal, >= 1 a width
    int flags;          ///< SCOLS_FL_*
    std::function<std::string(const IpcObjectInfo&, const LsTableOptions&)> cell;
};

std::string dash_or(const std::optional<pid_t>& v) {
    return v ? std::to_string(*v) : "-";
}

std::string key_cell(const IpcObjectInfo& o) {
    if (!o.key) {
        return "-";
    }
    return SysvKey::from_number(static_cast<std::uint32_t>(*o.key))
        .transform([](SysvKey k) { return k.to_string(); })
        .value_or(std::string("private"));
}

std::string size_cell(const IpcObjectInfo& o, const LsTableOptions& opt) {
    if (o.kind == IpcObjectKind::SysvSem || o.kind == IpcObjectKind::Bridge) {
        return "-";
    }
    if (!o.size) {
        return "?";
    }
    return opt.bytes ? std::to_string(*o.size) : human_size(*o.size);
}

const std::vector<Column>& columns() {
    static const std::vector<Column> all = {
        {"TYPE",
         "mq, shm, sem, sysvmq, sysvshm, sysvsem, chan, event, srv or bridge",
         7,
         0,
         [](const IpcObjectInfo& o, const LsTableOptions&) {
             return std::string(kind_name(o.kind));
         }},
        {"NAME",
         "POSIX name, System V key, channel, event or service name, bridge pid",
         0.25,
         SCOLS_FL_TRUNC,
         [](const IpcObjectInfo& o, const LsTableOptions&) { return o.name; }},
        {"ID",
         "System V id",
         6,
         SCOLS_FL_RIGHT,
         [](const IpcObjectInfo& o, const LsTableOptions&) {
             return o.id >= 0 ? std::to_string(o.id) : std::string("-");
         }},
        {"KEY",
         "System V key (0x%08x)",
         10,
         0,
         [](const IpcObjectInfo& o, const LsTableOptions&) { return key_cell(o); }},
        {"OWNER",
         "owner's user name",
         5,
         0,
         [](const IpcObjectInfo& o, const LsTableOptions&) { return user_name(o.uid); }},
        {"UID",
         "owner's uid",
         5,
         SCOLS_FL_RIGHT,
         [](const IpcObjectInfo& o, const LsTableOptions&) { return std::to_string(o.uid); }},
        {"GROUP",
         "owner's group name",
         5,
         0,
         [](const IpcObjectInfo& o, const LsTableOptions&) { return group_name(o.gid); }},
        {"GID",
         "owner's gid",
         5,
         SCOLS_FL_RIGHT,
         [](const IpcObjectInfo& o, const LsTableOptions&) { return std::to_string(o.gid); }},
        {"MODE",
         "permissions (octal)",
         4,
         0,
         [](const IpcObjectInfo& o, const LsTableOptions&) { return mode_string(o.mode); }},
        {"SIZE", "size (bytes with --bytes)", 6, SCOLS_FL_RIGHT, size_cell},
        {"COUNT",
         "messages/max, semaphore value or count, attaches, channel participants and groups, "
         "service server/clients/in flight, bridge FROM -> TO and counters",
         6,
         0,
         [](const IpcObjectInfo& o, const LsTableOptions&) { return count_column(o); }},
        {"GROUPS",
         "a channel's work-queue groups: consumers and messages in flight",
         0.2,
         SCOLS_FL_TRUNC,
         [](const IpcObjectInfo& o, const LsTableOptions&) { return groups_column(o); }},
        {"PROCESSES",
         "users and the pids the kernel recorded",
         0.2,
         SCOLS_FL_TRUNC,
         [](const IpcObjectInfo& o, const LsTableOptions&) { return process_column(o); }},
        {"STATE",
         "in-use, users-unknown, unread, never-used, stale or idle",
         6,
         0,
         [](const IpcObjectInfo& o, const LsTableOptions&) { return state_of(o); }},
        {"CPID",
         "creator pid",
         5,
         SCOLS_FL_RIGHT,
         [](const IpcObjectInfo& o, const LsTableOptions&) { return dash_or(o.creator_pid); }},
        {"LPID",
         "last pid (System V)",
         5,
         SCOLS_FL_RIGHT,
         [](const IpcObjectInfo& o, const LsTableOptions&) { return dash_or(o.last_pid); }},
        {"MODIFIED",
         "last change of the contents",
         10,
         0,
         [](const IpcObjectInfo& o, const LsTableOptions&) { return time_string(o.modify_time); }},
        {"CHANGED",
         "last change of the metadata",
         10,
         0,
         [](const IpcObjectInfo& o, const LsTableOptions&) { return time_string(o.change_time); }},
        {"URI",
         "the URI send, recv, stat and rm take",
         0.25,
         SCOLS_FL_TRUNC,
         [](const IpcObjectInfo& o, const LsTableOptions&) { return o.uri; }},
        {"PATH",
         "the file behind it, if any",
         0.25,
         SCOLS_FL_TRUNC,
         [](const IpcObjectInfo& o, const LsTableOptions&) {
             return o.path.empty() ? std::string("-") : o.path;
         }},
    };
    return all;
}

constexpr std::array<std::string_view, 9> kDefaultColumns = {
    "TYPE", "NAME", "ID", "OWNER", "MODE", "SIZE", "COUNT", "PROCESSES", "STATE"};

const Column* find_column(std::string_view name) {
    for (const Column& c : columns()) {
        if (std::equal(name.begin(),
                       name.end(),
                       std::string_view(c.name).begin(),
                       std::string_view(c.name).end(),
                       [](char a, char b) { return std::toupper(a) == std::toupper(b); })) {
            return &c;
        }
    }
    return nullptr;
}

Result<std::vector<const Column*>> chosen_columns(const std::vector<std::string>& words) {
    std::vector<std::string_view> names;
    const bool add = !words.empty() && !words.front().empty() && words.front().front() == '+';
    if (words.empty() || add) {
        names.assign(kDefaultColumns.begin(), kDefaultColumns.end());
    }
    for (std::size_t i = 0; i < words.size(); ++i) {
        std::string_view w = words[i];
        if (i == 0 && add) {
            w.remove_prefix(1);
        }
        names.push_back(w);
    }
    std::vector<const Column*> out;
    for (std::string_view n : names) {
        const Column* c = find_column(n);
        if (c == nullptr) {
            std::string known;
            for (const Column& k : columns()) {
                known += (known.empty() ? "" : ", ") + std::string(k.name);
            }
            return Error(std::errc::invalid_argument,
                         "--output",
                         "'" + std::string(n.substr(0, 40)) + "'",
                         "unknown column; known: " + known);
        }
        out.push_back(c);
    }
    return out;
}

struct TableDeleter {
    void operator()(libscols_table* t) const noexcept { scols_unref_table(t); }
};
using TablePtr = std::unique_ptr<libscols_table, TableDeleter>;

Error smartcols_error(const char* op, int rc) {
    return {std::error_code(rc < 0 ? -rc : ENOMEM, std::system_category()), op};
}

}  // namespace

std::string ls_columns_help() {
    std::string out = "Columns (-o, --output; default ";
    for (std::size_t i = 0; i < kDefaultColumns.size(); ++i) {
        out += (i == 0 ? "" : ",") + std::string(kDefaultColumns.at(i));
    }
    out += "; -o +COL adds to them):\n";
    for (const Column& c : columns()) {
        out += fmt::format("  {:<10} {}\n", c.name, c.help);
    }
    return out;
}

Result<std::string> render_ls_table(const std::vector<IpcObjectInfo>& objects,
                                    const LsTableOptions& options) {
    IPCKIT_TRY_ASSIGN(const std::vector<const Column*> chosen, chosen_columns(options.columns));
    const TablePtr table(scols_new_table());
    if (!table) {
        return smartcols_error("scols_new_table", -ENOMEM);
    }
    scols_table_enable_raw(table.get(), options.raw ? 1 : 0);
    scols_table_enable_noheadings(table.get(), options.noheadings ? 1 : 0);
    if (options.width) {
        scols_table_set_termforce(table.get(), SCOLS_TERMFORCE_ALWAYS);
        scols_table_set_termwidth(table.get(), *options.width);
    }
    for (const Column* c : chosen) {
        if (scols_table_new_column(table.get(), c->name, c->width_hint, c->flags) == nullptr) {
            return smartcols_error("scols_table_new_column", -ENOMEM);
        }
    }
    for (const IpcObjectInfo& o : objects) {
        libscols_line* line = scols_table_new_line(table.get(), nullptr);
        if (line == nullptr) {
            return smartcols_error("scols_table_new_line", -ENOMEM);
        }
        for (std::size_t i = 0; i < chosen.size(); ++i) {
            const std::string text = chosen[i]->cell(o, options);
            if (const int rc = scols_line_set_data(line, i, text.c_str()); rc != 0) {
                return smartcols_error("scols_line_set_data", rc);
            }
        }
    }
    char* data = nullptr;
    if (const int rc = scols_print_table_to_string(table.get(), &data); rc != 0) {
        return smartcols_error("scols_print_table_to_string", rc);
    }
    std::string out(data == nullptr ? "" : data);
    // libsmartcols allocated it with malloc.
    std::free(data);  // NOLINT(cppcoreguidelines-no-malloc,cppcoreguidelines-owning-memory)
    if (!out.empty() && out.back() != '\n') {
        out += '\n';
    }
    return out;
}

}  // namespace ipckit::cli
