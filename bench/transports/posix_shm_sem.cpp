// SPDX-License-Identifier: MIT
// POSIX shared memory (shm_open) + POSIX semaphores: four process-shared sem_t (sem_init with
// pshared=1) live in the named object next to the two slots, driven through
// ipckit::UnnamedSemaphore (waits are sem_clockwait on CLOCK_MONOTONIC up to the phase deadline).
// The supervisor unlinks the name. The micro-benchmark PosixSemPostWait prices the wrapper.
#include "ipckit/core/mapping.hpp"
#include "ipckit/core/unique_fd.hpp"
#include "ipckit/sync/unnamed_semaphore.hpp"
#include "transports/registry.hpp"
#include "transports/shm_slots.hpp"

#include <fcntl.h>
#include <semaphore.h>
#include <sys/mman.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <optional>

namespace ipckit::bench {
namespace {

class PosixShmSem final : public ShmSlotsTransport {
public:
    Result<void> setup(const SetupParams& p) override {
        name_ = "/" + p.tag;
        const int fd = ::shm_open(name_.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0) {
            return Error::from_errno(errno, "shm_open", name_);
        }
        created_ = true;
        ledger("posix-shm", name_);
        UniqueFd owner(fd);
        const std::size_t slots = region_size(p.max_message_size);
        const std::size_t total = slots + 4 * sizeof(sem_t) + 64;
        if (::ftruncate(fd, static_cast<off_t>(total)) != 0) {
            return Error::from_errno(errno, "ftruncate", name_);
        }
        auto m = Mapping::map(fd, total, 0, Protection::ReadWrite, Sharing::Shared, name_);
        if (!m) {
            return m.error();
        }
        mapping_ = std::move(*m);
        use_region(mapping_.data(), p.max_message_size);
        std::byte* at = mapping_.data() + (slots + 63) / 64 * 64;
        for (std::size_t i = 0; i < sems_.size(); ++i) {
            auto sem = UnnamedSemaphore::init(
                std::span<std::byte>(at + i * UnnamedSemaphore::kSize, UnnamedSemaphore::kSize),
                i % 2 == 0 ? 1U : 0U);
            if (!sem) {
                return sem.error();
            }
            sems_.at(i) = *sem;
        }
        return {};
    }
    void teardown() noexcept override {
        mapping_ = Mapping();
        if (created_) {
            ::shm_unlink(name_.c_str());
            created_ = false;
        }
    }

private:
    [[nodiscard]] std::string name() const override { return name_; }
    UnnamedSemaphore& sem(int dir, Which which) {
        return *sems_.at((static_cast<std::size_t>(dir) * 2) + (which == Which::Full ? 1U : 0U));
    }
    Result<void> wait(int dir, Which which) override {
        auto r = sem(dir, which).wait_until(phase_deadline());
        if (!r) {
            return r.error();
        }
        if (!*r) {
            return timed_out("sem_clockwait", name_);
        }
        return {};
    }
    Result<void> post(int dir, Which which) override { return sem(dir, which).post(); }
    std::string name_;
    bool created_ = false;
    Mapping mapping_;
    std::array<std::optional<UnnamedSemaphore>, 4> sems_;
};

}  // namespace

std::unique_ptr<Transport> make_posix_shm_sem() {
    return std::make_unique<PosixShmSem>();
}

}  // namespace ipckit::bench
