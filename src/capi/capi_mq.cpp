// SPDX-License-Identifier: MIT
// The C API of POSIX message queues (include/ipckit/ipckit.h) over ipckit::PosixMq.
#include "capi/capi_core.hpp"
#include "capi/handle_table.hpp"
#include "ipckit/core/posix_name.hpp"
#include "ipckit/ipckit.h"
#include "ipckit/message/posix_mq.hpp"

#include <cstddef>
#include <memory>
#include <span>
#include <utility>

namespace ipckit::capi {
namespace {

struct MqObject final : Object {
    static constexpr Kind kKind = Kind::Mq;
    explicit MqObject(PosixMq q) noexcept : mq(std::move(q)) {}
    PosixMq mq;
};

}  // namespace
}  // namespace ipckit::capi

using ipckit::capi::bad_argument;
using ipckit::capi::bad_handle;
using ipckit::capi::fail;
using ipckit::capi::guard;
using ipckit::capi::handles;
using ipckit::capi::MqObject;
using ipckit::capi::with_object;

extern "C" {

ipckit_status ipckit_mq_create(const char* name,
                               long max_messages,
                               long max_message_size,
                               uint32_t permissions,
                               ipckit_mq* out,
                               ipckit_error* err) {
    return guard(err, "ipckit_mq_create", [&]() -> ipckit_status {
        if (name == nullptr || out == nullptr || max_messages < 0 || max_message_size < 0) {
            return bad_argument(err,
                                "ipckit_mq_create",
                                name == nullptr  ? "name"
                                : out == nullptr ? "out"
                                                 : "negative limit");
        }
        IPCKIT_C_TRY_ASSIGN(err, auto posix_name, ipckit::PosixName::make(name));
        ipckit::PosixMqLimits limits;
        if (max_messages != 0) {
            limits.max_messages = max_messages;
        }
        if (max_message_size != 0) {
            limits.max_message_size = max_message_size;
        }
        const ipckit::Permissions mode =
            permissions == 0 ? ipckit::Permissions{}
                             : ipckit::Permissions(static_cast<mode_t>(permissions));
        IPCKIT_C_TRY_ASSIGN(err, auto q, ipckit::PosixMq::create(posix_name, limits, mode));
        return ipckit::capi::insert_handle(
            std::make_unique<MqObject>(std::move(q)), &out->handle, err, "ipckit_mq_create");
    });
}

ipckit_status ipckit_mq_open(const char* name, ipckit_mq* out, ipckit_error* err) {
    return guard(err, "ipckit_mq_open", [&]() -> ipckit_status {
        if (name == nullptr || out == nullptr) {
            return bad_argument(err, "ipckit_mq_open", name == nullptr ? "name" : "out");
        }
        IPCKIT_C_TRY_ASSIGN(err, auto posix_name, ipckit::PosixName::make(name));
        IPCKIT_C_TRY_ASSIGN(err, auto q, ipckit::PosixMq::open(posix_name));
        return ipckit::capi::insert_handle(
            std::make_unique<MqObject>(std::move(q)), &out->handle, err, "ipckit_mq_open");
    });
}

ipckit_status ipckit_mq_close(ipckit_mq mq, ipckit_error* err) {
    auto obj = handles().remove(mq.handle, MqObject::kKind);
    return obj ? IPCKIT_OK : bad_handle(err, "ipckit_mq_close");
}

ipckit_status ipckit_mq_unlink(const char* name, ipckit_error* err) {
    return guard(err, "ipckit_mq_unlink", [&]() -> ipckit_status {
        if (name == nullptr) {
            return bad_argument(err, "ipckit_mq_unlink", "name");
        }
        IPCKIT_C_TRY_ASSIGN(err, auto posix_name, ipckit::PosixName::make(name));
        if (auto r = ipckit::PosixMq::unlink(posix_name); !r) {
            return fail(err, r.error());
        }
        return IPCKIT_OK;
    });
}

ipckit_status ipckit_mq_send(ipckit_mq mq,
                             const void* data,
                             size_t n,
                             unsigned priority,
                             int64_t deadline,
                             ipckit_error* err) {
    return with_object<MqObject>(
        err, "ipckit_mq_send", mq.handle, [&](MqObject* q) -> ipckit_status {
            if (data == nullptr && n != 0) {
                return bad_argument(err, "ipckit_mq_send", "data");
            }
            const std::span<const std::byte> bytes(static_cast<const std::byte*>(data), n);
            IPCKIT_C_TRY_ASSIGN(
                err,
                const bool sent,
                deadline == 0
                    ? q->mq.try_send(bytes, priority)
                    : q->mq.send_until(bytes, priority, ipckit::capi::to_deadline(deadline)));
            if (!sent) {
                return deadline == 0 ? IPCKIT_EAGAIN : IPCKIT_ETIMEDOUT;
            }
            return IPCKIT_OK;
        });
}

ipckit_status ipckit_mq_receive(ipckit_mq mq,
                                void* buf,
                                size_t capacity,
                                int64_t deadline,
                                size_t* size,
                                unsigned* priority,
                                ipckit_error* err) {
    return with_object<MqObject>(
        err, "ipckit_mq_receive", mq.handle, [&](MqObject* q) -> ipckit_status {
            if (buf == nullptr && capacity != 0) {
                return bad_argument(err, "ipckit_mq_receive", "buf");
            }
            const std::span<std::byte> out(static_cast<std::byte*>(buf), capacity);
            IPCKIT_C_TRY_ASSIGN(
                err,
                auto got,
                deadline == 0 ? q->mq.try_receive(out)
                              : q->mq.receive_until(out, ipckit::capi::to_deadline(deadline)));
            if (!got) {
                return deadline == 0 ? IPCKIT_EAGAIN : IPCKIT_ETIMEDOUT;
            }
            if (size != nullptr) {
                *size = got->size;
            }
            if (priority != nullptr) {
                *priority = got->priority;
            }
            return IPCKIT_OK;
        });
}

ipckit_status ipckit_mq_max_message_size(ipckit_mq mq, size_t* out, ipckit_error* err) {
    return with_object<MqObject>(
        err, "ipckit_mq_max_message_size", mq.handle, [&](MqObject* q) -> ipckit_status {
            if (out == nullptr) {
                return bad_argument(err, "ipckit_mq_max_message_size", "out");
            }
            IPCKIT_C_TRY_ASSIGN(err, auto attrs, q->mq.attributes());
            *out = static_cast<std::size_t>(attrs.max_message_size);
            return IPCKIT_OK;
        });
}

}  // extern "C"
