// SPDX-License-Identifier: MIT
// Shared memory + eventfd(2): the slot's "full" and "empty" announcements are four eventfds in
// semaphore mode (one per direction and state), created before fork and inherited.
#include "ipckit/core/mapping.hpp"
#include "ipckit/core/unique_fd.hpp"
#include "transports/registry.hpp"
#include "transports/shm_slots.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <array>
#include <cerrno>

namespace ipckit::bench {
namespace {

class ShmEventfd final : public ShmSlotsTransport {
public:
    Result<void> setup(const SetupParams& p) override {
        if (auto r = use_anonymous_region(p.max_message_size); !r) {
            return r;
        }
        for (std::size_t i = 0; i < fds_.size(); ++i) {
            const unsigned initial =
                (i % 2 == 0) ? 1U : 0U;  // even: Empty (a free slot), odd: Full
            const int fd = ::eventfd(initial, EFD_CLOEXEC | EFD_SEMAPHORE);
            if (fd < 0) {
                return Error::from_errno(errno, "eventfd", name());
            }
            fds_.at(i) = UniqueFd(fd);
        }
        return {};
    }
    void teardown() noexcept override {
        for (auto& fd : fds_) {
            fd = UniqueFd();
        }
        release_anonymous_region();
    }

private:
    [[nodiscard]] std::string name() const override { return "eventfd slot"; }
    [[nodiscard]] int fd(int dir, Which which) const {
        return fds_.at((static_cast<std::size_t>(dir) * 2) + (which == Which::Full ? 1U : 0U))
            .get();
    }
    Result<void> wait(int dir, Which which) override {
        std::uint64_t value = 0;
        for (;;) {
            if (::read(fd(dir, which), &value, sizeof value) == sizeof value) {
                return {};
            }
            if (errno == EINTR && retry_after_eintr()) {
                continue;
            }
            if (errno == EINTR) {
                return timed_out("read", "eventfd");
            }
            return Error::from_errno(errno, "read", "eventfd");
        }
    }
    Result<void> post(int dir, Which which) override {
        const std::uint64_t one = 1;
        for (;;) {
            if (::write(fd(dir, which), &one, sizeof one) == sizeof one) {
                return {};
            }
            if (errno != EINTR) {
                return Error::from_errno(errno, "write", "eventfd");
            }
        }
    }
    std::array<UniqueFd, 4> fds_;
};

}  // namespace

std::unique_ptr<Transport> make_shm_eventfd() {
    return std::make_unique<ShmEventfd>();
}

}  // namespace ipckit::bench
