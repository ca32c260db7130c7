// SPDX-License-Identifier: MIT
// POSIX message queues (mq_overview(7)) through ipckit::PosixMq: one queue per direction, sized to
// the largest message of the run; send_until/receive_until carry the phase deadline (the wrapper
// re-derives CLOCK_REALTIME from the monotonic deadline and retries EINTR until it passes). The
// supervisor keeps the owning handles and unlinks both names. Message size is capped by
// /proc/sys/fs/mqueue/msgsize_max (8 KiB by default), so larger sizes are "not supported" here.
// The micro-benchmark PosixMqSendReceive measures what the wrapper costs over mq_send/mq_receive.
#include "ipckit/message/posix_mq.hpp"

#include "engine/wait.hpp"
#include "ipckit/core/posix_name.hpp"
#include "transports/registry.hpp"

#include <algorithm>
#include <array>
#include <fstream>
#include <optional>
#include <vector>

namespace ipckit::bench {
namespace {

std::size_t proc_limit(const char* path, std::size_t fallback) {
    std::ifstream in(path);
    std::size_t v = 0;
    return (in >> v) ? v : fallback;
}

class PosixMqTransport final : public Transport {
public:
    Result<void> setup(const SetupParams& p) override {
        max_ = proc_limit("/proc/sys/fs/mqueue/msgsize_max", 8192);
        PosixMq::Limits limits;
        limits.max_message_size =
            static_cast<long>(std::min(max_, std::max<std::size_t>(p.max_message_size, 64)));
        limits.max_messages = static_cast<long>(
            std::min<std::size_t>(proc_limit("/proc/sys/fs/mqueue/msg_max", 10), 10));
        const std::array<std::string, 2> names{"/" + p.tag + "-ping", "/" + p.tag + "-pong"};
        for (std::size_t i = 0; i < 2; ++i) {
            IPCKIT_TRY_ASSIGN(const auto name, PosixName::make(names.at(i)));
            IPCKIT_TRY_ASSIGN(auto q, PosixMq::create(name, limits));
            ledger("posix-mq", names.at(i));
            q_.at(i).emplace(std::move(q));
        }
        scratch_.resize(static_cast<std::size_t>(limits.max_message_size));
        return {};
    }
    [[nodiscard]] std::size_t max_message_size() const override { return max_; }
    Result<void> attach(Role role, int /*peer_pid*/) override {
        out_ = role == Role::Leader ? 0 : 1;
        return {};
    }
    Result<void> send(std::span<const std::byte> message) override {
        auto& q = *q_.at(static_cast<std::size_t>(out_));
        IPCKIT_TRY_ASSIGN(const bool sent, q.send_until(message, 0, phase_deadline()));
        if (!sent) {
            return timed_out("mq_send", q.name().str());
        }
        return {};
    }
    Result<std::size_t> receive(std::span<std::byte> buffer) override {
        auto& q = *q_.at(static_cast<std::size_t>(1 - out_));
        // The kernel wants room for the queue's msgsize; short buffers (acknowledgements) go via
        // scratch.
        const bool direct = buffer.size() >= scratch_.size();
        IPCKIT_TRY_ASSIGN(
            const auto received,
            q.receive_until(direct ? buffer : std::span<std::byte>(scratch_), phase_deadline()));
        if (!received) {
            return timed_out("mq_receive", q.name().str());
        }
        const std::size_t len = received->size;
        if (!direct) {
            if (len > buffer.size()) {
                return Error(std::errc::message_size, "mq_receive", q.name().str());
            }
            std::copy_n(scratch_.data(), len, buffer.data());
        }
        return len;
    }
    void teardown() noexcept override {
        for (auto& q : q_) {
            if (q) {
                (void)q->unlink();
                q.reset();
            }
        }
    }

private:
    std::array<std::optional<PosixMq>, 2> q_;
    std::vector<std::byte> scratch_;
    std::size_t max_ = 8192;
    int out_ = 0;
};

}  // namespace

std::unique_ptr<Transport> make_posix_mq() {
    return std::make_unique<PosixMqTransport>();
}

}  // namespace ipckit::bench
