// SPDX-License-Identifier: MIT
// Doorbells: the writers' ring (one byte, never blocking, errors ignored) and the WaitSet's
// socket and slots (docs/design/patterns.md, "The WaitSet and the doorbell").
#include "event/doorbell.hpp"

#include "channel/layout.hpp"
#include "sys/syscall.hpp"

#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ipckit::detail {

static_assert(sizeof(Header) <= kChannelDoorbellOffset,
              "the channel header grew into the doorbell table");
static_assert(kChannelDoorbellOffset + kDoorbellTableBytes <= kHeaderBytes);
static_assert(kChannelDoorbellOffset % 64 == 0);

namespace {

constexpr char kPrefix[] = "ipckit-bell-";
constexpr std::size_t kPrefixLen = sizeof(kPrefix) - 1;

/// sockaddr_un of the abstract name "\0ipckit-bell-" + 32 hex digits of addr.
socklen_t make_address(const std::uint64_t (&addr)[2], sockaddr_un& sa) noexcept {
    static constexpr char kHex[] = "0123456789abcdef";
    std::memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    char* p = sa.sun_path + 1;  // sun_path[0] = 0: abstract
    std::memcpy(p, kPrefix, kPrefixLen);
    p += kPrefixLen;
    for (std::uint64_t word : addr) {
        for (int shift = 60; shift >= 0; shift -= 4) {
            // NOLINTNEXTLINE(cppcoreguidelines-pro-bounds-constant-array-index): & 15 < 16
            *p++ = kHex[(word >> shift) & 15U];
        }
    }
    return static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) +
                                  static_cast<std::size_t>(p - sa.sun_path));
}

/// One unbound datagram socket per process for every ring (made on the first ring; -1 if that
/// failed: the rings are then skipped and the WaitSets' slices take over).
int sender_fd() noexcept {
    static const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    return fd;
}

/// Sends one byte to the address; the errno (0 on success). Never blocks, never raises SIGPIPE.
int send_one(const std::uint64_t (&addr)[2]) noexcept {
    const int fd = sender_fd();
    if (fd < 0) {
        return EBADF;
    }
    sockaddr_un sa{};
    const socklen_t len = make_address(addr, sa);
    const char byte = 0;
    if (::sendto(fd,
                 &byte,
                 1,
                 MSG_DONTWAIT | MSG_NOSIGNAL,
                 reinterpret_cast<sockaddr*>(&sa),  // NOLINT
                 len) < 0) {
        return errno;
    }
    return 0;
}

Result<std::uint64_t> random_u64() {
    std::uint64_t v = 0;
    while (v == 0) {  // 0 means "free" in a slot
        IPCKIT_TRY_ASSIGN(auto n, sys::call("getrandom", "doorbell", [&] {
                              return ::getrandom(&v, sizeof v, 0);
                          }));
        if (n != static_cast<ssize_t>(sizeof v)) {
            return Error(std::errc::io_error, "getrandom", "doorbell", "short read");
        }
    }
    return v;
}

}  // namespace

void ring_doorbells_slow(DoorbellTable& t) noexcept {
    // Taking the whole mask: each arming rings once, however many messages follow it.
    const std::uint32_t bits = t.armed.exchange(0, std::memory_order_acq_rel);
    for (std::uint32_t i = 0; i < kDoorbellSlots; ++i) {
        if ((bits & (1U << i)) == 0) {
            continue;
        }
        const std::uint64_t addr[2] = {t.slot(i).addr[0].load(std::memory_order_relaxed),
                                       t.slot(i).addr[1].load(std::memory_order_relaxed)};
        (void)send_one(addr);
    }
}

Result<Doorbell> Doorbell::create() {
    Doorbell d;
    IPCKIT_TRY_ASSIGN(d.addr_[0], random_u64());
    IPCKIT_TRY_ASSIGN(d.addr_[1], random_u64());
    IPCKIT_TRY_ASSIGN(d.token_, random_u64());
    IPCKIT_TRY_ASSIGN(auto raw, sys::call("socket", "doorbell", [] {
                          return ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
                      }));
    d.fd_ = UniqueFd(raw);
    sockaddr_un sa{};
    const std::uint64_t addr[2] = {d.addr_[0], d.addr_[1]};
    const socklen_t len = make_address(addr, sa);
    IPCKIT_TRY(sys::call("bind", d.name(), [&] {
        return ::bind(d.fd_.get(), reinterpret_cast<const sockaddr*>(&sa), len);  // NOLINT
    }));
    return d;
}

std::string Doorbell::name() const {
    sockaddr_un sa{};
    const std::uint64_t addr[2] = {addr_[0], addr_[1]};
    const socklen_t len = make_address(addr, sa);
    return "@" + std::string(sa.sun_path + 1, len - offsetof(sockaddr_un, sun_path) - 1);
}

Result<std::uint32_t> Doorbell::claim(DoorbellTable& t, const std::string& object) const {
    auto take = [&](std::uint32_t i, std::uint64_t expected) {
        auto& s = t.slot(i);
        if (!s.token.compare_exchange_strong(expected, token_, std::memory_order_acq_rel)) {
            return false;
        }
        s.addr[0].store(addr_[0], std::memory_order_relaxed);
        s.addr[1].store(addr_[1], std::memory_order_relaxed);
        return true;
    };
    for (std::uint32_t i = 0; i < kDoorbellSlots; ++i) {
        if (take(i, 0)) {
            return i;
        }
    }
    // All taken: a slot whose socket is gone belongs to a dead WaitSet (the abstract name died
    // with its last descriptor). The probe byte to a live one is a spurious ring: one look.
    for (std::uint32_t i = 0; i < kDoorbellSlots; ++i) {
        auto& s = t.slot(i);
        const std::uint64_t owner = s.token.load(std::memory_order_acquire);
        const std::uint64_t addr[2] = {s.addr[0].load(std::memory_order_relaxed),
                                       s.addr[1].load(std::memory_order_relaxed)};
        if (owner != 0 && owner != token_ && send_one(addr) == ECONNREFUSED && take(i, owner)) {
            return i;
        }
    }
    return Error(
        std::errc::device_or_resource_busy,
        "waitset add",
        object,
        "all " + std::to_string(kDoorbellSlots) + " doorbell slots are held by live WaitSets");
}

void Doorbell::release(DoorbellTable& t, std::uint32_t slot) const noexcept {
    auto& s = t.slot(slot);
    // Our bit first, then the slot: a new owner sets the bit only after it took the slot, so it
    // never loses its bit to our clear.
    std::uint64_t mine = token_;
    if (s.token.load(std::memory_order_acquire) == mine) {
        t.armed.fetch_and(~(1U << slot), std::memory_order_acq_rel);
        (void)s.token.compare_exchange_strong(mine, 0, std::memory_order_acq_rel);
    }
}

bool Doorbell::arm(DoorbellTable& t, std::uint32_t slot) const noexcept {
    auto& s = t.slot(slot);
    if (s.token.load(std::memory_order_relaxed) != token_ ||
        s.addr[0].load(std::memory_order_relaxed) != addr_[0] ||
        s.addr[1].load(std::memory_order_relaxed) != addr_[1]) {
        return false;
    }
    t.armed.fetch_or(1U << slot, std::memory_order_seq_cst);
    return true;
}

std::uint32_t Doorbell::drain() const noexcept {
    std::uint32_t n = 0;
    char buf[64];
    while (::recv(fd_.get(), buf, sizeof buf, MSG_DONTWAIT) >= 0) {
        ++n;
    }
    return n;
}

}  // namespace ipckit::detail
