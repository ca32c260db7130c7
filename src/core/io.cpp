// SPDX-License-Identifier: MIT
#include "ipckit/core/io.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <string>

#include "core/io_sigpipe.hpp"
#include "sys/syscall.hpp"

namespace ipckit {

namespace detail {
std::atomic<bool> force_sigpipe_mask_shield{false};
}  // namespace detail

namespace {

// pwritev2 flag (Linux 6.18, uapi linux/fs.h): the write fails with EPIPE without raising SIGPIPE.
// Older kernels reject unknown flags with EOPNOTSUPP before writing anything.
#ifdef RWF_NOSIGNAL
constexpr int kRwfNoSignal = RWF_NOSIGNAL;
static_assert(RWF_NOSIGNAL == 0x100);
#else
constexpr int kRwfNoSignal = 0x100;
#endif

// Blocks SIGPIPE in this thread while alive; a SIGPIPE the guarded write raised is consumed
// before the old mask returns, so it is never delivered. Two system calls (block, restore) when the
// thread does not already block SIGPIPE; none otherwise. No sigpending() check is needed: while
// SIGPIPE was unblocked in this thread, no thread-directed SIGPIPE could have been left pending,
// so the one consumed after EPIPE is the one our write raised.
class SigpipeShield {
public:
    SigpipeShield() noexcept {
        sigset_t pipe_only;
        sigemptyset(&pipe_only);
        sigaddset(&pipe_only, SIGPIPE);
        pthread_sigmask(SIG_BLOCK, &pipe_only, &old_);
        // NOLINTNEXTLINE(cppcoreguidelines-prefer-member-initializer): needs old_ filled first
        already_blocked_ = sigismember(&old_, SIGPIPE) == 1;
    }
    SigpipeShield(const SigpipeShield&) = delete;
    SigpipeShield& operator=(const SigpipeShield&) = delete;
    SigpipeShield(SigpipeShield&&) = delete;
    SigpipeShield& operator=(SigpipeShield&&) = delete;
    ~SigpipeShield() {
        if (already_blocked_) {
            return;
        }
        if (raised_) {
            sigset_t pipe_only;
            sigemptyset(&pipe_only);
            sigaddset(&pipe_only, SIGPIPE);
            const timespec zero{0, 0};
            const int saved = errno;
            while (sigtimedwait(&pipe_only, nullptr, &zero) < 0 && errno == EINTR) {
            }
            errno = saved;
        }
        pthread_sigmask(SIG_SETMASK, &old_, nullptr);
    }
    void note_epipe() noexcept { raised_ = true; }

private:
    sigset_t old_{};
    bool already_blocked_ = false;
    bool raised_ = false;
};

// Waits for `events` on fd until the deadline; false if it passed first.
Result<bool> wait_ready(int fd, short events, Deadline deadline, std::string_view object) {
    for (;;) {
        pollfd p{fd, events, 0};
        const int rc = ::poll(&p, 1, deadline.to_poll_timeout_ms());
        if (rc > 0) {
            return true;
        }
        if (rc == 0) {
            if (deadline.expired()) {
                return false;
            }
            continue;  // woke a hair early (rounding); poll again for the rest
        }
        if (errno != EINTR) {
            return sys::last_error("poll", object);
        }
    }
}

// Set once ignore_sigpipe_process_wide() has made SIGPIPE harmless for the whole process.
std::atomic<bool> g_sigpipe_ignored{false};

// Whether RWF_NOSIGNAL works: 0 not known yet, 1 yes, -1 no. A property of the running kernel,
// so once known it holds for the life of the process (and of its forked children).
std::atomic<int> g_rwf_nosignal{0};

// Decides g_rwf_nosignal: 1 or -1, or 0 if this attempt could not tell.
int probe_rwf_nosignal() noexcept {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
        return 0;
    }
    ::close(fds[0]);
    const int saved = errno;
    int verdict = 0;
    {
        // Blocked, so a kernel that raised SIGPIPE anyway could not hurt; consumed below if so.
        SigpipeShield shield;
        sigset_t pending;
        sigemptyset(&pending);
        ::sigpending(&pending);
        if (sigismember(&pending, SIGPIPE) != 1) {  // else a SIGPIPE we did not raise: undecided
            char byte = 0;
            iovec v{&byte, 1};
            const ssize_t n = ::pwritev2(fds[1], &v, 1, -1, kRwfNoSignal);
            const int err = errno;
            sigemptyset(&pending);
            ::sigpending(&pending);
            const bool raised = sigismember(&pending, SIGPIPE) == 1;
            if (raised) {
                shield.note_epipe();
            }
            verdict = (n < 0 && err == EPIPE && !raised) ? 1 : -1;
        }
    }
    ::close(fds[1]);
    errno = saved;
    return verdict;
}

bool rwf_nosignal_usable() noexcept {
    int state = g_rwf_nosignal.load(std::memory_order_relaxed);
    if (state == 0) {
        state = probe_rwf_nosignal();
        if (state != 0) {
            g_rwf_nosignal.store(state, std::memory_order_relaxed);
        }
    }
    return state > 0;
}

ssize_t raw_write(int fd, std::span<const std::byte> bytes, FdKind kind) {
    if (kind == FdKind::Socket) {
        return ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    }
    if (g_sigpipe_ignored.load(std::memory_order_relaxed)) {
        return ::write(fd, bytes.data(), bytes.size());
    }
    // One system call instead of three: pwritev2 at the current position (offset -1, exactly
    // write(2)'s semantics) with RWF_NOSIGNAL. Empty writes keep the old path (the kernel returns
    // before looking at the flags). EOPNOTSUPP means this file's driver has no iterator write
    // (flags are refused before anything is written): fall back to the shield.
    if (!bytes.empty() && !detail::force_sigpipe_mask_shield.load(std::memory_order_relaxed) &&
        rwf_nosignal_usable()) {
        // NOLINTNEXTLINE(cppcoreguidelines-pro-type-const-cast): iovec is shared with readv
        iovec v{const_cast<std::byte*>(bytes.data()), bytes.size()};
        const ssize_t n = ::pwritev2(fd, &v, 1, -1, kRwfNoSignal);
        if (n >= 0 || errno != EOPNOTSUPP) {
            return n;
        }
    }
    SigpipeShield shield;
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EPIPE) {
        shield.note_epipe();
    }
    return n;
}

}  // namespace

bool detail::kernel_honours_rwf_nosignal() noexcept { return rwf_nosignal_usable(); }

Result<void> ignore_sigpipe_process_wide() {
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    sigemptyset(&ignore.sa_mask);
    IPCKIT_TRY(sys::call_once("sigaction", "SIGPIPE", [&] { return ::sigaction(SIGPIPE, &ignore, nullptr); }));
    g_sigpipe_ignored.store(true, std::memory_order_relaxed);
    return {};
}

Result<std::optional<std::size_t>> write_some(int fd,
                                              std::span<const std::byte> bytes,
                                              FdKind kind,
                                              Deadline deadline,
                                              std::string_view object) {
    for (;;) {
        const ssize_t n = raw_write(fd, bytes, kind);
        if (n >= 0) {
            return std::optional<std::size_t>(static_cast<std::size_t>(n));
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            return sys::last_error("write", object);
        }
        IPCKIT_TRY_ASSIGN(auto ready, wait_ready(fd, POLLOUT, deadline, object));
        if (!ready) {
            return std::optional<std::size_t>();
        }
    }
}

Result<void> write_all(int fd,
                       std::span<const std::byte> bytes,
                       FdKind kind,
                       Deadline deadline,
                       std::string_view object) {
    std::size_t done = 0;
    while (done < bytes.size()) {
        if (done > 0 && deadline.expired()) {
            return Error(std::errc::timed_out, "write", std::string(object),
                         "wrote " + std::to_string(done) + " of " + std::to_string(bytes.size()) +
                             " bytes");
        }
        auto n = write_some(fd, bytes.subspan(done), kind, deadline, object);
        if (!n) {
            return std::move(n).error().with_detail("wrote " + std::to_string(done) + " of " +
                                                    std::to_string(bytes.size()) + " bytes");
        }
        if (!n->has_value()) {
            return Error(std::errc::timed_out, "write", std::string(object),
                         "wrote " + std::to_string(done) + " of " + std::to_string(bytes.size()) +
                             " bytes");
        }
        done += **n;
    }
    return {};
}

Result<std::optional<std::size_t>> read_some(int fd,
                                             std::span<std::byte> bytes,
                                             Deadline deadline,
                                             std::string_view object) {
    // With a finite deadline, poll first so a blocking descriptor cannot sleep past it.
    if (!deadline.is_never()) {
        IPCKIT_TRY_ASSIGN(auto ready, wait_ready(fd, POLLIN, deadline, object));
        if (!ready) {
            return std::optional<std::size_t>();
        }
    }
    for (;;) {
        const ssize_t n = ::read(fd, bytes.data(), bytes.size());
        if (n >= 0) {
            return std::optional<std::size_t>(static_cast<std::size_t>(n));
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            return sys::last_error("read", object);
        }
        IPCKIT_TRY_ASSIGN(auto ready, wait_ready(fd, POLLIN, deadline, object));
        if (!ready) {
            return std::optional<std::size_t>();
        }
    }
}

Result<std::size_t> read_exact(int fd,
                               std::span<std::byte> bytes,
                               Deadline deadline,
                               std::string_view object) {
    std::size_t done = 0;
    while (done < bytes.size()) {
        auto n = read_some(fd, bytes.subspan(done), deadline, object);
        if (!n) {
            return std::move(n).error().with_detail("read " + std::to_string(done) + " of " +
                                                    std::to_string(bytes.size()) + " bytes");
        }
        if (!n->has_value()) {
            return Error(std::errc::timed_out, "read", std::string(object),
                         "read " + std::to_string(done) + " of " + std::to_string(bytes.size()) +
                             " bytes");
        }
        if (**n == 0) {
            break;  // end of file
        }
        done += **n;
    }
    return done;
}

}  // namespace ipckit
