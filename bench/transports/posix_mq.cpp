// SPDX-License-Identifier: MIT
// POSIX message queues (mq_overview(7)): one queue per direction, sized to the largest message of
// the run; mq_timedsend/mq_timedreceive carry the phase deadline (CLOCK_REALTIME, re-derived from
// the monotonic deadline). The supervisor unlinks both names. Message size is capped by
// /proc/sys/fs/mqueue/msgsize_max (8 KiB by default), so larger sizes are "not supported" here.
// (Switches to ipckit's PosixMq when that wrapper lands.)
#include "engine/wait.hpp"
#include "transports/registry.hpp"

#include <fcntl.h>
#include <mqueue.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <fstream>
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
        const std::size_t msgsize = std::min(max_, std::max<std::size_t>(p.max_message_size, 64));
        const long maxmsg = static_cast<long>(
            std::min<std::size_t>(proc_limit("/proc/sys/fs/mqueue/msg_max", 10), 10));
        mq_attr attr{};
        attr.mq_maxmsg = maxmsg;
        attr.mq_msgsize = static_cast<long>(msgsize);
        names_ = {"/" + p.tag + "-ping", "/" + p.tag + "-pong"};
        for (std::size_t i = 0; i < 2; ++i) {
            const mqd_t q =
                ::mq_open(names_[i].c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600, &attr);
            if (q == static_cast<mqd_t>(-1)) {
                return Error::from_errno(
                    errno, "mq_open", names_[i], "msgsize " + std::to_string(msgsize));
            }
            created_[i] = true;
            ledger("posix-mq", names_[i]);
            q_[i] = q;
        }
        scratch_.resize(msgsize);
        return {};
    }
    [[nodiscard]] std::size_t max_message_size() const override { return max_; }
    Result<void> attach(Role role, int /*peer_pid*/) override {
        out_ = role == Role::Leader ? 0 : 1;
        return {};
    }
    Result<void> send(std::span<const std::byte> message) override {
        const auto& name = names_[static_cast<std::size_t>(out_)];
        for (;;) {
            const timespec until = phase_deadline().to_realtime_timespec();
            if (::mq_timedsend(q_[static_cast<std::size_t>(out_)],
                               reinterpret_cast<const char*>(message.data()),
                               message.size(),
                               0,
                               &until) == 0) {
                return {};
            }
            if (errno == EINTR && retry_after_eintr()) {
                continue;
            }
            if (errno == ETIMEDOUT && !phase_deadline().expired()) {
                continue;  // the wall clock moved; re-derive
            }
            if (errno == ETIMEDOUT || errno == EINTR) {
                return timed_out("mq_timedsend", name);
            }
            return Error::from_errno(errno, "mq_timedsend", name);
        }
    }
    Result<std::size_t> receive(std::span<std::byte> buffer) override {
        const int in = 1 - out_;
        const auto& name = names_[static_cast<std::size_t>(in)];
        // mq_receive wants room for mq_msgsize; short buffers (acknowledgements) go via scratch.
        const bool direct = buffer.size() >= scratch_.size();
        char* into = reinterpret_cast<char*>(direct ? buffer.data() : scratch_.data());
        for (;;) {
            const timespec until = phase_deadline().to_realtime_timespec();
            const ssize_t n = ::mq_timedreceive(
                q_[static_cast<std::size_t>(in)], into, scratch_.size(), nullptr, &until);
            if (n >= 0) {
                const auto len = static_cast<std::size_t>(n);
                if (!direct) {
                    if (len > buffer.size()) {
                        return Error(std::errc::message_size, "mq_timedreceive", name);
                    }
                    std::copy_n(scratch_.data(), len, buffer.data());
                }
                return len;
            }
            if (errno == EINTR && retry_after_eintr()) {
                continue;
            }
            if (errno == ETIMEDOUT && !phase_deadline().expired()) {
                continue;
            }
            if (errno == ETIMEDOUT || errno == EINTR) {
                return timed_out("mq_timedreceive", name);
            }
            return Error::from_errno(errno, "mq_timedreceive", name);
        }
    }
    void teardown() noexcept override {
        for (std::size_t i = 0; i < 2; ++i) {
            if (q_[i] != static_cast<mqd_t>(-1)) {
                ::mq_close(q_[i]);
                q_[i] = static_cast<mqd_t>(-1);
            }
            if (created_[i]) {
                ::mq_unlink(names_[i].c_str());
                created_[i] = false;
            }
        }
    }

private:
    std::array<std::string, 2> names_;
    std::array<mqd_t, 2> q_{static_cast<mqd_t>(-1), static_cast<mqd_t>(-1)};
    std::array<bool, 2> created_{false, false};
    std::vector<std::byte> scratch_;
    std::size_t max_ = 8192;
    int out_ = 0;
};

}  // namespace

std::unique_ptr<Transport> make_posix_mq() {
    return std::make_unique<PosixMqTransport>();
}

}  // namespace ipckit::bench
