// SPDX-License-Identifier: MIT
// System V message queues: two IPC_PRIVATE ipckit::SysvMsgQueue, one per direction, inherited by
// id and removed with IPC_RMID by the supervisor. Messages are capped by /proc/sys/kernel/msgmax.
// The data path stays raw msgsnd/msgrcv on the queue's id, blocking in the kernel: msgrcv has no
// timeout, so SysvMsgQueue's deadline variants poll with IPC_NOWAIT and a backoff sleep, which
// would change what the row measures (and its blocking receive retries EINTR, so the child's
// deadline timer could not end it). Here the timer interrupts the call (EINTR) instead.
#include "engine/wait.hpp"
#include "ipckit/core/sysv_key.hpp"
#include "ipckit/message/sysv_msg_queue.hpp"
#include "transports/registry.hpp"

#include <sys/msg.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>
#include <vector>

namespace ipckit::bench {
namespace {

class SysvMqTransport final : public Transport {
public:
    Result<void> setup(const SetupParams& p) override {
        std::ifstream in("/proc/sys/kernel/msgmax");
        std::size_t msgmax = 8192;
        in >> msgmax;
        max_ = msgmax;
        for (std::size_t i = 0; i < queues_.size(); ++i) {
            IPCKIT_TRY_ASSIGN(auto q, SysvMsgQueue::create(SysvKey::private_key()));
            queues_.at(i).emplace(q);
            ids_.at(i) = q.id();
            ledger("sysv-msg", std::to_string(q.id()));
        }
        buffer_.resize(sizeof(long) + std::min(max_, p.max_message_size));
        return {};
    }
    [[nodiscard]] std::size_t max_message_size() const override { return max_; }
    Result<void> attach(Role role, int /*peer_pid*/) override {
        out_ = role == Role::Leader ? 0 : 1;
        return {};
    }
    Result<void> send(std::span<const std::byte> message) override {
        const long type = 1;
        std::memcpy(buffer_.data(), &type, sizeof type);
        std::memcpy(buffer_.data() + sizeof(long), message.data(), message.size());
        const int id = ids_.at(static_cast<std::size_t>(out_));
        for (;;) {
            if (::msgsnd(id, buffer_.data(), message.size(), 0) == 0) {
                return {};
            }
            if (errno == EINTR && retry_after_eintr()) {
                continue;
            }
            if (errno == EINTR) {
                return timed_out("msgsnd", "msq id " + std::to_string(id));
            }
            return Error::from_errno(errno, "msgsnd", "msq id " + std::to_string(id));
        }
    }
    Result<std::size_t> receive(std::span<std::byte> buffer) override {
        const int id = ids_.at(static_cast<std::size_t>(1 - out_));
        for (;;) {
            const ssize_t n = ::msgrcv(id, buffer_.data(), buffer_.size() - sizeof(long), 0, 0);
            if (n >= 0) {
                const auto len = static_cast<std::size_t>(n);
                if (len > buffer.size()) {
                    return Error(std::errc::message_size, "msgrcv", "msq id " + std::to_string(id));
                }
                std::memcpy(buffer.data(), buffer_.data() + sizeof(long), len);
                return len;
            }
            if (errno == EINTR && retry_after_eintr()) {
                continue;
            }
            if (errno == EINTR) {
                return timed_out("msgrcv", "msq id " + std::to_string(id));
            }
            return Error::from_errno(errno, "msgrcv", "msq id " + std::to_string(id));
        }
    }
    void teardown() noexcept override {
        for (auto& q : queues_) {
            if (q) {
                (void)q->remove();  // best effort: teardown cannot report, the ledger test checks
                q.reset();
            }
        }
        ids_ = {-1, -1};
    }

private:
    std::array<std::optional<SysvMsgQueue>, 2> queues_;
    std::array<int, 2> ids_{-1, -1};  // the queues' ids, for the raw data path
    std::vector<std::byte> buffer_;  // long mtype + payload, as msgsnd(2) wants
    std::size_t max_ = 8192;
    int out_ = 0;
};

}  // namespace

std::unique_ptr<Transport> make_sysv_mq() {
    return std::make_unique<SysvMqTransport>();
}

}  // namespace ipckit::bench
