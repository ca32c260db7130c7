// SPDX-License-Identifier: MIT
#include "ipckit/sync/event_fd.hpp"

#include "sys/syscall.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <string>

namespace ipckit {

namespace {

constexpr std::string_view kObject = "eventfd";

// Waits until `fd` is ready for `events` or `deadline`; false = timed out.
Result<bool> wait_ready(int fd, short events, Deadline deadline) {
    IPCKIT_TRY_ASSIGN(
        auto r, sys::call("poll", kObject, [&] {
            pollfd p{fd, events, 0};
            return ::poll(&p, 1, deadline.to_poll_timeout_ms());  // recomputed on every EINTR retry
        }));
    return r > 0;
}

}  // namespace

Result<EventFd> EventFd::create(unsigned int initial, EventFdMode mode) {
    const int flags =
        EFD_CLOEXEC | EFD_NONBLOCK | (mode == EventFdMode::Semaphore ? EFD_SEMAPHORE : 0);
    IPCKIT_TRY_ASSIGN(auto fd,
                      sys::call("eventfd", kObject, [&] { return ::eventfd(initial, flags); }));
    return EventFd(UniqueFd(fd), mode);
}

Result<EventFd> EventFd::adopt(UniqueFd fd, EventFdMode mode) {
    IPCKIT_TRY_ASSIGN(auto flags, sys::call("fcntl(F_GETFL)", kObject, [&] {
                          return ::fcntl(fd.get(), F_GETFL);
                      }));
    IPCKIT_TRY(sys::call("fcntl(F_SETFL)", kObject, [&] {
                   return ::fcntl(fd.get(), F_SETFL, flags | O_NONBLOCK);
               }).transform([](int) {}));
    return EventFd(std::move(fd), mode);
}

Result<bool> EventFd::try_write(std::uint64_t value) {
    if (value > kMaxValue) {
        return Error(std::errc::invalid_argument,
                     "eventfd_write",
                     std::string(kObject),
                     "value 0xffffffffffffffff is reserved; the counter holds at most 2^64-2");
    }
    IPCKIT_TRY_ASSIGN(auto r, sys::call_maybe("eventfd_write", kObject, {EAGAIN}, [&] {
                          return ::write(fd_.get(), &value, sizeof value);
                      }));
    return r.has_value();
}

Result<bool> EventFd::write_until(std::uint64_t value, Deadline deadline) {
    for (;;) {
        auto r = try_write(value);
        if (!r || *r) {
            return r;
        }
        IPCKIT_TRY_ASSIGN(auto ready, wait_ready(fd_.get(), POLLOUT, deadline));
        if (!ready) {
            return false;
        }
    }
}

Result<void> EventFd::write(std::uint64_t value) {
    IPCKIT_TRY(write_until(value, Deadline::never()));
    return {};
}

Result<std::optional<std::uint64_t>> EventFd::try_read() {
    std::uint64_t value = 0;
    IPCKIT_TRY_ASSIGN(auto r, sys::call_maybe("eventfd_read", kObject, {EAGAIN}, [&] {
                          return ::read(fd_.get(), &value, sizeof value);
                      }));
    if (!r.has_value()) {
        return std::optional<std::uint64_t>();
    }
    return std::optional<std::uint64_t>(value);
}

Result<std::optional<std::uint64_t>> EventFd::read_until(Deadline deadline) {
    for (;;) {
        auto r = try_read();
        if (!r || r->has_value()) {
            return r;
        }
        IPCKIT_TRY_ASSIGN(auto ready, wait_ready(fd_.get(), POLLIN, deadline));
        if (!ready) {
            return std::optional<std::uint64_t>();
        }
    }
}

Result<std::uint64_t> EventFd::read() {
    IPCKIT_TRY_ASSIGN(auto r, read_until(Deadline::never()));
    return *r;
}

}  // namespace ipckit
