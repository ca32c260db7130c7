// SPDX-License-Identifier: MIT
// URI addresses of message queues: mq:/NAME?maxmsg=..&msgsize=..&prio=.. and
// sysvmq:KEY?type=.. (with ?create&mode=.. on both).
#include "endpoint/uri_parse.hpp"

#include <climits>
#include <utility>

namespace ipckit::detail {

namespace {
constexpr long kHardMsgMax = 65536;                  // HARD_MSGMAX (mq_overview(7))
constexpr long kHardMsgSizeMax = 16L * 1024 * 1024;  // HARD_MSGSIZEMAX
constexpr unsigned kMaxMqPriority = 32767;           // MQ_PRIO_MAX - 1 on Linux
}  // namespace

Result<Uri::Address> parse_posix_mq(std::string_view addr, Options& opts, const Failer& fail) {
    IPCKIT_TRY_ASSIGN(PosixName name, parse_posix_name(addr, fail));
    PosixMqUri u{std::move(name), {}, {}, {}, {}};
    IPCKIT_TRY(opts.read_int("maxmsg", 1, kHardMsgMax, u.max_messages, fail));
    IPCKIT_TRY(opts.read_int("msgsize", 1, kHardMsgSizeMax, u.max_message_size, fail));
    IPCKIT_TRY(opts.read_int("prio", 0, kMaxMqPriority, u.priority, fail));
    IPCKIT_TRY(opts.read_create(u.create, fail));
    return Uri::Address(std::move(u));
}

Result<Uri::Address> parse_sysv_mq(std::string_view addr, Options& opts, const Failer& fail) {
    IPCKIT_TRY_ASSIGN(SysvAddress address, parse_sysv_address(addr, fail));
    SysvMqUri u{std::move(address), {}, {}};
    IPCKIT_TRY(opts.read_int("type", LONG_MIN + 1, LONG_MAX, u.type, fail));
    IPCKIT_TRY(opts.read_create(u.create, fail));
    return Uri::Address(std::move(u));
}

}  // namespace ipckit::detail
