// SPDX-License-Identifier: MIT
// Private to the bridge: the state file of a JetStream receive (--state). It holds the stream
// sequence of the last message delivered and, while a message is being delivered into a channel,
// a write-ahead mark: that message's sequence, and the lane, pid and published count of the
// bridge's publisher before the send. A restarted bridge reads the lane's published count to tell
// a message the killed bridge delivered (skip it) from one it did not (JetStream redelivers it).
#pragma once

#include "ipckit/core/result.hpp"
#include "ipckit/core/unique_fd.hpp"
#include "ipckit/core/units.hpp"
#include "sys/syscall.hpp"

#include <fcntl.h>
#include <sys/types.h>
#include <unistd.h>

#include <array>
#include <climits>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ipckit::detail {

/// Where a sink's next message lands (a channel publisher: lane, pid, messages published).
struct DeliveryMark {
    std::uint32_t lane = 0;
    pid_t pid = 0;
    std::uint64_t published = 0;
};

/// A message being delivered when the state was written.
struct PendingDelivery {
    std::uint64_t seq = 0;
    DeliveryMark mark;
};

class StateFile {
public:
    static Result<StateFile> open(const std::string& path) {
        IPCKIT_TRY_ASSIGN(const int fd, sys::call("open", path, [&] {
                              return ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
                          }));
        StateFile f(UniqueFd(fd), path);
        std::array<char, kRecordBytes + 1> buf{};
        IPCKIT_TRY_ASSIGN(const ssize_t n, sys::call("read", path, [&] {
                              return ::pread(f.fd_.get(), buf.data(), buf.size() - 1, 0);
                          }));
        IPCKIT_TRY(f.parse(std::string_view(buf.data(), static_cast<std::size_t>(n))));
        return f;
    }

    /// Records `seq` as delivered, with no delivery under way.
    Result<void> store(std::uint64_t seq) {
        IPCKIT_TRY(write(seq, std::nullopt));
        last_ = seq;
        pending_.reset();
        return {};
    }
    /// Records that message `seq` is about to be delivered at `mark` (write-ahead).
    Result<void> store_pending(std::uint64_t seq, const DeliveryMark& mark) {
        const PendingDelivery p{seq, mark};
        IPCKIT_TRY(write(last_.value_or(0), p));
        pending_ = p;
        return {};
    }
    [[nodiscard]] std::optional<std::uint64_t> last() const noexcept { return last_; }
    [[nodiscard]] const std::optional<PendingDelivery>& pending() const noexcept {
        return pending_;
    }

private:
    // "<last:20>\n<pending seq:20> <lane:10> <pid:10> <published:20>\n" (zeros: no delivery
    // under way): one pwrite of a fixed size, so a kill never leaves half an old record and half
    // a new one. The first line alone is the format before the write-ahead mark.
    static constexpr std::size_t kRecordBytes = 20 + 1 + 20 + 1 + 10 + 1 + 10 + 1 + 20 + 1;

    StateFile(UniqueFd fd, std::string path) : fd_(std::move(fd)), path_(std::move(path)) {}

    static std::string padded(std::uint64_t v, std::size_t width) {
        std::string digits = std::to_string(v);
        return std::string(width - std::min(digits.size(), width), '0') + digits;
    }

    Result<void> write(std::uint64_t last, const std::optional<PendingDelivery>& p) {
        const PendingDelivery none{};
        const PendingDelivery& q = p ? *p : none;
        const std::string line = padded(last, 20) + "\n" + padded(q.seq, 20) + " " +
                                 padded(q.mark.lane, 10) + " " +
                                 padded(static_cast<std::uint64_t>(q.mark.pid), 10) + " " +
                                 padded(q.mark.published, 20) + "\n";
        IPCKIT_TRY(sys::call(
            "write", path_, [&] { return ::pwrite(fd_.get(), line.data(), line.size(), 0); }));
        return {};
    }

    /// One number (the last delivered: the format before the write-ahead mark) or five.
    Result<void> parse(std::string_view text) {
        std::vector<std::string_view> fields;
        while (!text.empty()) {
            const std::size_t end = text.find_first_of(" \n");
            if (end != 0) {
                fields.push_back(text.substr(0, end));
            }
            if (end == std::string_view::npos) {
                break;
            }
            text.remove_prefix(end + 1);
        }
        if (fields.empty()) {
            return {};
        }
        if (fields.size() != 1 && fields.size() != 5) {
            return bad("expected 1 or 5 numbers");
        }
        std::array<std::uint64_t, 5> v{};
        constexpr std::array<std::int64_t, 5> kMax{
            INT64_MAX, INT64_MAX, UINT32_MAX, INT_MAX, INT64_MAX};
        for (std::size_t i = 0; i < fields.size(); ++i) {
            const auto n = parse_integer(fields[i], 0, kMax.at(i));
            if (!n) {
                return bad("not a number: '" + std::string(fields[i]) + "'");
            }
            v.at(i) = static_cast<std::uint64_t>(*n);
        }
        last_ = v[0];
        if (fields.size() == 5 && v[1] != 0) {
            pending_ = PendingDelivery{
                v[1], {static_cast<std::uint32_t>(v[2]), static_cast<pid_t>(v[3]), v[4]}};
        }
        return {};
    }

    [[nodiscard]] Error bad(const std::string& why) const {
        return {std::errc::invalid_argument, "bridge state", path_, why};
    }

    UniqueFd fd_;
    std::string path_;
    std::optional<std::uint64_t> last_;
    std::optional<PendingDelivery> pending_;
};

}  // namespace ipckit::detail
