// SPDX-License-Identifier: MIT
// URI addresses of semaphores: sem:/NAME?value=.. and sysvsem:KEY[#INDEX]?nsems=..&value=..
// (with ?create&mode=.. on both).
#include "endpoint/uri_parse.hpp"

#include <climits>
#include <utility>

namespace ipckit::detail {

namespace {

constexpr long kMaxSemIndex = 31999;  // SEMMSL max 32000
constexpr int kSemValueMax = 32767;   // SEMVMX

/// "KEY#INDEX": splits off and checks the semaphore index.
Result<std::pair<std::string_view, std::optional<unsigned>>> split_sem_index(std::string_view addr,
                                                                             const Failer& fail) {
    const std::size_t hash = addr.rfind('#');
    if (hash == std::string_view::npos) {
        return std::pair<std::string_view, std::optional<unsigned>>(addr, std::nullopt);
    }
    const std::string_view idx = addr.substr(hash + 1);
    if (!all_digits(idx)) {
        return fail("semaphore index '#" + shown(idx, 20) + "' is not a number in [0, " +
                    std::to_string(kMaxSemIndex) + "]");
    }
    IPCKIT_TRY_ASSIGN(const long long n,
                      parse_uri_integer(idx, 0, kMaxSemIndex, "semaphore index", fail));
    if (hash == 0) {
        return fail("missing key before '#'");
    }
    return std::pair<std::string_view, std::optional<unsigned>>(addr.substr(0, hash),
                                                                static_cast<unsigned>(n));
}

}  // namespace

Result<Uri::Address> parse_posix_sem(std::string_view addr, Options& opts, const Failer& fail) {
    IPCKIT_TRY_ASSIGN(PosixName name, parse_posix_name(addr, fail));
    PosixSemUri u{std::move(name), {}, {}};
    IPCKIT_TRY(opts.read_int("value", 0, INT_MAX, u.value, fail));  // SEM_VALUE_MAX
    IPCKIT_TRY(opts.read_create(u.create, fail));
    return Uri::Address(std::move(u));
}

Result<Uri::Address> parse_sysv_sem(std::string_view addr, Options& opts, const Failer& fail) {
    IPCKIT_TRY_ASSIGN(const auto split, split_sem_index(addr, fail));
    IPCKIT_TRY_ASSIGN(SysvAddress address, parse_sysv_address(split.first, fail));
    SysvSemUri u{std::move(address), split.second, {}, {}, {}};
    IPCKIT_TRY(opts.read_int("nsems", 1, kMaxSemIndex + 1, u.nsems, fail));
    IPCKIT_TRY(opts.read_int("value", 0, kSemValueMax, u.value, fail));
    IPCKIT_TRY(opts.read_create(u.create, fail));
    if (u.nsems && u.index && *u.index >= static_cast<unsigned>(*u.nsems)) {
        return fail("semaphore index #" + std::to_string(*u.index) +
                    " is not below nsems=" + std::to_string(*u.nsems));
    }
    return Uri::Address(std::move(u));
}

}  // namespace ipckit::detail
