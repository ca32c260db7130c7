// SPDX-License-Identifier: MIT
// Private to src/ (the nats:// endpoint and the bridge): owners of libnats objects and the one
// translation of a natsStatus into an Error.
#pragma once

#include "ipckit/core/error.hpp"
#include "ipckit/endpoint/uri.hpp"

#include <memory>
#include <nats/nats.h>
#include <string>
#include <system_error>
#include <utility>

namespace ipckit::detail {

struct NatsDeleter {
    void operator()(natsOptions* p) const noexcept { natsOptions_Destroy(p); }
    void operator()(natsConnection* p) const noexcept { natsConnection_Destroy(p); }
    void operator()(natsSubscription* p) const noexcept { natsSubscription_Destroy(p); }
    void operator()(natsMsg* p) const noexcept { natsMsg_Destroy(p); }
};
template <typename T>
using NatsPtr = std::unique_ptr<T, NatsDeleter>;

inline std::errc errc_of(natsStatus s) {
    switch (s) {
        case NATS_NO_SERVER:
            return std::errc::connection_refused;
        case NATS_TIMEOUT:
            return std::errc::timed_out;
        case NATS_MAX_PAYLOAD:
            return std::errc::message_size;
        case NATS_CONNECTION_CLOSED:
        case NATS_CONNECTION_DISCONNECTED:
        case NATS_STALE_CONNECTION:
            return std::errc::not_connected;
        case NATS_NO_MEMORY:
            return std::errc::not_enough_memory;
        case NATS_INVALID_SUBJECT:
        case NATS_INVALID_ARG:
            return std::errc::invalid_argument;
        default:
            return std::errc::io_error;
    }
}

/// libnats' status text, and its last error text when that says more.
inline Error nats_error(natsStatus s, const char* op, const std::string& object) {
    std::string detail = natsStatus_GetText(s);
    natsStatus last = NATS_OK;
    const char* text = nats_GetLastError(&last);
    if (text != nullptr && *text != '\0' && detail != text) {
        detail += std::string(": ") + text;
    }
    return {errc_of(s), op, object, std::move(detail)};
}

/// The server part of a nats:// URI as libnats wants it ("nats://[::1]:4222").
inline std::string nats_server_url(const NatsUri& u) {
    return "nats://" + (u.ipv6_literal ? "[" + u.host + "]" : u.host) + ":" +
           std::to_string(u.port);
}

}  // namespace ipckit::detail
