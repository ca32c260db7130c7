// SPDX-License-Identifier: MIT
// Shared memory + eventfd(2) through ipckit::EventFd: the slot's "full" and "empty"
// announcements are four eventfds in semaphore mode (one per direction and state), created before
// fork and inherited. A wait reads until the phase deadline.
#include "ipckit/sync/event_fd.hpp"
#include "transports/registry.hpp"
#include "transports/shm_slots.hpp"

#include <array>
#include <optional>

namespace ipckit::bench {
namespace {

class ShmEventfd final : public ShmSlotsTransport {
public:
    Result<void> setup(const SetupParams& p) override {
        IPCKIT_TRY(use_anonymous_region(p.max_message_size));
        for (std::size_t i = 0; i < events_.size(); ++i) {
            // Even: Empty (a free slot to start with), odd: Full.
            const unsigned initial = (i % 2 == 0) ? 1U : 0U;
            IPCKIT_TRY_ASSIGN(auto event, EventFd::create(initial, EventFdMode::Semaphore));
            events_.at(i).emplace(std::move(event));
        }
        return {};
    }
    void teardown() noexcept override {
        for (auto& event : events_) {
            event.reset();
        }
        release_anonymous_region();
    }

private:
    [[nodiscard]] std::string name() const override { return "eventfd slot"; }
    EventFd& event(int dir, Which which) {
        return *events_.at((static_cast<std::size_t>(dir) * 2) + (which == Which::Full ? 1U : 0U));
    }
    Result<void> wait(int dir, Which which) override {
        IPCKIT_TRY_ASSIGN(const auto value, event(dir, which).read_until(phase_deadline()));
        if (!value) {
            return timed_out("read", "eventfd");
        }
        return {};
    }
    Result<void> post(int dir, Which which) override { return event(dir, which).write(1); }
    std::array<std::optional<EventFd>, 4> events_;
};

}  // namespace

std::unique_ptr<Transport> make_shm_eventfd() {
    return std::make_unique<ShmEventfd>();
}

}  // namespace ipckit::bench
