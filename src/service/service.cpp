// SPDX-License-Identifier: MIT
// The files of a request/reply service: names, the server record, pidfds (service_files.hpp).
#include "ipckit/service/service.hpp"

#include "channel/channel_file.hpp"
#include "ipckit/core/deadline.hpp"
#include "service/service_files.hpp"
#include "sys/syscall.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <chrono>
#include <cstring>

namespace ipckit {

namespace detail {

namespace {

constexpr std::string_view kScheme = "srv:";
constexpr std::size_t kMaxServiceName = 180;  // room for ".srv-rsp255" within a channel name

/// A lane for `max_message`: a power of two, whole pages, at least 4 records of the largest
/// size and at least 64 KiB, so that small messages reach the end of the ring (where the
/// publisher re-reads its readers' positions, a cache miss) only every few hundred records.
std::size_t lane_for(std::uint64_t max_message) {
    const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    const std::size_t want = 4 * (static_cast<std::size_t>(max_message) + 16);
    return std::max({std::bit_ceil(want), page, std::size_t{64} * 1024});
}

}  // namespace

Result<std::string> validate_service_name(std::string_view name) {
    if (name.substr(0, kScheme.size()) == kScheme) {
        name.remove_prefix(kScheme.size());
    }
    if (name.size() > kMaxServiceName) {
        return Error(std::errc::filename_too_long,
                     "srv name",
                     std::string(name.substr(0, 40)),
                     "longer than " + std::to_string(kMaxServiceName) + " characters");
    }
    return validate_channel_name(name);
}

Result<ServiceNames> service_names(std::string_view name,
                                   const ChannelOptions& options,
                                   UniqueFd* dir_out) {
    ServiceNames n;
    IPCKIT_TRY_ASSIGN(n.name, validate_service_name(name));
    IPCKIT_TRY_ASSIGN(auto dir, open_channel_dir(options.dir, &n.dir));
    n.record = n.name + ".srv";
    n.requests = n.name + ".srv-req";
    if (dir_out != nullptr) {
        *dir_out = std::move(dir);
    }
    return n;
}

ChannelConfig request_channel_config(std::uint64_t max_request,
                                     std::uint32_t max_clients,
                                     const ChannelOptions& options) {
    ChannelConfig c;
    c.policy = ChannelPolicy::Block;
    c.max_message_size = static_cast<std::size_t>(max_request) + kRequestEnvelope;
    c.lane_bytes = lane_for(c.max_message_size);
    c.max_publishers = max_clients;
    c.max_subscribers = 2;  // the server, and a restarted one before the dead record is freed
    c.max_loans = 8;        // requests a server may hold at once
    c.options = options;
    return c;
}

ChannelConfig response_channel_config(std::uint64_t max_response, const ChannelOptions& options) {
    ChannelConfig c;
    c.policy = ChannelPolicy::Block;
    c.max_message_size = static_cast<std::size_t>(max_response) + kResponseEnvelope;
    c.lane_bytes = lane_for(c.max_message_size);
    c.max_publishers = 2;   // the server, and a restarted one
    c.max_subscribers = 2;  // the client, and its successor on the slot
    c.max_loans = 4;
    c.options = options;
    return c;
}

Result<UniqueFd> open_record(int dir_fd, const ServiceNames& names, bool create) {
    const std::string path = names.dir + "/" + names.record;
    const int flags = (create ? O_RDWR | O_CREAT : O_RDONLY) | O_NOFOLLOW | O_CLOEXEC;
    IPCKIT_TRY_ASSIGN(auto fd, sys::call("open", path, [&] {
                          return ::openat(dir_fd, names.record.c_str(), flags, 0600);
                      }));
    UniqueFd owned(fd);
    struct stat st {};
    IPCKIT_TRY(sys::call("fstat", path, [&] { return ::fstat(owned.get(), &st); }));
    if (!S_ISREG(st.st_mode) || st.st_nlink != 1) {
        return Error(
            std::errc::permission_denied, "srv open", path, "not a regular file with one link");
    }
    if (st.st_uid != ::geteuid()) {
        return Error(std::errc::permission_denied,
                     "srv open",
                     path,
                     "owned by uid " + std::to_string(st.st_uid) + ", not ours");
    }
    if ((st.st_mode & 022) != 0) {
        return Error(std::errc::permission_denied, "srv open", path, "group- or world-writable");
    }
    return owned;
}

Result<std::optional<ServerRecord>> read_record(int fd, const ServiceNames& names) {
    ServerRecord rec{};
    IPCKIT_TRY_ASSIGN(auto n, sys::call("pread", names.dir + "/" + names.record, [&] {
                          return ::pread(fd, &rec, sizeof rec, 0);
                      }));
    if (n != static_cast<ssize_t>(sizeof rec) || rec.magic != kRecordMagic || rec.pid <= 0 ||
        rec.max_clients == 0 || rec.max_clients > kMaxClients || rec.max_request > kMaxPayload ||
        rec.max_response > kMaxPayload) {
        return std::optional<ServerRecord>();
    }
    return std::optional<ServerRecord>(rec);
}

Result<void> write_record(int fd, const ServiceNames& names, const ServerRecord& rec) {
    IPCKIT_TRY_ASSIGN(auto n, sys::call("pwrite", names.dir + "/" + names.record, [&] {
                          return ::pwrite(fd, &rec, sizeof rec, 0);
                      }));
    if (n != static_cast<ssize_t>(sizeof rec)) {
        return Error(
            std::errc::no_space_on_device, "pwrite", names.dir + "/" + names.record, "short write");
    }
    return {};
}

Result<bool> try_lock_record(int fd, const ServiceNames& names) {
    struct flock fl {};
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    IPCKIT_TRY_ASSIGN(auto r,
                      sys::call_maybe("fcntl(F_OFD_SETLK)", names.record, {EAGAIN, EACCES}, [&] {
                          return ::fcntl(fd, F_OFD_SETLK, &fl);
                      }));
    return r.has_value();
}

Result<bool> record_locked(int fd, const ServiceNames& names) {
    struct flock fl {};
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    IPCKIT_TRY(sys::call(
        "fcntl(F_OFD_GETLK)", names.record, [&] { return ::fcntl(fd, F_OFD_GETLK, &fl); }));
    return fl.l_type != F_UNLCK;
}

Result<std::optional<UniqueFd>> open_pidfd(pid_t pid) {
    IPCKIT_TRY_ASSIGN(auto fd, sys::call_maybe("pidfd_open", std::to_string(pid), {ESRCH}, [&] {
                          return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
                      }));
    if (!fd) {
        return std::optional<UniqueFd>();
    }
    return std::optional<UniqueFd>(UniqueFd(*fd));
}

Result<bool> process_ended(int pidfd) {
    pollfd p{pidfd, POLLIN, 0};
    IPCKIT_TRY_ASSIGN(auto n, sys::call("poll(pidfd)", "", [&] { return ::poll(&p, 1, 0); }));
    return n > 0;
}

std::uint64_t monotonic_ns() noexcept {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                          Deadline::Clock::now().time_since_epoch())
                                          .count());
}

std::uint64_t coarse_monotonic_ns() noexcept {
    timespec ts{};
    (void)::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);  // cannot fail for this clock id
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000U +
           static_cast<std::uint64_t>(ts.tv_nsec);
}

}  // namespace detail

Result<std::string> Service::validate_name(std::string_view name) {
    return detail::validate_service_name(name);
}

Result<void> Service::remove(std::string_view name, const ChannelOptions& options) {
    UniqueFd dir;
    IPCKIT_TRY_ASSIGN(auto names, detail::service_names(name, options, &dir));
    auto unlink_one = [&](const std::string& file) -> Result<void> {
        IPCKIT_TRY(sys::call_maybe("unlink", names.dir + "/" + file, {ENOENT}, [&] {
            return ::unlinkat(dir.get(), file.c_str(), 0);
        }));
        return {};
    };
    // The record first: a client that opens now finds no server rather than half a service.
    IPCKIT_TRY(unlink_one(names.record));
    IPCKIT_TRY(unlink_one(names.requests + ".chan"));
    for (std::uint32_t lane = 0; lane < detail::kMaxClients; ++lane) {
        IPCKIT_TRY(unlink_one(names.responses(lane) + ".chan"));
    }
    return {};
}

}  // namespace ipckit
