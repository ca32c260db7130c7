// SPDX-License-Identifier: MIT
// The C API of POSIX shared memory (include/ipckit/ipckit.h) over ipckit::PosixShm: one mapping
// per handle, made when the handle is, unmapped when it is closed.
#include "capi/capi_core.hpp"
#include "capi/handle_table.hpp"
#include "ipckit/core/posix_name.hpp"
#include "ipckit/ipckit.h"
#include "ipckit/shm/posix_shm.hpp"

#include <cerrno>
#include <cstddef>
#include <memory>
#include <optional>
#include <utility>

namespace ipckit::capi {
namespace {

struct ShmObject final : Object {
    static constexpr Kind kKind = Kind::Shm;
    ShmObject(PosixShm s, Region r) noexcept : shm(std::move(s)), writable(std::move(r)) {}
    ShmObject(PosixShm s, ReadOnlyRegion r) noexcept : shm(std::move(s)), read_only(std::move(r)) {}
    PosixShm shm;
    std::optional<Region> writable;
    std::optional<ReadOnlyRegion> read_only;
};

}  // namespace
}  // namespace ipckit::capi

using ipckit::capi::bad_argument;
using ipckit::capi::bad_handle;
using ipckit::capi::fail;
using ipckit::capi::guard;
using ipckit::capi::handles;
using ipckit::capi::ShmObject;
using ipckit::capi::with_object;

extern "C" {

ipckit_status ipckit_shm_create(
    const char* name, size_t size, uint32_t permissions, ipckit_shm* out, ipckit_error* err) {
    return guard(err, "ipckit_shm_create", [&]() -> ipckit_status {
        if (name == nullptr || out == nullptr) {
            return bad_argument(err, "ipckit_shm_create", name == nullptr ? "name" : "out");
        }
        IPCKIT_C_TRY_ASSIGN(err, auto posix_name, ipckit::PosixName::make(name));
        const ipckit::Permissions mode =
            permissions == 0 ? ipckit::Permissions{}
                             : ipckit::Permissions(static_cast<mode_t>(permissions));
        IPCKIT_C_TRY_ASSIGN(err, auto shm, ipckit::PosixShm::create(posix_name, size, mode));
        IPCKIT_C_TRY_ASSIGN(err, auto region, shm.map());
        shm.keep_name();  // C names persist until ipckit_shm_unlink, as queues do
        return ipckit::capi::insert_handle(
            std::make_unique<ShmObject>(std::move(shm), std::move(region)),
            &out->handle,
            err,
            "ipckit_shm_create");
    });
}

ipckit_status ipckit_shm_open(const char* name, int writable, ipckit_shm* out, ipckit_error* err) {
    return guard(err, "ipckit_shm_open", [&]() -> ipckit_status {
        if (name == nullptr || out == nullptr) {
            return bad_argument(err, "ipckit_shm_open", name == nullptr ? "name" : "out");
        }
        IPCKIT_C_TRY_ASSIGN(err, auto posix_name, ipckit::PosixName::make(name));
        IPCKIT_C_TRY_ASSIGN(
            err,
            auto shm,
            ipckit::PosixShm::open(
                posix_name, writable != 0 ? ipckit::Access::ReadWrite : ipckit::Access::ReadOnly));
        std::unique_ptr<ShmObject> obj;
        if (writable != 0) {
            IPCKIT_C_TRY_ASSIGN(err, auto region, shm.map());
            obj = std::make_unique<ShmObject>(std::move(shm), std::move(region));
        } else {
            IPCKIT_C_TRY_ASSIGN(err, auto region, shm.map_read_only());
            obj = std::make_unique<ShmObject>(std::move(shm), std::move(region));
        }
        return ipckit::capi::insert_handle(std::move(obj), &out->handle, err, "ipckit_shm_open");
    });
}

ipckit_status ipckit_shm_data(ipckit_shm shm,
                              const void** data,
                              size_t* size,
                              ipckit_error* err) {
    return with_object<ShmObject>(
        err, "ipckit_shm_data", shm.handle, [&](ShmObject* s) -> ipckit_status {
            if (data == nullptr) {
                return bad_argument(err, "ipckit_shm_data", "data");
            }
            *data = s->writable ? static_cast<const void*>(s->writable->data())
                                : static_cast<const void*>(s->read_only->data());
            if (size != nullptr) {
                *size = s->writable ? s->writable->size() : s->read_only->size();
            }
            return IPCKIT_OK;
        });
}

ipckit_status ipckit_shm_data_mut(ipckit_shm shm, void** data, size_t* size, ipckit_error* err) {
    return with_object<ShmObject>(
        err, "ipckit_shm_data_mut", shm.handle, [&](ShmObject* s) -> ipckit_status {
            if (data == nullptr) {
                return bad_argument(err, "ipckit_shm_data_mut", "data");
            }
            if (!s->writable) {
                return fail(err, IPCKIT_EACCES, EACCES, "ipckit_shm_data_mut: opened read-only");
            }
            *data = s->writable->data();
            if (size != nullptr) {
                *size = s->writable->size();
            }
            return IPCKIT_OK;
        });
}

ipckit_status ipckit_shm_close(ipckit_shm shm, ipckit_error* err) {
    auto obj = handles().remove(shm.handle, ShmObject::kKind);
    return obj ? IPCKIT_OK : bad_handle(err, "ipckit_shm_close");
}

ipckit_status ipckit_shm_unlink(const char* name, ipckit_error* err) {
    return guard(err, "ipckit_shm_unlink", [&]() -> ipckit_status {
        if (name == nullptr) {
            return bad_argument(err, "ipckit_shm_unlink", "name");
        }
        IPCKIT_C_TRY_ASSIGN(err, auto posix_name, ipckit::PosixName::make(name));
        if (auto r = ipckit::PosixShm::unlink(posix_name); !r) {
            return fail(err, r.error());
        }
        return IPCKIT_OK;
    });
}

}  // extern "C"
