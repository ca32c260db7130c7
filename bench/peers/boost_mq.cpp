// SPDX-License-Identifier: MIT
// Peer: Boost.Interprocess message_queue (a queue in a POSIX shm object, guarded by a
// process-shared mutex and condition variables). Two queues, one per direction, created by the
// supervisor and removed with message_queue::remove; the children open them by name after fork.
#include "engine/wait.hpp"
#include "transports/registry.hpp"

#include <array>
#include <boost/date_time/posix_time/posix_time_types.hpp>
#include <boost/interprocess/ipc/message_queue.hpp>
#include <optional>
#include <vector>

namespace ipckit::bench {
namespace {

namespace bip = boost::interprocess;

boost::posix_time::ptime boost_deadline() {
    // Boost's timed calls take an absolute UTC time; the phase deadline is monotonic.
    const auto left =
        std::chrono::duration_cast<std::chrono::microseconds>(phase_deadline().remaining());
    const auto capped = std::min<std::chrono::microseconds>(left, std::chrono::seconds(3600));
    return boost::posix_time::microsec_clock::universal_time() +
           boost::posix_time::microseconds(capped.count());
}

class BoostMq final : public Transport {
public:
    Result<void> setup(const SetupParams& p) override {
        names_ = {p.tag + "-ping", p.tag + "-pong"};
        msg_size_ = std::max<std::size_t>(p.max_message_size, 64);
        try {
            for (std::size_t i = 0; i < 2; ++i) {
                bip::message_queue::remove(names_.at(i).c_str());
                bip::message_queue q(bip::create_only, names_.at(i).c_str(), 16, msg_size_);
                created_.at(i) = true;
                ledger("posix-shm", "/" + names_.at(i));
            }
        } catch (const bip::interprocess_exception& e) {
            return Error(std::errc::io_error, "message_queue create", names_[0], e.what());
        }
        return {};
    }
    Result<void> attach(Role role, int /*peer_pid*/) override {
        out_ = role == Role::Leader ? 0 : 1;
        try {
            for (std::size_t i = 0; i < 2; ++i) {
                q_.at(i).emplace(bip::open_only, names_.at(i).c_str());
            }
        } catch (const bip::interprocess_exception& e) {
            return Error(std::errc::io_error, "message_queue open", names_[0], e.what());
        }
        scratch_.resize(msg_size_);
        return {};
    }
    Result<void> send(std::span<const std::byte> message) override {
        auto& q = *q_.at(static_cast<std::size_t>(out_));
        try {
            if (!q.timed_send(message.data(), message.size(), 0, boost_deadline())) {
                return timed_out("message_queue::timed_send",
                                 names_.at(static_cast<std::size_t>(out_)));
            }
        } catch (const bip::interprocess_exception& e) {
            return Error(std::errc::io_error,
                         "message_queue::send",
                         names_.at(static_cast<std::size_t>(out_)),
                         e.what());
        }
        return {};
    }
    Result<std::size_t> receive(std::span<std::byte> buffer) override {
        const auto in = static_cast<std::size_t>(1 - out_);
        auto& q = *q_.at(in);
        // The queue insists on a buffer of its full message size; short reads go via scratch.
        const bool direct = buffer.size() >= msg_size_;
        void* into = direct ? buffer.data() : scratch_.data();
        std::size_t got = 0;
        unsigned priority = 0;
        try {
            if (!q.timed_receive(into, msg_size_, got, priority, boost_deadline())) {
                return timed_out("message_queue::timed_receive", names_.at(in));
            }
        } catch (const bip::interprocess_exception& e) {
            return Error(std::errc::io_error, "message_queue::receive", names_.at(in), e.what());
        }
        if (!direct) {
            if (got > buffer.size()) {
                return Error(std::errc::message_size, "message_queue::receive", names_.at(in));
            }
            std::copy_n(scratch_.data(), got, buffer.data());
        }
        return got;
    }
    void teardown() noexcept override {
        for (std::size_t i = 0; i < 2; ++i) {
            q_.at(i).reset();
            if (created_.at(i)) {
                bip::message_queue::remove(names_.at(i).c_str());
                created_.at(i) = false;
            }
        }
    }

private:
    std::array<std::string, 2> names_;
    std::array<bool, 2> created_{false, false};
    std::array<std::optional<bip::message_queue>, 2> q_;
    std::vector<std::byte> scratch_;
    std::size_t msg_size_ = 64;
    int out_ = 0;
};

}  // namespace

std::unique_ptr<Transport> make_boost_mq() {
    return std::make_unique<BoostMq>();
}

}  // namespace ipckit::bench
