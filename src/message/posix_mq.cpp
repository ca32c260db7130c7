// SPDX-License-Identifier: MIT
#include "ipckit/message/posix_mq.hpp"

#include "ipckit/core/assert.hpp"
#include "message/proc_limits.hpp"
#include "sys/syscall.hpp"

#include <fcntl.h>
#include <mqueue.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace ipckit {

namespace detail {
struct MqCallback {
    std::function<void()> fn;
};
}  // namespace detail

namespace {

using detail::proc_value_text;
using detail::read_proc_number;
using detail::sysctl_name;

constexpr const char* kMsgMax = "/proc/sys/fs/mqueue/msg_max";
constexpr const char* kMsgsizeMax = "/proc/sys/fs/mqueue/msgsize_max";
constexpr const char* kQueuesMax = "/proc/sys/fs/mqueue/queues_max";

int access_flags(Access access) {
    switch (access) {
        case Access::ReadOnly:
            return O_RDONLY;
        case Access::WriteOnly:
            return O_WRONLY;
        case Access::ReadWrite:
            return O_RDWR;
    }
    return O_RDWR;
}

std::string limit_detail(const char* what, long requested, const char* path) {
    return std::string(what) + " " + std::to_string(requested) + " > " + proc_value_text(path) +
           "; raise with sysctl " + sysctl_name(path);
}

// mq_open's errnos are ambiguous (F2, F3): EINVAL may be either attribute, EMFILE may be
// RLIMIT_MSGQUEUE or RLIMIT_NOFILE. Compare with the limits ourselves to name the right one.
Error explain_open_error(Error e, const std::optional<PosixMq::Limits>& limits, bool creating) {
    const int err = e.errno_value();
    if (err == EINVAL && creating && limits) {
        const auto msg_max = read_proc_number(kMsgMax);
        const auto msgsize_max = read_proc_number(kMsgsizeMax);
        if (msg_max && limits->max_messages > *msg_max) {
            return e.with_detail(limit_detail("maxmsg", limits->max_messages, kMsgMax));
        }
        if (msgsize_max && limits->max_message_size > *msgsize_max) {
            return e.with_detail(limit_detail("msgsize", limits->max_message_size, kMsgsizeMax));
        }
    }
    if (err == ENOSPC) {
        const auto queues_max = read_proc_number(kQueuesMax);
        return e.with_detail("queues_max (" + (queues_max ? std::to_string(*queues_max) : "?") +
                             ") reached: " + proc_value_text(kQueuesMax) + "; raise with sysctl " +
                             sysctl_name(kQueuesMax));
    }
    if (err == EMFILE) {
        // If another descriptor can still be opened, the per-process fd limit is not the cause.
        const UniqueFd probe(::open("/dev/null", O_RDONLY | O_CLOEXEC));
        rlimit rl{};
        if (probe.valid() && ::getrlimit(RLIMIT_MSGQUEUE, &rl) == 0) {
            std::string need;
            if (limits) {
                need = "; this queue needs at least maxmsg*msgsize = " +
                       std::to_string(limits->max_messages * limits->max_message_size) + " bytes";
            }
            const std::string cur =
                rl.rlim_cur == RLIM_INFINITY ? "unlimited" : std::to_string(rl.rlim_cur);
            return e.with_detail("RLIMIT_MSGQUEUE (" + cur +
                                 " bytes for all of this user's queues) would be exceeded" + need +
                                 "; raise with ulimit -q or setrlimit(RLIMIT_MSGQUEUE)");
        }
        rlimit nofile{};
        ::getrlimit(RLIMIT_NOFILE, &nofile);
        return e.with_detail("RLIMIT_NOFILE (" + std::to_string(nofile.rlim_cur) + ") reached");
    }
    return e;
}

// Runs f(abs_timeout) (f(nullptr) means "no timeout") until it succeeds, fails, or `deadline`
// passes. mq_timed* only take CLOCK_REALTIME deadlines, so each call is armed for at most
// kRealtimeSlice and the monotonic deadline decides when to stop: a wall-clock jump cannot stretch
// or cut the wait (B36). Empty result: timed out, or would block (O_NONBLOCK descriptor).
template <class F>
Result<std::optional<long>> run_until(const char* op,
                                      const std::string& object,
                                      Deadline deadline,
                                      F&& f) {
    if (deadline.is_never()) {
        auto r = sys::call(op, object, [&] { return static_cast<long>(f(nullptr)); });
        if (!r) {
            if (r.error() == std::errc::resource_unavailable_try_again) {
                return std::optional<long>();
            }
            return std::move(r).error();
        }
        return std::optional<long>(*r);
    }
    for (;;) {
        const Deadline slice = std::min(deadline, Deadline::after(Deadline::kRealtimeSlice));
        const timespec abs = slice.to_realtime_timespec();
        auto r =
            sys::call_maybe(op, object, {ETIMEDOUT}, [&] { return static_cast<long>(f(&abs)); });
        if (!r) {
            if (r.error() == std::errc::resource_unavailable_try_again) {
                return std::optional<long>();
            }
            return std::move(r).error();
        }
        if (*r) {
            return std::optional<long>(**r);
        }
        if (deadline.expired()) {
            return std::optional<long>();
        }
    }
}

Error would_block_error(const char* op, const std::string& object) {
    return {std::errc::resource_unavailable_try_again,
            op,
            object,
            "the queue descriptor is non-blocking; use set_non_blocking(false) or try_/_until"};
}

// Thread notifications: the kernel (through glibc's helper thread) hands back only a sigval, so
// the callback is found through a registry keyed by a number. The registry holds weak
// references: a handle destroyed before its notification fires leaves nothing dangling, and a
// notification that fires late finds nothing to call.
struct NotifyRegistry {
    std::mutex mu;
    std::unordered_map<std::uintptr_t, std::weak_ptr<detail::MqCallback>> entries;
    std::uintptr_t next = 1;
};

NotifyRegistry& registry() {
    // Never destroyed: a notification thread may run at exit.
    // NOLINTNEXTLINE(cppcoreguidelines-owning-memory): leaked on purpose
    static auto* r = new NotifyRegistry;
    return *r;
}

std::uintptr_t register_callback(const std::shared_ptr<detail::MqCallback>& cb) {
    NotifyRegistry& r = registry();
    const std::lock_guard lock(r.mu);
    std::erase_if(r.entries, [](const auto& kv) { return kv.second.expired(); });
    const auto key = r.next++;
    r.entries.emplace(key, cb);
    return key;
}

void forget_callback(std::uintptr_t key) {
    NotifyRegistry& r = registry();
    const std::lock_guard lock(r.mu);
    r.entries.erase(key);
}

void notify_trampoline(sigval value) {
    std::shared_ptr<detail::MqCallback> cb;
    {
        NotifyRegistry& r = registry();
        const std::lock_guard lock(r.mu);
        const auto it =
            r.entries.find(reinterpret_cast<std::uintptr_t>(value.sival_ptr));  // NOLINT: key
        if (it != r.entries.end()) {
            cb = it->second.lock();
            r.entries.erase(it);  // one-shot, like the registration
        }
    }
    if (cb && cb->fn) {
        cb->fn();  // outside the lock: the callback typically re-registers
    }
}

Error explain_notify_error(Error e) {
    if (e.errno_value() == EBUSY) {
        return e.with_detail(
            "queue already has a notification registrant (one process per queue; the registration "
            "ends when that process is notified, cancels, closes the queue or dies)");
    }
    return e;
}

}  // namespace

namespace {
// A queue someone else made first (a squatter) is refused unless its owner is trusted; one we
// just created is ours and passes.
Result<void> check_owner(int fd, const PosixName& name, const Ownership& ownership) {
    struct stat st {};
    IPCKIT_TRY(sys::call("fstat", name.str(), [&] { return ::fstat(fd, &st); }));
    return ownership.check(st.st_uid, "mq_open", name.str());
}
}  // namespace

Result<PosixMq> PosixMq::open_impl(const PosixName& name,
                                   OpenMode mode,
                                   std::optional<Limits> limits,
                                   Permissions permissions,
                                   Access access,
                                   const Ownership& ownership) {
    const bool creating = mode != OpenMode::OpenExisting;
    if (creating && limits) {
        if (limits->max_messages < 1) {
            return Error(std::errc::invalid_argument,
                         "mq_open",
                         name.str(),
                         "maxmsg " + std::to_string(limits->max_messages) + " must be >= 1");
        }
        if (limits->max_message_size < 1) {
            return Error(std::errc::invalid_argument,
                         "mq_open",
                         name.str(),
                         "msgsize " + std::to_string(limits->max_message_size) + " must be >= 1");
        }
    }
    mq_attr attr{};
    if (limits) {
        attr.mq_maxmsg = limits->max_messages;
        attr.mq_msgsize = limits->max_message_size;
    }
    const int flags = access_flags(access) | O_CLOEXEC | open_flags(mode);
    auto fd = sys::call("mq_open", name.str(), [&] {
        return ::mq_open(name.c_str(), flags, permissions.bits(), limits ? &attr : nullptr);
    });
    if (!fd) {
        return explain_open_error(std::move(fd).error(), limits, creating);
    }
    UniqueFd owned(*fd);
    if (mode != OpenMode::CreateExclusive) {
        IPCKIT_TRY(check_owner(owned.get(), name, ownership));
    }
    mq_attr got{};
    IPCKIT_TRY(
        sys::call("mq_getattr", name.str(), [&] { return ::mq_getattr(owned.get(), &got); }));
    if (mode == OpenMode::OpenOrCreate && limits &&
        (got.mq_maxmsg != limits->max_messages || got.mq_msgsize != limits->max_message_size)) {
        return Error(std::errc::file_exists,
                     "mq_open",
                     name.str(),
                     "queue exists with maxmsg " + std::to_string(got.mq_maxmsg) + " msgsize " +
                         std::to_string(got.mq_msgsize) + "; requested maxmsg " +
                         std::to_string(limits->max_messages) + " msgsize " +
                         std::to_string(limits->max_message_size));
    }
    return PosixMq(std::move(owned),
                   name,
                   static_cast<std::size_t>(got.mq_msgsize),
                   static_cast<std::size_t>(got.mq_maxmsg));
}

Result<PosixMq> PosixMq::create(const PosixName& name,
                                Limits limits,
                                Permissions permissions,
                                Access access) {
    return open_impl(name, OpenMode::CreateExclusive, limits, permissions, access, Ownership());
}

Result<PosixMq> PosixMq::open(const PosixName& name, Access access, const Ownership& ownership) {
    return open_impl(name, OpenMode::OpenExisting, std::nullopt, Permissions(), access, ownership);
}

Result<PosixMq> PosixMq::open_or_create(const PosixName& name,
                                        Limits limits,
                                        Permissions permissions,
                                        Access access,
                                        const Ownership& ownership) {
    return open_impl(name, OpenMode::OpenOrCreate, limits, permissions, access, ownership);
}

Result<void> PosixMq::unlink(const PosixName& name) {
    IPCKIT_TRY(sys::call("mq_unlink", name.str(), [&] { return ::mq_unlink(name.c_str()); }));
    return {};
}

Result<bool> PosixMq::send_impl(std::span<const std::byte> message,
                                unsigned priority,
                                Deadline deadline) {
    IPCKIT_ASSERT(fd_.valid(), "PosixMq used after move");
    if (priority > kMaxPriority) {
        return Error(std::errc::invalid_argument,
                     "mq_send",
                     name_.str(),
                     "priority " + std::to_string(priority) + " > " + std::to_string(kMaxPriority) +
                         " (MQ_PRIO_MAX - 1)");
    }
    if (message.size() > msgsize_) {
        return Error(std::errc::message_size,
                     "mq_send",
                     name_.str(),
                     "message " + std::to_string(message.size()) + " bytes > queue msgsize " +
                         std::to_string(msgsize_));
    }
    // An empty span may have a null data(); glibc declares msg_ptr nonnull even for 0 bytes.
    static constexpr char kEmpty = '\0';
    const char* data =
        message.empty() ? &kEmpty : reinterpret_cast<const char*>(message.data());  // NOLINT
    IPCKIT_TRY_ASSIGN(
        auto r, run_until("mq_send", name_.str(), deadline, [&](const timespec* abs) {
            // glibc declares abs_timeout nonnull: the untimed call is a different function.
            return abs != nullptr ? ::mq_timedsend(fd_.get(), data, message.size(), priority, abs)
                                  : ::mq_send(fd_.get(), data, message.size(), priority);
        }));
    return r.has_value();
}

Result<void> PosixMq::send_failed(std::span<const std::byte> message, unsigned priority) {
    // What run_until does with a -1 from an untimed call, without making the call again.
    const int err = errno;
    if (err == EINTR) {
        return send_checked(message, priority);
    }
    if (err == EAGAIN) {
        return would_block_error("mq_send", name_.str());
    }
    return Error::from_errno(err, "mq_send", name_.str());
}

Result<void> PosixMq::send_checked(std::span<const std::byte> message, unsigned priority) {
    IPCKIT_TRY_ASSIGN(auto r, send_impl(message, priority, Deadline::never()));
    if (!r) {
        return would_block_error("mq_send", name_.str());
    }
    return {};
}

Result<bool> PosixMq::try_send(std::span<const std::byte> message, unsigned priority) {
    return send_impl(message, priority, Deadline::now());
}

Result<bool> PosixMq::send_until(std::span<const std::byte> message,
                                 unsigned priority,
                                 Deadline deadline) {
    return send_impl(message, priority, deadline);
}

Result<std::optional<PosixMq::Received>> PosixMq::receive_impl(std::span<std::byte> buffer,
                                                               Deadline deadline) {
    IPCKIT_ASSERT(fd_.valid(), "PosixMq used after move");
    if (buffer.size() < msgsize_) {
        // The kernel compares with the queue's msgsize, not the message (F4); say so.
        return Error(std::errc::message_size,
                     "mq_receive",
                     name_.str(),
                     "buffer " + std::to_string(buffer.size()) + " < queue msgsize " +
                         std::to_string(msgsize_));
    }
    unsigned priority = 0;
    auto* data = reinterpret_cast<char*>(buffer.data());  // NOLINT: bytes as chars
    IPCKIT_TRY_ASSIGN(
        auto r, run_until("mq_receive", name_.str(), deadline, [&](const timespec* abs) {
            return abs != nullptr
                       ? ::mq_timedreceive(fd_.get(), data, buffer.size(), &priority, abs)
                       : ::mq_receive(fd_.get(), data, buffer.size(), &priority);
        }));
    if (!r) {
        return std::optional<Received>();
    }
    return std::optional<Received>(Received{static_cast<std::size_t>(*r), priority});
}

Result<PosixMq::Received> PosixMq::receive_failed(std::span<std::byte> buffer) {
    const int err = errno;
    if (err == EINTR) {
        return receive_checked(buffer);
    }
    if (err == EAGAIN) {
        return would_block_error("mq_receive", name_.str());
    }
    return Error::from_errno(err, "mq_receive", name_.str());
}

Result<PosixMq::Received> PosixMq::receive_checked(std::span<std::byte> buffer) {
    IPCKIT_TRY_ASSIGN(auto r, receive_impl(buffer, Deadline::never()));
    if (!r) {
        return would_block_error("mq_receive", name_.str());
    }
    return *r;
}

Result<std::optional<PosixMq::Received>> PosixMq::try_receive(std::span<std::byte> buffer) {
    return receive_impl(buffer, Deadline::now());
}

Result<std::optional<PosixMq::Received>> PosixMq::receive_until(std::span<std::byte> buffer,
                                                                Deadline deadline) {
    return receive_impl(buffer, deadline);
}

Result<std::optional<PosixMq::Message>> PosixMq::receive_owned(Deadline deadline) {
    Message m;
    m.data.resize(msgsize_);
    IPCKIT_TRY_ASSIGN(auto r, receive_impl(m.data, deadline));
    if (!r) {
        return std::optional<Message>();
    }
    m.data.resize(r->size);
    m.priority = r->priority;
    return std::optional<Message>(std::move(m));
}

Result<PosixMq::Message> PosixMq::receive() {
    IPCKIT_TRY_ASSIGN(auto r, receive_owned(Deadline::never()));
    if (!r) {
        return would_block_error("mq_receive", name_.str());
    }
    return std::move(*r);
}

Result<std::optional<PosixMq::Message>> PosixMq::try_receive() {
    return receive_owned(Deadline::now());
}

Result<std::optional<PosixMq::Message>> PosixMq::receive_until(Deadline deadline) {
    return receive_owned(deadline);
}

Result<PosixMq::Attributes> PosixMq::attributes() const {
    IPCKIT_ASSERT(fd_.valid(), "PosixMq used after move");
    mq_attr a{};
    IPCKIT_TRY(sys::call("mq_getattr", name_.str(), [&] { return ::mq_getattr(fd_.get(), &a); }));
    return Attributes{a.mq_maxmsg, a.mq_msgsize, a.mq_curmsgs, (a.mq_flags & O_NONBLOCK) != 0};
}

Result<PosixMq::Owner> PosixMq::ownership() const {
    IPCKIT_ASSERT(fd_.valid(), "PosixMq used after move");
    struct stat st {};
    IPCKIT_TRY(sys::call("fstat", name_.str(), [&] { return ::fstat(fd_.get(), &st); }));
    return Owner{st.st_uid, st.st_gid, Permissions(st.st_mode & 07777U)};
}

Result<void> PosixMq::set_non_blocking(bool non_blocking) {
    IPCKIT_ASSERT(fd_.valid(), "PosixMq used after move");
    mq_attr a{};
    a.mq_flags = non_blocking ? O_NONBLOCK : 0;
    IPCKIT_TRY(
        sys::call("mq_setattr", name_.str(), [&] { return ::mq_setattr(fd_.get(), &a, nullptr); }));
    return {};
}

Result<void> PosixMq::notify_by_thread(std::function<void()> callback) {
    IPCKIT_ASSERT(fd_.valid(), "PosixMq used after move");
    auto cb = std::make_shared<detail::MqCallback>(detail::MqCallback{std::move(callback)});
    const auto key = register_callback(cb);
    sigevent sev{};
    sev.sigev_notify = SIGEV_THREAD;
    sev.sigev_notify_function = notify_trampoline;
    sev.sigev_value.sival_ptr = reinterpret_cast<void*>(key);  // NOLINT: a key, not a pointer
    auto r = sys::call("mq_notify", name_.str(), [&] { return ::mq_notify(fd_.get(), &sev); });
    if (!r) {
        forget_callback(key);
        return explain_notify_error(std::move(r).error());
    }
    callback_ = std::move(cb);
    return {};
}

Result<void> PosixMq::notify_by_signal(int signo, int value) {
    IPCKIT_ASSERT(fd_.valid(), "PosixMq used after move");
    sigevent sev{};
    sev.sigev_notify = SIGEV_SIGNAL;
    sev.sigev_signo = signo;
    sev.sigev_value.sival_int = value;
    auto r = sys::call("mq_notify", name_.str(), [&] { return ::mq_notify(fd_.get(), &sev); });
    if (!r) {
        return explain_notify_error(std::move(r).error());
    }
    callback_.reset();
    return {};
}

Result<void> PosixMq::cancel_notification() {
    IPCKIT_ASSERT(fd_.valid(), "PosixMq used after move");
    IPCKIT_TRY(
        sys::call("mq_notify", name_.str(), [&] { return ::mq_notify(fd_.get(), nullptr); }));
    callback_.reset();
    return {};
}

}  // namespace ipckit
