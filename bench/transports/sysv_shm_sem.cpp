// SPDX-License-Identifier: MIT
// System V shared memory (shmget/shmat) + a System V semaphore set of four (semop/semtimedop).
// Both are IPC_PRIVATE, created before fork (children inherit the attachment and the id) and
// removed with IPC_RMID by the supervisor. (Switches to ipckit's SysvShm and SysvSemaphore when
// those wrappers land.)
#include "transports/registry.hpp"
#include "transports/shm_slots.hpp"

#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/shm.h>

#include <array>
#include <cerrno>

namespace ipckit::bench {
namespace {

class SysvShmSem final : public ShmSlotsTransport {
public:
    Result<void> setup(const SetupParams& p) override {
        const std::size_t size = region_size(p.max_message_size);
        shm_id_ = ::shmget(IPC_PRIVATE, size, IPC_CREAT | 0600);
        if (shm_id_ < 0) {
            return Error::from_errno(
                errno, "shmget", "IPC_PRIVATE", "size " + std::to_string(size));
        }
        ledger("sysv-shm", std::to_string(shm_id_));
        void* addr = ::shmat(shm_id_, nullptr, 0);
        if (addr ==
            reinterpret_cast<void*>(-1)) {  // NOLINT(performance-no-int-to-ptr): shmat's sentinel
            return Error::from_errno(errno, "shmat", name());
        }
        addr_ = addr;
        use_region(static_cast<std::byte*>(addr), p.max_message_size);
        sem_id_ = ::semget(IPC_PRIVATE, 4, IPC_CREAT | 0600);
        if (sem_id_ < 0) {
            return Error::from_errno(errno, "semget", "IPC_PRIVATE");
        }
        ledger("sysv-sem", std::to_string(sem_id_));
        std::array<unsigned short, 4> initial{1, 0, 1, 0};  // per direction: Empty=1, Full=0
        if (::semctl(sem_id_, 0, SETALL, initial.data()) != 0) {
            return Error::from_errno(errno, "semctl SETALL", "sem id " + std::to_string(sem_id_));
        }
        return {};
    }
    void teardown() noexcept override {
        if (addr_ != nullptr) {
            ::shmdt(addr_);
            addr_ = nullptr;
        }
        if (shm_id_ >= 0) {
            ::shmctl(shm_id_, IPC_RMID, nullptr);
            shm_id_ = -1;
        }
        if (sem_id_ >= 0) {
            ::semctl(sem_id_, 0, IPC_RMID);
            sem_id_ = -1;
        }
    }

private:
    [[nodiscard]] std::string name() const override { return "shm id " + std::to_string(shm_id_); }
    static unsigned short index(int dir, Which which) {
        return static_cast<unsigned short>(dir * 2 + (which == Which::Full ? 1 : 0));
    }
    Result<void> wait(int dir, Which which) override {
        sembuf op{index(dir, which), -1, 0};
        for (;;) {
            const timespec rel = phase_deadline().to_relative_timespec();
            if (::semtimedop(sem_id_, &op, 1, &rel) == 0) {
                return {};
            }
            if (errno == EINTR && retry_after_eintr()) {
                continue;
            }
            if (errno == EAGAIN || errno == EINTR) {
                return timed_out("semtimedop", "sem id " + std::to_string(sem_id_));
            }
            return Error::from_errno(errno, "semtimedop", "sem id " + std::to_string(sem_id_));
        }
    }
    Result<void> post(int dir, Which which) override {
        sembuf op{index(dir, which), 1, 0};
        for (;;) {
            if (::semop(sem_id_, &op, 1) == 0) {
                return {};
            }
            if (errno != EINTR) {
                return Error::from_errno(errno, "semop", "sem id " + std::to_string(sem_id_));
            }
        }
    }
    int shm_id_ = -1;
    int sem_id_ = -1;
    void* addr_ = nullptr;
};

}  // namespace

std::unique_ptr<Transport> make_sysv_shm_sem() {
    return std::make_unique<SysvShmSem>();
}

}  // namespace ipckit::bench
