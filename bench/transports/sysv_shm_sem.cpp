// SPDX-License-Identifier: MIT
// System V shared memory (ipckit::SysvShm) + a System V semaphore set of four
// (ipckit::SysvSemaphoreSet: semtimedop up to the phase deadline, semop to post). Both are
// IPC_PRIVATE, created before fork (children inherit the attachment and the id) and removed with
// IPC_RMID by the supervisor.
#include "ipckit/core/sysv_key.hpp"
#include "ipckit/shm/sysv_shm.hpp"
#include "ipckit/sync/sysv_semaphore_set.hpp"
#include "transports/registry.hpp"
#include "transports/shm_slots.hpp"

#include <array>
#include <optional>

namespace ipckit::bench {
namespace {

class SysvShmSem final : public ShmSlotsTransport {
public:
    Result<void> setup(const SetupParams& p) override {
        IPCKIT_TRY_ASSIGN(auto shm,
                          SysvShm::create(SysvKey::private_key(), region_size(p.max_message_size)));
        shm_.emplace(shm);
        ledger("sysv-shm", std::to_string(shm.id()));
        IPCKIT_TRY_ASSIGN(attachment_, shm.attach());
        use_region(attachment_.data(), p.max_message_size);
        const std::array<unsigned short, 4> initial{1, 0, 1, 0};  // per direction: Empty=1, Full=0
        IPCKIT_TRY_ASSIGN(auto sems, SysvSemaphoreSet::create(SysvKey::private_key(), initial));
        sems_.emplace(sems);
        ledger("sysv-sem", std::to_string(sems.id()));
        return {};
    }
    void teardown() noexcept override {
        attachment_.reset();
        if (shm_) {
            (void)shm_->remove();  // best effort: teardown cannot report, the ledger test checks
            shm_.reset();
        }
        if (sems_) {
            (void)sems_->remove();
            sems_.reset();
        }
    }

private:
    [[nodiscard]] std::string name() const override {
        return "shm id " + std::to_string(shm_ ? shm_->id() : -1);
    }
    static unsigned short index(int dir, Which which) {
        return static_cast<unsigned short>(dir * 2 + (which == Which::Full ? 1 : 0));
    }
    Result<void> wait(int dir, Which which) override {
        IPCKIT_TRY_ASSIGN(const bool taken, sems_->wait_until(index(dir, which), phase_deadline()));
        if (!taken) {
            return timed_out("semtimedop", "sem id " + std::to_string(sems_->id()));
        }
        return {};
    }
    Result<void> post(int dir, Which which) override { return sems_->post(index(dir, which)); }
    std::optional<SysvShm> shm_;
    SysvShmAttachment attachment_;
    std::optional<SysvSemaphoreSet> sems_;
};

}  // namespace

std::unique_ptr<Transport> make_sysv_shm_sem() {
    return std::make_unique<SysvShmSem>();
}

}  // namespace ipckit::bench
