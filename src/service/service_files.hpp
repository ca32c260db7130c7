// SPDX-License-Identifier: MIT
// Private to src/service: the envelope of requests and responses, the server record file, the
// names of a service's channels, and the pidfd checks both sides use.
#pragma once

#include "ipckit/channel/channel_config.hpp"
#include "ipckit/core/result.hpp"
#include "ipckit/core/unique_fd.hpp"
#include "ipckit/service/service_config.hpp"

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ipckit::detail {

inline constexpr std::size_t kRequestEnvelope = 32;
/// 16 bytes: with a small payload a response then spans one cache line less (the busy-polled
/// round trip pays ~100 ns for each line that crosses cores).
inline constexpr std::size_t kResponseEnvelope = 16;

/// Before each request payload. Written by the client into its own lane; read by the server
/// from shared memory, so copied out once and then checked.
struct RequestEnvelope {
    std::uint64_t id;
    std::uint64_t token;        ///< the client's random number, echoed in responses
    std::uint64_t deadline_ns;  ///< absolute CLOCK_MONOTONIC; 0 = none
    std::uint32_t generation;   ///< the server generation the client resolved
    std::int32_t pid;           ///< the client's pid (for the server's liveness check)
};
static_assert(sizeof(RequestEnvelope) == kRequestEnvelope);

inline constexpr std::uint32_t kFinal = 1;
inline constexpr std::uint32_t kError = 2;

/// Before each response payload, written by the server into the client's response channel.
struct ResponseEnvelope {
    std::uint64_t id;
    std::uint32_t token;  ///< low 32 bits of the request's token
    std::uint32_t flags;  ///< kFinal | kError
};
static_assert(sizeof(ResponseEnvelope) == kResponseEnvelope);

inline constexpr std::uint64_t kRecordMagic = 0x3176727374696b70ULL;  // "pkitsrv1"
inline constexpr std::uint32_t kMaxClients = 256;
inline constexpr std::size_t kMaxPayload = std::size_t{64} << 20;

/// The server record, `<dir>/NAME.srv`, written only by the server holding its lock.
struct ServerRecord {
    std::uint64_t magic;
    std::uint64_t generation;
    std::uint64_t max_request;
    std::uint64_t max_response;
    std::int32_t pid;
    std::uint32_t max_clients;
};

/// The paths and channel names of one service.
struct ServiceNames {
    std::string name;      ///< NAME
    std::string dir;       ///< resolved channel directory
    std::string record;    ///< file name in dir: NAME.srv
    std::string requests;  ///< channel NAME.srv-req
    [[nodiscard]] std::string responses(std::uint32_t lane) const {
        return name + ".srv-rsp" + std::to_string(lane);
    }
    [[nodiscard]] std::string uri() const { return "srv:" + name; }
};

Result<std::string> validate_service_name(std::string_view name);
/// Validates the name and opens the channel directory (same rules as channels).
Result<ServiceNames> service_names(std::string_view name,
                                   const ChannelOptions& options,
                                   UniqueFd* dir_out);

/// Channel configs of a service, from its sizes (the client derives the response one from the
/// record, so both sides agree).
ChannelConfig request_channel_config(std::uint64_t max_request,
                                     std::uint32_t max_clients,
                                     const ChannelOptions& options);
ChannelConfig response_channel_config(std::uint64_t max_response, const ChannelOptions& options);

/// Opens the record file (O_NOFOLLOW, regular, ours, not group/world-writable, one link).
Result<UniqueFd> open_record(int dir_fd, const ServiceNames& names, bool create);
/// Reads and validates the record (empty: no valid record in the file).
Result<std::optional<ServerRecord>> read_record(int fd, const ServiceNames& names);
Result<void> write_record(int fd, const ServiceNames& names, const ServerRecord& rec);
/// Takes the whole-file OFD write lock without waiting; false if another description holds it.
Result<bool> try_lock_record(int fd, const ServiceNames& names);
/// True if some open file description holds a lock on the record (a live server).
Result<bool> record_locked(int fd, const ServiceNames& names);

/// pidfd_open(pid); empty if the process is gone.
Result<std::optional<UniqueFd>> open_pidfd(pid_t pid);
/// True once the process behind `pidfd` has ended (poll without waiting).
Result<bool> process_ended(int pidfd);

/// CLOCK_MONOTONIC now in ns, and conversions to and from Deadline.
std::uint64_t monotonic_ns() noexcept;
/// CLOCK_MONOTONIC_COARSE in ns: a tick of resolution, no TSC read (for rate limits).
std::uint64_t coarse_monotonic_ns() noexcept;

}  // namespace ipckit::detail
