// SPDX-License-Identifier: MIT
// What a run is parameterised by: the --quick settings, --sizes, the transport selection, and
// the names the table and files use.
#include "engine/engine.hpp"
#include "engine/protocol.hpp"

#include "ipckit/core/units.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <string>

namespace ipckit::bench {

using namespace std::chrono_literals;

const char* to_string(Status s) {
    switch (s) {
        case Status::Ok:
            return "ok";
        case Status::Unsupported:
            return "unsupported";
        case Status::Error:
            return "error";
        case Status::NotRun:
            return "not run";
    }
    return "?";
}

const char* to_string(Group g) {
    switch (g) {
        case Group::Floor:
            return "floor";
        case Group::Stream:
            return "byte stream";
        case Group::Socket:
            return "socket";
        case Group::Queue:
            return "message queue";
        case Group::SharedMemory:
            return "shared memory";
        case Group::Signal:
            return "signal";
        case Group::Channel:
            return "ipckit channel";
        case Group::Peer:
            return "peer library";
    }
    return "?";
}

void Config::make_quick() {
    latency_warmup = 10ms;
    latency_rep = 25ms;
    latency_reps = 3;
    throughput_warmup = 5ms;
    throughput_rep = 15ms;
    throughput_reps = 2;
}

std::string format_size(std::size_t bytes) {
    if (bytes >= (1U << 20) && bytes % (1U << 20) == 0) {
        return fmt::format("{} MiB", bytes >> 20);
    }
    if (bytes >= 1024 && bytes % 1024 == 0) {
        return fmt::format("{} KiB", bytes >> 10);
    }
    return fmt::format("{} B", bytes);
}

Result<std::vector<std::size_t>> parse_sizes(const std::string& text) {
    std::vector<std::size_t> out;
    std::size_t pos = 0;
    while (pos <= text.size()) {
        const std::size_t comma = std::min(text.find(',', pos), text.size());
        const std::string item = text.substr(pos, comma - pos);
        pos = comma + 1;
        constexpr std::uint64_t kLargest = 64ULL << 20;
        const Parsed<std::uint64_t> size = parse_size(item, kSizeBytes, kLargest);
        if (!size && size.error() == ParseError::UnknownUnit) {
            return Error(
                std::errc::invalid_argument, "--sizes", item, "unknown unit (use B, K or M)");
        }
        if (!size && size.error() != ParseError::OutOfRange) {
            return Error(
                std::errc::invalid_argument, "--sizes", item, "expected a size like 64, 4K, 1M");
        }
        if (!size || *size < sizeof(MessageHeader)) {
            return Error(std::errc::invalid_argument,
                         "--sizes",
                         item,
                         fmt::format("sizes must be between {} B (the sequence header) and 64 MiB",
                                     sizeof(MessageHeader)));
        }
        const std::uint64_t value = *size;
        out.push_back(static_cast<std::size_t>(value));
        if (comma == text.size()) {
            break;
        }
    }
    if (out.size() > kMaxPhases) {
        return Error(std::errc::invalid_argument,
                     "--sizes",
                     text,
                     fmt::format("at most {} sizes", kMaxPhases));
    }
    return out;
}

Result<std::vector<const TransportInfo*>> select(const Config& config) {
    std::vector<std::string> unknown;
    auto known = [](const std::string& n) {
        const auto& all = transports();
        return std::any_of(
            all.begin(), all.end(), [&](const TransportInfo& t) { return t.name == n; });
    };
    for (const auto* list : {&config.only, &config.exclude}) {
        for (const auto& n : *list) {
            if (!known(n)) {
                unknown.push_back(n);
            }
        }
    }
    if (!unknown.empty()) {
        std::string names;
        for (const auto& t : transports()) {
            names += (names.empty() ? "" : ", ") + t.name;
        }
        return Error(std::errc::invalid_argument,
                     "--only/--exclude",
                     fmt::format("{}", fmt::join(unknown, ", ")),
                     "unknown transport; known: " + names);
    }
    std::vector<const TransportInfo*> out;
    for (const auto& t : transports()) {
        const bool named =
            std::find(config.only.begin(), config.only.end(), t.name) != config.only.end();
        if (!config.only.empty() && !named) {
            continue;
        }
        if (std::find(config.exclude.begin(), config.exclude.end(), t.name) !=
            config.exclude.end()) {
            continue;
        }
        if (t.peer && !config.peers && !named) {
            continue;
        }
        out.push_back(&t);
    }
    return out;
}

}  // namespace ipckit::bench
