// SPDX-License-Identifier: MIT
// POSIX shared memory (shm_open) + POSIX semaphores: four process-shared sem_t (sem_init with
// pshared=1) live in the named object next to the two slots; waits use sem_clockwait on
// CLOCK_MONOTONIC. The supervisor unlinks the name. (Switches to ipckit's PosixShm and
// PosixSemaphore when those wrappers land.)
#include "ipckit/core/mapping.hpp"
#include "ipckit/core/unique_fd.hpp"
#include "transports/registry.hpp"
#include "transports/shm_slots.hpp"

#include <fcntl.h>
#include <semaphore.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>

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
        sems_ = reinterpret_cast<sem_t*>(mapping_.data() + (slots + 63) / 64 * 64);
        for (int i = 0; i < 4; ++i) {
            if (::sem_init(&sems_[i], 1, i % 2 == 0 ? 1U : 0U) != 0) {
                return Error::from_errno(errno, "sem_init", name_);
            }
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
    sem_t* sem(int dir, Which which) const {
        return &sems_[dir * 2 + (which == Which::Full ? 1 : 0)];
    }
    Result<void> wait(int dir, Which which) override {
        const timespec until = phase_deadline().to_monotonic_timespec();
        for (;;) {
            if (::sem_clockwait(sem(dir, which), CLOCK_MONOTONIC, &until) == 0) {
                return {};
            }
            if (errno == EINTR) {
                continue;  // the absolute deadline bounds the retry
            }
            if (errno == ETIMEDOUT) {
                return timed_out("sem_clockwait", name_);
            }
            return Error::from_errno(errno, "sem_clockwait", name_);
        }
    }
    Result<void> post(int dir, Which which) override {
        if (::sem_post(sem(dir, which)) != 0) {
            return Error::from_errno(errno, "sem_post", name_);
        }
        return {};
    }
    std::string name_;
    bool created_ = false;
    Mapping mapping_;
    sem_t* sems_ = nullptr;
};

}  // namespace

std::unique_ptr<Transport> make_posix_shm_sem() {
    return std::make_unique<PosixShmSem>();
}

}  // namespace ipckit::bench
