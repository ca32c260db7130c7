// SPDX-License-Identifier: MIT
// Program 15.31: where the data (bss), the stack, the heap and an attached System V shared
// memory segment end up in the address space.
#include "ipckit/shm/sysv_shm.hpp"

#include <cstdio>
#include <cstdlib>

namespace {
constexpr std::size_t kArraySize = 40000;
constexpr std::size_t kMallocSize = 100000;
constexpr std::size_t kShmSize = 100000;
char array[kArraySize];  // uninitialised data = bss
}  // namespace

int main() {
    int on_stack = 0;
    std::printf("array[] from %p to %p\n",
                static_cast<void*>(&array[0]),
                static_cast<void*>(&array[kArraySize]));
    std::printf("stack around %p\n", static_cast<void*>(&on_stack));
    // The seed program shows where malloc's heap lies, so this stays malloc.
    // NOLINTNEXTLINE(cppcoreguidelines-no-malloc,cppcoreguidelines-owning-memory)
    auto* ptr = static_cast<char*>(std::malloc(kMallocSize));
    if (ptr == nullptr) {
        std::perror("malloc error");
        return 1;
    }
    std::printf(
        "malloced from %p to %p\n", static_cast<void*>(ptr), static_cast<void*>(ptr + kMallocSize));

    auto seg = ipckit::SysvShm::create(ipckit::SysvKey::private_key(), kShmSize);
    if (!seg) {
        std::fprintf(stderr, "%s\n", seg.error().message().c_str());
        std::free(ptr);  // NOLINT(cppcoreguidelines-no-malloc,cppcoreguidelines-owning-memory)
        return 1;
    }
    auto shm = seg->attach();
    if (!shm) {
        std::fprintf(stderr, "%s\n", shm.error().message().c_str());
        (void)seg->remove();
        std::free(ptr);  // NOLINT(cppcoreguidelines-no-malloc,cppcoreguidelines-owning-memory)
        return 1;
    }
    std::printf("shared memory attached from %p to %p\n",
                static_cast<void*>(shm->data()),
                static_cast<void*>(shm->data() + kShmSize));
    // IPC_RMID now: the segment goes away when we detach (at exit), never left in ipcs.
    if (auto r = seg->remove(); !r) {
        std::fprintf(stderr, "%s\n", r.error().message().c_str());
        std::free(ptr);  // NOLINT(cppcoreguidelines-no-malloc,cppcoreguidelines-owning-memory)
        return 1;
    }
    std::printf("segment id %d marked for removal\n", seg->id());
    std::free(ptr);  // NOLINT(cppcoreguidelines-no-malloc,cppcoreguidelines-owning-memory)
    return 0;
}
