// SPDX-License-Identifier: MIT
// POSIX shared memory (ipckit::PosixShm) + POSIX semaphores: four process-shared sem_t
// (sem_init with pshared=1) live in the named object next to the two slots, driven through
// ipckit::UnnamedSemaphore (waits are sem_clockwait on CLOCK_MONOTONIC up to the phase deadline).
// The supervisor's PosixShm owns the name and unlinks it. The micro-benchmark PosixSemPostWait
// prices the semaphore wrapper.
#include "ipckit/core/posix_name.hpp"
#include "ipckit/shm/posix_shm.hpp"
#include "ipckit/shm/region.hpp"
#include "ipckit/sync/unnamed_semaphore.hpp"
#include "transports/registry.hpp"
#include "transports/shm_slots.hpp"

#include <array>
#include <optional>

namespace ipckit::bench {
namespace {

class PosixShmSem final : public ShmSlotsTransport {
public:
    Result<void> setup(const SetupParams& p) override {
        IPCKIT_TRY_ASSIGN(auto name, PosixName::make("/" + p.tag));
        const std::size_t slots = region_size(p.max_message_size);
        const std::size_t total = slots + 4 * UnnamedSemaphore::kSize + 64;
        IPCKIT_TRY_ASSIGN(auto shm, PosixShm::create(name, total));
        ledger("posix-shm", name.str());
        shm_.emplace(std::move(shm));
        IPCKIT_TRY_ASSIGN(region_, shm_->map());
        use_region(region_.data(), p.max_message_size);
        std::byte* at = region_.data() + (slots + 63) / 64 * 64;
        for (std::size_t i = 0; i < sems_.size(); ++i) {
            IPCKIT_TRY_ASSIGN(
                auto sem,
                UnnamedSemaphore::init(
                    std::span<std::byte>(at + i * UnnamedSemaphore::kSize, UnnamedSemaphore::kSize),
                    i % 2 == 0 ? 1U : 0U));
            sems_.at(i) = sem;
        }
        return {};
    }
    void teardown() noexcept override {
        region_ = Region();
        shm_.reset();  // unlinks the name
    }

private:
    [[nodiscard]] std::string name() const override {
        return shm_ ? shm_->name().str() : std::string("posix shm");
    }
    UnnamedSemaphore& sem(int dir, Which which) {
        return *sems_.at((static_cast<std::size_t>(dir) * 2) + (which == Which::Full ? 1U : 0U));
    }
    Result<void> wait(int dir, Which which) override {
        IPCKIT_TRY_ASSIGN(const bool posted, sem(dir, which).wait_until(phase_deadline()));
        if (!posted) {
            return timed_out("sem_clockwait", name());
        }
        return {};
    }
    Result<void> post(int dir, Which which) override { return sem(dir, which).post(); }
    std::optional<PosixShm> shm_;
    Region region_;
    std::array<std::optional<UnnamedSemaphore>, 4> sems_;
};

}  // namespace

std::unique_ptr<Transport> make_posix_shm_sem() {
    return std::make_unique<PosixShmSem>();
}

}  // namespace ipckit::bench
