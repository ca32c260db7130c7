// SPDX-License-Identifier: MIT
// Fuzz target: every parser of numbers, durations, sizes, modes, names and kinds that is
// reachable as a function, all over the same text:
//  - ipckit::parse_integer, parse_size and parse_duration (ipckit/core/units.hpp), the one
//    grammar of each under the URI options, the command line and --sizes
//  - ipckit::cli::parse_duration and timeout_deadline (tools/ipckit/duration.hpp, endpoint_cli.hpp)
//  - ipckit::cli::parse_integer and parse_mode (tools/ipckit/endpoint_cli.hpp)
//  - ipckit::cli::parse_kinds, the `ls`/`rm` --type words (tools/ipckit/object_view.cpp)
//  - ipckit::bench::parse_sizes, `ipckit bench --sizes` (bench/engine/config.cpp)
//  - the URI parser's size, integer and mode parsers (internal to src/endpoint/uri.cpp), through
//    Uri::parse of option values: shm:/x?size=, chan:x?capacity=, mq:/x?maxmsg=, ?mode=
//  - SysvKey::parse (not its ftok: form, which runs ftok(3) on the path) and PosixName::make.
// Not reachable as functions (internal linkage): `ipckit lock`'s option splitter
// (tools/ipckit/lock.cpp parse_lock_options) and CLI11's own option parsing.
#include "duration.hpp"
#include "endpoint_cli.hpp"
#include "engine/engine.hpp"
#include "engine/protocol.hpp"
#include "fuzz_target.hpp"
#include "ipckit/core/posix_name.hpp"
#include "ipckit/core/sysv_key.hpp"
#include "ipckit/core/units.hpp"
#include "ipckit/endpoint/uri.hpp"
#include "object_view.hpp"

#include <cctype>
#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

std::vector<std::string> split(std::string_view text, char sep) {
    std::vector<std::string> out;
    std::size_t pos = 0;
    for (;;) {
        const std::size_t at = text.find(sep, pos);
        out.emplace_back(
            text.substr(pos, at == std::string_view::npos ? std::string_view::npos : at - pos));
        if (at == std::string_view::npos) {
            return out;
        }
        pos = at + 1;
    }
}

/// What `--sizes` documents for one item ("64", "4K", "1M", units B/K/KB/KiB/M/MB/MiB in any
/// case): the exact byte count (kHuge if it does not fit 64 bits), or nullopt if the item is not
/// such a size. Leading blanks and a '+' are tolerated, as std::stoull does.
constexpr std::uint64_t kHuge = UINT64_MAX;
std::optional<std::uint64_t> documented_size(std::string_view item) {
    std::size_t i = 0;
    while (i < item.size() && std::isspace(static_cast<unsigned char>(item[i])) != 0) {
        ++i;
    }
    if (i < item.size() && item[i] == '+') {
        ++i;
    }
    const std::size_t first_digit = i;
    std::uint64_t n = 0;
    for (; i < item.size() && item[i] >= '0' && item[i] <= '9'; ++i) {
        const auto digit = static_cast<std::uint64_t>(item[i] - '0');
        n = n > (kHuge - digit) / 10 ? kHuge : n * 10 + digit;
    }
    if (i == first_digit) {
        return std::nullopt;
    }
    std::string unit(item.substr(i));
    for (char& c : unit) {
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    unsigned shift = 0;
    if (unit == "K" || unit == "KB" || unit == "KIB") {
        shift = 10;
    } else if (unit == "M" || unit == "MB" || unit == "MIB") {
        shift = 20;
    } else if (!unit.empty() && unit != "B") {
        return std::nullopt;
    }
    return n > (kHuge >> shift) ? kHuge : n << shift;
}

void durations(const std::string& text) {
    auto d = ipckit::cli::parse_duration(text);
    // The command's parser is the core one with its own wording.
    const auto core = ipckit::parse_duration(text);
    FUZZ_CHECK(d.has_value() == core.has_value() && (!d || *d == *core));
    if (d) {
        FUZZ_CHECK(d->count() >= 0);
        // A whole number of nanoseconds is exact (well inside a double's 53 bits).
        if (text.size() > 2 && text.size() <= 17 && text.ends_with("ns") &&
            text.find_first_not_of("0123456789") == text.size() - 2) {
            FUZZ_CHECK(d->count() == std::stoll(text.substr(0, text.size() - 2)));
        }
    }
    // The same text as --timeout: a saturated duration must become never(), not overflow.
    (void)ipckit::cli::timeout_deadline(text);
}

void cli_numbers(const std::string& text) {
    (void)ipckit::cli::parse_integer(text);
    if (auto m = ipckit::cli::parse_mode(text)) {
        FUZZ_CHECK(m->bits() <= 0777);
    }
    (void)ipckit::cli::parse_kinds(split(text, ','));
}

void core_numbers(const std::string& text) {
    constexpr ipckit::NumberSyntax kSignedHex{.sign = true, .hex = true};
    if (auto n = ipckit::parse_integer(text, -1000, 1000, kSignedHex)) {
        FUZZ_CHECK(*n >= -1000 && *n <= 1000);
    }
    // The command line's integer is the core's signed decimal one.
    const auto cli = ipckit::cli::parse_integer(text);
    const auto core = ipckit::parse_integer(text,
                                            std::numeric_limits<std::int64_t>::min(),
                                            std::numeric_limits<std::int64_t>::max(),
                                            {.sign = true});
    FUZZ_CHECK(cli.has_value() == core.has_value() && (!cli || *cli == *core));
    constexpr std::uint64_t k64TiB = std::uint64_t{1} << 46;
    if (auto s = ipckit::parse_size(text, ipckit::kSizeLetters, k64TiB, kSignedHex)) {
        FUZZ_CHECK(*s <= k64TiB);
    }
    // An accepted byte size is the size the text says, not a wrapped-around one.
    if (auto s = ipckit::parse_size(text, ipckit::kSizeBytes, kHuge)) {
        const auto want = documented_size(text);
        FUZZ_CHECK(want.has_value() && *want == *s);
    }
}

void bench_sizes(const std::string& text) {
    auto sizes = ipckit::bench::parse_sizes(text);
    if (!sizes) {
        return;
    }
    const auto items = split(text, ',');
    FUZZ_CHECK(sizes->size() == items.size());
    FUZZ_CHECK(sizes->size() <= ipckit::bench::kMaxPhases);
    for (std::size_t i = 0; i < items.size(); ++i) {
        const std::size_t v = (*sizes)[i];
        FUZZ_CHECK(v >= sizeof(ipckit::bench::MessageHeader) && v <= (std::size_t{64} << 20));
        // An accepted size is the size the text says, not a wrapped-around one.
        const auto want = documented_size(items[i]);
        FUZZ_CHECK(want.has_value() && *want == v);
    }
}

void uri_options(const std::string& text) {
    constexpr std::uint64_t k64TiB = std::uint64_t{1} << 46;
    if (auto u = ipckit::Uri::parse("shm:/fuzz?size=" + text)) {
        const auto* shm = u->get_if<ipckit::PosixShmUri>();
        FUZZ_CHECK(shm != nullptr && shm->size && *shm->size <= k64TiB);
    }
    if (auto u = ipckit::Uri::parse("chan:fuzz?capacity=" + text + "&msgsize=" + text)) {
        const auto* chan = u->get_if<ipckit::ChanUri>();
        FUZZ_CHECK(chan != nullptr && chan->capacity && *chan->capacity <= k64TiB);
    }
    if (auto u = ipckit::Uri::parse("mq:/fuzz?maxmsg=" + text + "&prio=" + text)) {
        const auto* mq = u->get_if<ipckit::PosixMqUri>();
        FUZZ_CHECK(mq != nullptr && mq->max_messages && *mq->max_messages >= 1);
        FUZZ_CHECK(mq->priority && *mq->priority <= 32767);
    }
    if (auto u = ipckit::Uri::parse("sem:/fuzz?mode=" + text)) {
        const auto* sem = u->get_if<ipckit::PosixSemUri>();
        FUZZ_CHECK(sem != nullptr && sem->create.mode && sem->create.mode->bits() <= 0777);
    }
    (void)ipckit::Uri::parse("sysvsem:" + text + "?nsems=" + text + "&value=" + text);
    (void)ipckit::Uri::parse("tcp:localhost:" + text);
}

void names(const std::string& text) {
    if (!text.starts_with("ftok:")) {  // ftok(3) would stat the path
        (void)ipckit::SysvKey::parse(text);
    }
    if (auto n = ipckit::PosixName::make(text)) {
        const std::string& s = n->str();
        FUZZ_CHECK(s.size() >= 2 && s.size() <= 1 + ipckit::PosixName::kMaxLength);
        FUZZ_CHECK(s.front() == '/' && s.find('/', 1) == std::string::npos);
        FUZZ_CHECK(s.find('\0') == std::string::npos);
    }
}

}  // namespace

IPCKIT_FUZZ_TARGET(units) {
    const std::string text(reinterpret_cast<const char*>(data), size);  // NOLINT: bytes
    durations(text);
    cli_numbers(text);
    core_numbers(text);
    bench_sizes(text);
    uri_options(text);
    names(text);
    return 0;
}
