// SPDX-License-Identifier: MIT
// The C API of POSIX named semaphores (include/ipckit/ipckit.h) over ipckit::NamedSemaphore.
#include "capi/capi_core.hpp"
#include "capi/handle_table.hpp"
#include "ipckit/core/posix_name.hpp"
#include "ipckit/ipckit.h"
#include "ipckit/sync/named_semaphore.hpp"

#include <memory>
#include <utility>

namespace ipckit::capi {
namespace {

struct SemaphoreObject final : Object {
    static constexpr Kind kKind = Kind::Semaphore;
    explicit SemaphoreObject(NamedSemaphore s) noexcept : sem(std::move(s)) {}
    NamedSemaphore sem;
};

}  // namespace
}  // namespace ipckit::capi

using ipckit::capi::bad_argument;
using ipckit::capi::bad_handle;
using ipckit::capi::fail;
using ipckit::capi::guard;
using ipckit::capi::handles;
using ipckit::capi::SemaphoreObject;
using ipckit::capi::with_object;

extern "C" {

ipckit_status ipckit_semaphore_create(const char* name,
                                      unsigned initial,
                                      uint32_t permissions,
                                      ipckit_semaphore* out,
                                      ipckit_error* err) {
    return guard(err, "ipckit_semaphore_create", [&]() -> ipckit_status {
        if (name == nullptr || out == nullptr) {
            return bad_argument(err, "ipckit_semaphore_create", name == nullptr ? "name" : "out");
        }
        IPCKIT_C_TRY_ASSIGN(err, auto posix_name, ipckit::PosixName::make(name));
        const ipckit::Permissions mode =
            permissions == 0 ? ipckit::Permissions{}
                             : ipckit::Permissions(static_cast<mode_t>(permissions));
        IPCKIT_C_TRY_ASSIGN(
            err, auto sem, ipckit::NamedSemaphore::create(posix_name, initial, mode));
        return ipckit::capi::insert_handle(std::make_unique<SemaphoreObject>(std::move(sem)),
                                           &out->handle,
                                           err,
                                           "ipckit_semaphore_create");
    });
}

ipckit_status ipckit_semaphore_open(const char* name, ipckit_semaphore* out, ipckit_error* err) {
    return guard(err, "ipckit_semaphore_open", [&]() -> ipckit_status {
        if (name == nullptr || out == nullptr) {
            return bad_argument(err, "ipckit_semaphore_open", name == nullptr ? "name" : "out");
        }
        IPCKIT_C_TRY_ASSIGN(err, auto posix_name, ipckit::PosixName::make(name));
        IPCKIT_C_TRY_ASSIGN(err, auto sem, ipckit::NamedSemaphore::open(posix_name));
        return ipckit::capi::insert_handle(std::make_unique<SemaphoreObject>(std::move(sem)),
                                           &out->handle,
                                           err,
                                           "ipckit_semaphore_open");
    });
}

ipckit_status ipckit_semaphore_close(ipckit_semaphore sem, ipckit_error* err) {
    auto obj = handles().remove(sem.handle, SemaphoreObject::kKind);
    return obj ? IPCKIT_OK : bad_handle(err, "ipckit_semaphore_close");
}

ipckit_status ipckit_semaphore_unlink(const char* name, ipckit_error* err) {
    return guard(err, "ipckit_semaphore_unlink", [&]() -> ipckit_status {
        if (name == nullptr) {
            return bad_argument(err, "ipckit_semaphore_unlink", "name");
        }
        IPCKIT_C_TRY_ASSIGN(err, auto posix_name, ipckit::PosixName::make(name));
        if (auto r = ipckit::NamedSemaphore::unlink(posix_name); !r) {
            return fail(err, r.error());
        }
        return IPCKIT_OK;
    });
}

ipckit_status ipckit_semaphore_post(ipckit_semaphore sem, ipckit_error* err) {
    return with_object<SemaphoreObject>(
        err, "ipckit_semaphore_post", sem.handle, [&](SemaphoreObject* s) -> ipckit_status {
            auto r = s->sem.post();
            return r ? IPCKIT_OK : fail(err, r.error());
        });
}

ipckit_status ipckit_semaphore_wait(ipckit_semaphore sem, int64_t deadline, ipckit_error* err) {
    return with_object<SemaphoreObject>(
        err, "ipckit_semaphore_wait", sem.handle, [&](SemaphoreObject* s) -> ipckit_status {
            IPCKIT_C_TRY_ASSIGN(err,
                                const bool got,
                                deadline == 0
                                    ? s->sem.try_wait()
                                    : s->sem.wait_until(ipckit::capi::to_deadline(deadline)));
            if (!got) {
                return deadline == 0 ? IPCKIT_EAGAIN : IPCKIT_ETIMEDOUT;
            }
            return IPCKIT_OK;
        });
}

ipckit_status ipckit_semaphore_value(ipckit_semaphore sem, int* out, ipckit_error* err) {
    return with_object<SemaphoreObject>(
        err, "ipckit_semaphore_value", sem.handle, [&](SemaphoreObject* s) -> ipckit_status {
            if (out == nullptr) {
                return bad_argument(err, "ipckit_semaphore_value", "out");
            }
            IPCKIT_C_TRY_ASSIGN(err, *out, s->sem.value());
            return IPCKIT_OK;
        });
}

}  // extern "C"
