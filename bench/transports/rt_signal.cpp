// SPDX-License-Identifier: MIT
// Realtime-signal ping-pong: sigqueue(3) announces "your slot is full" (SIGRTMIN, the value
// carries the length) and "my slot is empty again" (SIGRTMIN+1); sigtimedwait(2) receives them.
// The payload travels through an anonymous shared mapping. The engine blocks both signals before
// fork, so one that arrives early is queued rather than fatal. Sending goes through
// ipckit::queue_signal; receiving stays a sigtimedwait(2) call, which ipckit does not wrap
// (SignalFd would measure signalfd(2), a different mechanism).
#include "ipckit/signal/signal_queue.hpp"
#include "ipckit/signal/signal_set.hpp"
#include "transports/registry.hpp"
#include "transports/shm_slots.hpp"

#include <signal.h>
#include <unistd.h>

#include <cerrno>

namespace ipckit::bench {
namespace {

class RtSignal final : public ShmSlotsTransport {
public:
    Result<void> setup(const SetupParams& p) override {
        return use_anonymous_region(p.max_message_size);
    }
    void teardown() noexcept override { release_anonymous_region(); }

private:
    [[nodiscard]] std::string name() const override { return "sigqueue slot"; }
    static int signal_for(Which which) { return which == Which::Full ? SIGRTMIN : SIGRTMIN + 1; }
    Result<void> attach_notifier(Role /*role*/) override {
        out_credit_ = true;  // our outgoing slot starts empty
        return {};
    }
    Result<void> wait(int /*dir*/, Which which) override {
        if (which == Which::Empty && out_credit_) {
            out_credit_ = false;
            return {};
        }
        const SignalSet set = SignalSet::of({signal_for(which)});
        for (;;) {
            const timespec rel = phase_deadline().to_relative_timespec();
            if (::sigtimedwait(&set.native(), nullptr, &rel) >= 0) {
                return {};
            }
            if (errno == EINTR && retry_after_eintr()) {
                continue;
            }
            if (errno == EAGAIN || errno == EINTR) {
                return timed_out("sigtimedwait", name());
            }
            return Error::from_errno(errno, "sigtimedwait", name());
        }
    }
    Result<void> post(int dir, Which which) override {
        const auto length = static_cast<std::int32_t>(header(dir)->length);
        for (;;) {
            auto sent = queue_signal(peer_pid(), signal_for(which), length);
            if (!sent && which == Which::Empty && sent.error() == std::errc::no_such_process) {
                // The follower exits right after its last acknowledgement and may be reaped
                // before the leader announces that slot empty; a gone peer needs no free slot.
                // (One that died early is reported by the supervisor from its exit status.)
                return {};
            }
            if (sent || sent.error() != std::errc::resource_unavailable_try_again) {
                return sent;  // EAGAIN: the receiver's queue is full; retry until the deadline
            }
            if (phase_deadline().expired()) {
                return timed_out("sigqueue", name());
            }
        }
    }
    bool out_credit_ = true;
};

}  // namespace

std::unique_ptr<Transport> make_rt_signal() {
    return std::make_unique<RtSignal>();
}

}  // namespace ipckit::bench
