// SPDX-License-Identifier: MIT
// Services (srv:NAME) in the inventory: the server record NAME.srv, opened and checked as a client
// checks it (src/service/service_files.hpp), and the channels NAME.srv-req and NAME.srv-rsp<L>
// through Channel::inspect, which bounds-checks what it reads. Nothing read from the record is
// trusted to size or index anything: the client lanes come from the request channel's table.
#include "admin/host_files.hpp"
#include "admin/scanners.hpp"
#include "ipckit/channel/channel.hpp"
#include "service/service_files.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <string_view>

namespace ipckit::detail {

namespace {

constexpr std::string_view kRecordSuffix = ".srv";
constexpr std::string_view kRequestSuffix = ".srv-req";
constexpr std::string_view kResponseInfix = ".srv-rsp";

/// A missing channel is an ordinary state (no client yet): not worth a note.
bool missing(const Error& e) {
    return e.code() == std::errc::no_such_file_or_directory;
}

/// The record's fields, or a note saying why there are none.
void read_server_record(IpcObjectInfo& o, ServiceInfo& s, const ServiceNames& names, int dir_fd) {
    auto fd = open_record(dir_fd, names, /*create=*/false);
    if (!fd) {
        o.notes.push_back(fd.error().message());
        return;
    }
    if (auto locked = record_locked(fd->get(), names)) {
        s.server_alive = *locked;
    } else {
        o.notes.push_back(locked.error().message());
    }
    auto rec = read_record(fd->get(), names);
    if (!rec) {
        o.notes.push_back(rec.error().message());
        return;
    }
    if (!*rec) {
        struct stat st {};
        const auto size = ::fstat(fd->get(), &st) == 0 ? static_cast<long long>(st.st_size) : -1;
        o.notes.push_back(names.dir + "/" + names.record + ": no valid server record (" +
                          std::to_string(size) + " bytes; expected " +
                          std::to_string(sizeof(ServerRecord)) + " with magic, pid > 0, 1.." +
                          std::to_string(kMaxClients) + " clients and sizes up to " +
                          std::to_string(kMaxPayload) +
                          "): forged, truncated, or a server still starting");
        return;
    }
    s.record_valid = true;
    s.server_pid = (*rec)->pid;
    s.generation = (*rec)->generation;
    s.max_request = (*rec)->max_request;
    s.max_response = (*rec)->max_response;
    s.max_clients = (*rec)->max_clients;
}

/// Client `lane`'s responses: the subscriber of NAME.srv-rsp<lane> that has the client's pid.
void read_responses(IpcObjectInfo& o,
                    ServiceClientInfo& c,
                    const ServiceNames& names,
                    const ChannelOptions& co) {
    auto rsp = Channel::inspect(names.responses(c.lane), co);
    if (!rsp) {
        if (!missing(rsp.error())) {
            o.notes.push_back(rsp.error().message());
        }
        return;
    }
    for (const ChannelParticipantInfo& sub : rsp->subscribers) {
        if (sub.pid == c.pid) {
            c.responses += sub.messages;
            c.lost += sub.lost;
            c.corrupt += sub.corrupt;
        }
    }
}

}  // namespace

std::optional<IpcObjectInfo> service_of_file(const std::string& dir, const std::string& entry) {
    if (entry.size() <= kRecordSuffix.size() || !entry.ends_with(kRecordSuffix)) {
        return std::nullopt;
    }
    const std::string name = entry.substr(0, entry.size() - kRecordSuffix.size());
    if (!validate_service_name(name)) {
        return std::nullopt;  // no service could have this record
    }
    IpcObjectInfo o;
    o.kind = IpcObjectKind::Service;
    o.name = name;
    o.uri = "srv:" + name;
    (void)dir;  // services are addressed in $IPCKIT_SHM_DIR (or /dev/shm): srv: has no ?dir=
    return o;
}

std::optional<std::string> service_of_channel_file(const std::string& entry) {
    if (!entry.ends_with(kChannelFileSuffix)) {
        return std::nullopt;
    }
    const std::string_view chan =
        std::string_view(entry).substr(0, entry.size() - kChannelFileSuffix.size());
    if (chan.ends_with(kRequestSuffix) && chan.size() > kRequestSuffix.size()) {
        return std::string(chan.substr(0, chan.size() - kRequestSuffix.size()));
    }
    const std::size_t at = chan.rfind(kResponseInfix);
    if (at == std::string_view::npos || at == 0) {
        return std::nullopt;
    }
    const std::string_view digits = chan.substr(at + kResponseInfix.size());
    std::uint32_t lane = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), lane);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() ||
        lane >= kMaxClients || (digits.size() > 1 && digits.front() == '0')) {
        return std::nullopt;
    }
    return std::string(chan.substr(0, at));
}

void read_service(IpcObjectInfo& o, const std::string& dir) {
    ServiceInfo s;
    s.files.push_back(o.name + std::string(kRecordSuffix));
    ChannelOptions co;
    co.dir = dir;
    co.init_wait = std::chrono::milliseconds(50);  // a listing does not wait for a creator
    UniqueFd dir_fd;
    auto names = service_names(o.name, co, &dir_fd);
    if (!names) {
        o.notes.push_back(names.error().message());
        o.service = std::move(s);
        return;
    }
    read_server_record(o, s, *names, dir_fd.get());
    auto req = Channel::inspect(names->requests, co);
    if (!req) {
        if (!missing(req.error())) {
            o.notes.push_back(req.error().message());
        }
        o.service = std::move(s);
        return;
    }
    for (const ChannelParticipantInfo& sub : req->subscribers) {
        if (sub.alive) {  // the server; a dead server's record counts what it took, not now
            s.received += sub.messages;
            s.waiting = std::max(s.waiting, sub.depth);
        }
    }
    for (const ChannelParticipantInfo& p : req->publishers) {
        ServiceClientInfo c;
        c.lane = p.index;
        c.pid = p.pid;
        c.alive = p.alive;
        c.requests = p.messages;
        read_responses(o, c, *names, co);
        c.in_flight = c.requests > c.responses ? c.requests - c.responses : 0;
        if (c.alive) {
            s.in_flight += c.in_flight;
        }
        s.clients.push_back(c);
    }
    o.service = std::move(s);
}

}  // namespace ipckit::detail
