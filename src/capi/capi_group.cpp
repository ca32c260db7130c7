// SPDX-License-Identifier: MIT
// The C API of work-queue groups (include/ipckit/ipckit.h) over ipckit::GroupConsumer. A receive
// copies the message out and acknowledges it before returning; one too large for the caller's
// buffer is kept (not acknowledged) and returned first by the next receive.
#include "capi/capi_core.hpp"
#include "capi/handle_table.hpp"
#include "ipckit/channel/group_consumer.hpp"
#include "ipckit/ipckit.h"

#include <cstddef>
#include <cstring>
#include <memory>
#include <optional>
#include <utility>

namespace ipckit::capi {
namespace {

struct GroupObject final : Object {
    static constexpr Kind kKind = Kind::GroupConsumer;
    explicit GroupObject(GroupConsumer c) noexcept : consumer(std::move(c)) {}
    ~GroupObject() override { kept.reset(); }  // back to the group before the consumer goes
    GroupObject(const GroupObject&) = delete;
    GroupObject& operator=(const GroupObject&) = delete;
    GroupObject(GroupObject&&) = delete;
    GroupObject& operator=(GroupObject&&) = delete;
    GroupConsumer consumer;
    std::optional<GroupSample> kept;  // refused with EMSGSIZE, returned first next time
};

/// Copies `s` out and acknowledges it, or keeps it when `capacity` is too small.
ipckit_status deliver(GroupObject& g,
                      GroupSample s,
                      void* buf,
                      std::size_t capacity,
                      std::size_t* size,
                      int* redelivered,
                      ipckit_error* err) {
    if (size != nullptr) {
        *size = s.size();
    }
    if (s.size() > capacity) {
        g.kept.emplace(std::move(s));
        return fail(err,
                    IPCKIT_EMSGSIZE,
                    EMSGSIZE,
                    "ipckit_group_consumer_receive: the message is larger than the buffer "
                    "(kept for the next receive)");
    }
    if (s.size() != 0) {
        std::memcpy(buf, s.data(), s.size());
    }
    if (redelivered != nullptr) {
        *redelivered = s.redelivered() ? 1 : 0;
    }
    s.release();  // the acknowledgement
    return IPCKIT_OK;
}

}  // namespace
}  // namespace ipckit::capi

using ipckit::capi::bad_argument;
using ipckit::capi::bad_handle;
using ipckit::capi::GroupObject;
using ipckit::capi::guard;
using ipckit::capi::handles;
using ipckit::capi::with_object;

extern "C" {

ipckit_status ipckit_group_consumer_open(const char* name,
                                         const char* group,
                                         const char* dir,
                                         ipckit_group_consumer* out,
                                         ipckit_error* err) {
    return guard(err, "ipckit_group_consumer_open", [&]() -> ipckit_status {
        if (name == nullptr || group == nullptr || out == nullptr) {
            return bad_argument(err,
                                "ipckit_group_consumer_open",
                                name == nullptr    ? "name"
                                : group == nullptr ? "group"
                                                   : "out");
        }
        ipckit::GroupOptions options;
        if (dir != nullptr) {
            options.channel.dir = dir;
        }
        IPCKIT_C_TRY_ASSIGN(err, auto consumer, ipckit::GroupConsumer::open(name, group, options));
        return ipckit::capi::insert_handle(std::make_unique<GroupObject>(std::move(consumer)),
                                           &out->handle,
                                           err,
                                           "ipckit_group_consumer_open");
    });
}

ipckit_status ipckit_group_consumer_close(ipckit_group_consumer consumer, ipckit_error* err) {
    auto obj = handles().remove(consumer.handle, GroupObject::kKind);
    return obj ? IPCKIT_OK : bad_handle(err, "ipckit_group_consumer_close");
}

ipckit_status ipckit_group_consumer_receive(ipckit_group_consumer consumer,
                                            void* buf,
                                            size_t capacity,
                                            int64_t deadline,
                                            size_t* size,
                                            int* redelivered,
                                            ipckit_error* err) {
    return with_object<GroupObject>(
        err, "ipckit_group_consumer_receive", consumer.handle, [&](GroupObject* g) -> ipckit_status {
            if (buf == nullptr && capacity != 0) {
                return bad_argument(err, "ipckit_group_consumer_receive", "buf");
            }
            if (g->kept) {
                ipckit::GroupSample s = std::move(*g->kept);
                g->kept.reset();
                return ipckit::capi::deliver(*g, std::move(s), buf, capacity, size, redelivered, err);
            }
            IPCKIT_C_TRY_ASSIGN(err,
                                auto got,
                                deadline == 0 ? g->consumer.try_receive()
                                              : g->consumer.receive_until(
                                                    ipckit::capi::to_deadline(deadline)));
            if (!got) {
                return deadline == 0 ? IPCKIT_EAGAIN : IPCKIT_ETIMEDOUT;
            }
            return ipckit::capi::deliver(*g, std::move(*got), buf, capacity, size, redelivered, err);
        });
}

}  // extern "C"
