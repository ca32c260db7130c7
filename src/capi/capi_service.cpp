// SPDX-License-Identifier: MIT
// The C API of request/reply (include/ipckit/ipckit.h): Server/Request and Client behind
// handles of the process-wide table (handle_table.hpp). Requests are plain structs with a token,
// checked like samples (capi_channel.cpp).
#include "capi/capi_core.hpp"
#include "capi/handle_table.hpp"
#include "ipckit/ipckit.h"
#include "ipckit/service/client.hpp"
#include "ipckit/service/server.hpp"
#include "ipckit/service/service.hpp"
#include "ipckit/service/service_config.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ipckit::capi {
namespace {

/// One held request; `generation` is odd while held, so a finished token never matches again.
struct RequestSlot {
    std::optional<Request> request;
    std::uint32_t generation = 0;
};

struct ServerObject final : Object {
    static constexpr Kind kKind = Kind::Server;
    explicit ServerObject(Server s) noexcept : server(std::move(s)) {}
    Server server;
    // At most the request channel's max_loans + 1; after `server`, so destroyed (released) first.
    std::vector<RequestSlot> slots;
};

struct ClientObject final : Object {
    static constexpr Kind kKind = Kind::Client;
    explicit ClientObject(Client c) noexcept : client(std::move(c)) {}
    Client client;
};

/// The held slot `request` names (token and payload pointer both match), else nullptr.
RequestSlot* held(ServerObject& s, const ipckit_request& request) noexcept {
    const auto index = static_cast<std::uint32_t>(request.token);
    const auto generation = static_cast<std::uint32_t>(request.token >> 32U);
    if ((generation & 1U) == 0 || index >= s.slots.size()) {
        return nullptr;
    }
    RequestSlot& slot = s.slots[index];
    if (slot.generation != generation || !slot.request ||
        slot.request->payload().data() != request.data) {
        return nullptr;
    }
    return &slot;
}

/// After a response: a finished request's slot is freed and the caller's struct cleared.
void finish_if_done(RequestSlot& slot, ipckit_request* request) noexcept {
    if (slot.request->finished()) {
        slot.request.reset();  // releases the payload
        ++slot.generation;     // even: free
        *request = ipckit_request{};
    }
}

ServiceConfig config_of(const ipckit_service_config* c) {
    ServiceConfig config;
    if (c != nullptr) {
        config.max_request_size = static_cast<std::size_t>(c->max_request_size);
        config.max_response_size = static_cast<std::size_t>(c->max_response_size);
        config.max_clients = c->max_clients;
        config.response_wait = std::chrono::milliseconds(c->response_wait_ms);
    }
    return config;
}

std::int64_t deadline_ns(Deadline d) noexcept {
    if (d.is_never()) {
        return IPCKIT_NEVER;
    }
    return std::chrono::duration_cast<std::chrono::nanoseconds>(d.time_point().time_since_epoch())
        .count();
}

/// The end of a call: copies the response into buf (buf is NULL only when capacity is 0).
ipckit_status copy_response(
    const Response& r, void* buf, std::size_t capacity, std::size_t* len, ipckit_error* err) {
    const auto bytes = r.bytes();
    if (len != nullptr) {
        *len = bytes.size();
    }
    if (r.is_error()) {
        const std::size_t copied = std::min(bytes.size(), capacity);
        if (buf != nullptr && copied != 0) {
            std::memcpy(buf, bytes.data(), copied);
        }
        return fail(err,
                    IPCKIT_EREMOTE,
                    0,
                    "srv call: the server answered with an error: " + std::string(r.text()));
    }
    if (bytes.size() > capacity) {
        return fail(err,
                    IPCKIT_EMSGSIZE,
                    EMSGSIZE,
                    "srv call: response of " + std::to_string(bytes.size()) +
                        " bytes > buffer capacity " + std::to_string(capacity));
    }
    if (buf != nullptr && !bytes.empty()) {
        std::memcpy(buf, bytes.data(), bytes.size());
    }
    return IPCKIT_OK;
}

}  // namespace
}  // namespace ipckit::capi

using ipckit::capi::bad_argument;
using ipckit::capi::bad_handle;
using ipckit::capi::ClientObject;
using ipckit::capi::fail;
using ipckit::capi::guard;
using ipckit::capi::handles;
using ipckit::capi::ServerObject;
using ipckit::capi::with_object;

extern "C" {

ipckit_status ipckit_service_config_init(ipckit_service_config* config) {
    if (config == nullptr) {
        return IPCKIT_EINVAL;
    }
    const ipckit::ServiceConfig d;
    *config = ipckit_service_config{};
    config->max_request_size = d.max_request_size;
    config->max_response_size = d.max_response_size;
    config->max_clients = d.max_clients;
    config->response_wait_ms = static_cast<uint32_t>(d.response_wait.count());
    return IPCKIT_OK;
}

ipckit_status ipckit_server_create(const char* name,
                                   const ipckit_service_config* config,
                                   ipckit_server* out,
                                   ipckit_error* err) {
    return guard(err, "ipckit_server_create", [&]() -> ipckit_status {
        if (name == nullptr || out == nullptr) {
            return bad_argument(err, "ipckit_server_create", name == nullptr ? "name" : "out");
        }
        if (config != nullptr &&
            (config->max_request_size > SIZE_MAX || config->max_response_size > SIZE_MAX)) {
            return bad_argument(err, "ipckit_server_create", "config");
        }
        auto s = ipckit::Server::create(name, ipckit::capi::config_of(config));
        if (!s) {
            return fail(err, s.error());
        }
        auto obj = std::make_unique<ServerObject>(std::move(*s));
        obj->slots.reserve(8);  // the request channel's max_loans: no allocation per request
        return ipckit::capi::insert_handle(
            std::move(obj), &out->handle, err, "ipckit_server_create");
    });
}

ipckit_status ipckit_server_close(ipckit_server server, ipckit_error* err) {
    auto obj = handles().remove(server.handle, ServerObject::kKind);
    return obj ? IPCKIT_OK : bad_handle(err, "ipckit_server_close");
}

ipckit_status ipckit_server_receive(ipckit_server server,
                                    int64_t deadline,
                                    ipckit_request* request,
                                    ipckit_error* err) {
    return with_object<ServerObject>(
        err, "ipckit_server_receive", server.handle, [&](ServerObject* s) -> ipckit_status {
            if (request == nullptr) {
                return bad_argument(err, "ipckit_server_receive", "request");
            }
            // A slot first, so a received request is never lost to a failed allocation.
            std::size_t index = 0;
            while (index < s->slots.size() && s->slots[index].request) {
                ++index;
            }
            if (index == s->slots.size()) {
                s->slots.emplace_back();
            }
            auto r = s->server.receive(ipckit::capi::to_deadline(deadline));
            if (!r) {
                return fail(err, r.error());
            }
            if (!*r) {
                return deadline == 0 ? IPCKIT_EAGAIN : IPCKIT_ETIMEDOUT;
            }
            ipckit::capi::RequestSlot& slot = s->slots[index];
            slot.request.emplace(std::move(**r));
            ++slot.generation;  // odd: held
            const auto payload = slot.request->payload();
            *request = ipckit_request{payload.data(),
                                      payload.size(),
                                      slot.request->id(),
                                      slot.request->client(),
                                      ipckit::capi::deadline_ns(slot.request->deadline()),
                                      (std::uint64_t{slot.generation} << 32U) | index};
            return IPCKIT_OK;
        });
}

ipckit_status ipckit_server_respond(ipckit_server server,
                                    ipckit_request* request,
                                    const void* data,
                                    size_t n,
                                    int final,
                                    ipckit_error* err) {
    return with_object<ServerObject>(
        err, "ipckit_server_respond", server.handle, [&](ServerObject* s) -> ipckit_status {
            if (request == nullptr || (data == nullptr && n != 0)) {
                return bad_argument(
                    err, "ipckit_server_respond", request == nullptr ? "request" : "data");
            }
            ipckit::capi::RequestSlot* slot = ipckit::capi::held(*s, *request);
            if (slot == nullptr) {
                return bad_handle(err, "ipckit_server_respond: not a held request");
            }
            auto r = s->server.respond(
                *slot->request, std::span(static_cast<const std::byte*>(data), n), final != 0);
            ipckit::capi::finish_if_done(*slot, request);
            return r ? IPCKIT_OK : fail(err, r.error());
        });
}

ipckit_status ipckit_server_respond_error(ipckit_server server,
                                          ipckit_request* request,
                                          const char* text,
                                          ipckit_error* err) {
    return with_object<ServerObject>(
        err, "ipckit_server_respond_error", server.handle, [&](ServerObject* s) -> ipckit_status {
            if (request == nullptr || text == nullptr) {
                return bad_argument(
                    err, "ipckit_server_respond_error", request == nullptr ? "request" : "text");
            }
            ipckit::capi::RequestSlot* slot = ipckit::capi::held(*s, *request);
            if (slot == nullptr) {
                return bad_handle(err, "ipckit_server_respond_error: not a held request");
            }
            auto r = s->server.respond_error(*slot->request, text);
            ipckit::capi::finish_if_done(*slot, request);
            return r ? IPCKIT_OK : fail(err, r.error());
        });
}

ipckit_status ipckit_client_connect(const char* name, ipckit_client* out, ipckit_error* err) {
    return guard(err, "ipckit_client_connect", [&]() -> ipckit_status {
        if (name == nullptr || out == nullptr) {
            return bad_argument(err, "ipckit_client_connect", name == nullptr ? "name" : "out");
        }
        auto c = ipckit::Client::connect(name);
        if (!c) {
            return fail(err, c.error());
        }
        return ipckit::capi::insert_handle(std::make_unique<ClientObject>(std::move(*c)),
                                           &out->handle,
                                           err,
                                           "ipckit_client_connect");
    });
}

ipckit_status ipckit_client_close(ipckit_client client, ipckit_error* err) {
    auto obj = handles().remove(client.handle, ClientObject::kKind);
    return obj ? IPCKIT_OK : bad_handle(err, "ipckit_client_close");
}

ipckit_status ipckit_client_call(ipckit_client client,
                                 const void* data,
                                 size_t n,
                                 int64_t deadline,
                                 void* buf,
                                 size_t capacity,
                                 size_t* len,
                                 ipckit_error* err) {
    return with_object<ClientObject>(
        err, "ipckit_client_call", client.handle, [&](ClientObject* c) -> ipckit_status {
            if ((data == nullptr && n != 0) || (buf == nullptr && capacity != 0)) {
                return bad_argument(
                    err, "ipckit_client_call", data == nullptr && n != 0 ? "data" : "buf");
            }
            // Checked here: a deadline at or before the epoch would travel as 0, "no deadline".
            if (deadline != IPCKIT_NEVER && deadline <= ipckit_now()) {
                return IPCKIT_ETIMEDOUT;
            }
            auto r = c->client.call(std::span(static_cast<const std::byte*>(data), n),
                                    ipckit::capi::to_deadline(deadline));
            if (!r) {
                return fail(err, r.error());
            }
            if (!r->final()) {
                c->client.cancel(r->id());  // the rest of a stream is dropped
            }
            return ipckit::capi::copy_response(*r, buf, capacity, len, err);
        });
}

ipckit_status ipckit_service_remove(const char* name, ipckit_error* err) {
    return guard(err, "ipckit_service_remove", [&]() -> ipckit_status {
        if (name == nullptr) {
            return bad_argument(err, "ipckit_service_remove", "name");
        }
        if (auto r = ipckit::Service::remove(name); !r) {
            return fail(err, r.error());
        }
        return IPCKIT_OK;
    });
}

}  // extern "C"
