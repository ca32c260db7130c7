// SPDX-License-Identifier: MIT
// URI addresses of shared memory: shm:/NAME?size=.. and sysvshm:KEY?size=.. (with
// ?create&mode=.. on both).
#include "endpoint/uri_parse.hpp"

#include <utility>

namespace ipckit::detail {

Result<Uri::Address> parse_posix_shm(std::string_view addr, Options& opts, const Failer& fail) {
    IPCKIT_TRY_ASSIGN(PosixName name, parse_posix_name(addr, fail));
    PosixShmUri u{std::move(name), {}, {}};
    IPCKIT_TRY(opts.read_size("size", u.size, fail));
    IPCKIT_TRY(opts.read_create(u.create, fail));
    return Uri::Address(std::move(u));
}

Result<Uri::Address> parse_sysv_shm(std::string_view addr, Options& opts, const Failer& fail) {
    IPCKIT_TRY_ASSIGN(SysvAddress address, parse_sysv_address(addr, fail));
    SysvShmUri u{std::move(address), {}, {}};
    IPCKIT_TRY(opts.read_size("size", u.size, fail));
    if (u.size && *u.size == 0) {
        return fail("option size must be >= 1");
    }
    IPCKIT_TRY(opts.read_create(u.create, fail));
    return Uri::Address(std::move(u));
}

}  // namespace ipckit::detail
