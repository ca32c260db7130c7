// SPDX-License-Identifier: MIT
// The C API's status names, clock and error filling (include/ipckit/ipckit.h).
#include "capi/capi_core.hpp"

#include <time.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>

namespace ipckit::capi {

ipckit_status status_of(const Error& e) noexcept {
    const std::error_code& code = e.code();
    if (code.category() != std::system_category() && code.category() != std::generic_category()) {
        return IPCKIT_ESYS;
    }
    switch (code.value()) {
        case EEXIST:
            return IPCKIT_EEXIST;
        case ENOENT:
            return IPCKIT_ENOENT;
        case EACCES:
        case EPERM:
            return IPCKIT_EACCES;
        case EMSGSIZE:
            return IPCKIT_EMSGSIZE;
        case EINPROGRESS:  // a loan is outstanding
        case ENOBUFS:      // max_loans samples held
        case EAGAIN:       // no free publisher or subscriber record
        case EBUSY:
            return IPCKIT_EBUSY;
        case EINVAL:
        case ENAMETOOLONG:
            return IPCKIT_EINVAL;
        case ENOMEM:
            return IPCKIT_ENOMEM;
        case ECONNREFUSED:
            return IPCKIT_ECONNREFUSED;
        case ECONNRESET:
            return IPCKIT_ECONNRESET;
        case ETIMEDOUT:  // a call's or a response's deadline passed
            return IPCKIT_ETIMEDOUT;
        case EADDRINUSE:  // a live server holds the service
            return IPCKIT_EBUSY;
        case EBADMSG:          // corrupt records or header
        case EIDRM:            // the channel file was removed
        case EFAULT:           // the file was truncated under the mapping (SIGBUS guard)
        case ENOTRECOVERABLE:  // a half-initialised file whose creator died
        case EPROTONOSUPPORT:  // another layout version
        case EPROTOTYPE:       // not a channel file
            return IPCKIT_ECORRUPT;
        default:
            return IPCKIT_ESYS;
    }
}

ipckit_status fail(ipckit_error* err,
                   ipckit_status status,
                   int errno_value,
                   std::string_view message) noexcept {
    if (err != nullptr) {
        err->code = status;
        err->errno_value = errno_value;
        const std::size_t n = std::min(message.size(), sizeof(err->message) - 1);
        std::memcpy(static_cast<char*>(err->message), message.data(), n);
        // NOLINTNEXTLINE(cppcoreguidelines-pro-bounds-constant-array-index): n < sizeof(message)
        err->message[n] = '\0';
    }
    return status;
}

ipckit_status fail(ipckit_error* err, const Error& e) noexcept {
    const ipckit_status status = status_of(e);
    if (err == nullptr) {
        return status;
    }
    try {
        return fail(err, status, e.errno_value(), e.message());
    } catch (...) {  // the message could not be rendered (bad_alloc): keep the code and the call
        return fail(err, status, e.errno_value(), e.op());
    }
}

ipckit_status bad_argument(ipckit_error* err, const char* fn, const char* what) noexcept {
    // "<fn>: invalid argument (<what>)" without allocating; fail() truncates to the buffer.
    std::array<char, IPCKIT_ERROR_MESSAGE_SIZE> text{};
    std::size_t used = 0;
    for (const std::string_view part : {std::string_view(fn),
                                        std::string_view(": invalid argument ("),
                                        std::string_view(what),
                                        std::string_view(")")}) {
        const std::size_t n = std::min(part.size(), text.size() - used);
        // NOLINTNEXTLINE(cppcoreguidelines-pro-bounds-pointer-arithmetic): used <= text.size()
        std::memcpy(text.data() + used, part.data(), n);
        used += n;
    }
    return fail(err, IPCKIT_EINVAL, EINVAL, std::string_view(text.data(), used));
}

}  // namespace ipckit::capi

extern "C" {

const char* ipckit_status_name(ipckit_status status) {
    static constexpr std::array<const char*, 16> kNames = {"IPCKIT_OK",
                                                           "IPCKIT_EAGAIN",
                                                           "IPCKIT_ETIMEDOUT",
                                                           "IPCKIT_EBADHANDLE",
                                                           "IPCKIT_EINVAL",
                                                           "IPCKIT_EEXIST",
                                                           "IPCKIT_ENOENT",
                                                           "IPCKIT_EACCES",
                                                           "IPCKIT_EMSGSIZE",
                                                           "IPCKIT_EBUSY",
                                                           "IPCKIT_ENOMEM",
                                                           "IPCKIT_ECORRUPT",
                                                           "IPCKIT_ESYS",
                                                           "IPCKIT_ECONNREFUSED",
                                                           "IPCKIT_ECONNRESET",
                                                           "IPCKIT_EREMOTE"};
    if (status > 0 ||
        -static_cast<std::int64_t>(status) >= static_cast<std::int64_t>(kNames.size())) {
        return "IPCKIT_E?";
    }
    return kNames.at(static_cast<std::size_t>(-status));
}

int64_t ipckit_now(void) {
    struct timespec ts {};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

int64_t ipckit_deadline_after(int64_t ns) {
    const int64_t now = ipckit_now();
    if (ns <= 0) {
        return now;
    }
    return ns >= IPCKIT_NEVER - now ? IPCKIT_NEVER : now + ns;
}

}  // extern "C"
