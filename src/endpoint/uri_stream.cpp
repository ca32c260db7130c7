// SPDX-License-Identifier: MIT
// URI addresses of byte streams: fifo:PATH?create&mode=..&raw.
#include "endpoint/uri_parse.hpp"

#include <utility>

namespace ipckit::detail {

namespace {
constexpr std::size_t kMaxPathLength = 4095;
}  // namespace

Result<Uri::Address> parse_fifo(std::string_view addr, Options& opts, const Failer& fail) {
    FifoUri u;
    IPCKIT_TRY_ASSIGN(std::string path, decode(addr, "path", fail));
    if (path.size() > kMaxPathLength) {
        return fail("path is longer than 4095 bytes", std::errc::filename_too_long);
    }
    u.path = std::move(path);
    IPCKIT_TRY(opts.read_create(u.create, fail));
    IPCKIT_TRY(opts.read_bool("raw", u.raw, fail));
    return Uri::Address(std::move(u));
}

}  // namespace ipckit::detail
