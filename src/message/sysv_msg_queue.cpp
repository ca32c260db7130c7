// SPDX-License-Identifier: MIT
#include "ipckit/message/sysv_msg_queue.hpp"

#include "ipckit/core/assert.hpp"
#include "message/proc_limits.hpp"
#include "sys/syscall.hpp"

#include <sys/ipc.h>
#include <sys/msg.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <string>
#include <thread>

namespace ipckit {

namespace {

using detail::proc_value_text;
using detail::read_proc_number;
using detail::sysctl_name;

constexpr const char* kMsgmax = "/proc/sys/kernel/msgmax";
constexpr const char* kMsgmnb = "/proc/sys/kernel/msgmnb";
constexpr const char* kMsgmni = "/proc/sys/kernel/msgmni";
constexpr std::size_t kMaxOwnedBuffer = std::size_t{64} << 20U;  // cap for the owned-buffer growth

// msgsnd/msgrcv take `struct { long mtype; char mtext[]; }`. One per-thread scratch area,
// aligned for the long, grows to the largest message this thread has moved.
std::byte* scratch(std::size_t payload) {
    thread_local std::vector<long> buf;
    const std::size_t longs = 1 + (payload + sizeof(long) - 1) / sizeof(long);
    if (buf.size() < longs) {
        buf.resize(longs);
    }
    return reinterpret_cast<std::byte*>(buf.data());  // NOLINT: the kernel's msgbuf layout
}

// Size of the owned receive buffer: msgmax as last read (no message can be larger unless the
// sysctl was lowered since; receive_owned grows on E2BIG).
std::size_t owned_buffer_size() {
    static std::atomic<std::size_t> cached{0};
    std::size_t n = cached.load(std::memory_order_relaxed);
    if (n == 0) {
        n = static_cast<std::size_t>(read_proc_number(kMsgmax).value_or(8192));
        cached.store(n, std::memory_order_relaxed);
    }
    return n;
}

Error explain(Error e, std::size_t size = 0) {
    switch (e.errno_value()) {
        case EIDRM:
            return e.with_detail("the queue was removed while this call was waiting");
        case ENOSPC:
            return e.with_detail(
                "the system-wide queue limit " + proc_value_text(kMsgmni) +
                " is reached; remove unused queues (ipcs -q) or raise with sysctl " +
                sysctl_name(kMsgmni));
        case EINVAL: {
            const auto msgmax = read_proc_number(kMsgmax);
            if (msgmax && size > static_cast<std::size_t>(*msgmax)) {
                return e.with_detail("message " + std::to_string(size) + " bytes > " +
                                     proc_value_text(kMsgmax) + "; raise with sysctl " +
                                     sysctl_name(kMsgmax));
            }
            return e.with_detail("no queue with this id (was it removed?)");
        }
        default:
            return e;
    }
}

// Polls an IPC_NOWAIT operation until `deadline`, sleeping with a doubling back-off between
// attempts (SysV queues have no timed send or receive).
class Backoff {
public:
    // false once the deadline passed; otherwise sleeps a little (never past the deadline).
    bool wait(Deadline deadline) {
        if (deadline.expired()) {
            return false;
        }
        const auto pause = std::min<std::chrono::nanoseconds>(step_, deadline.remaining());
        std::this_thread::sleep_for(pause);
        step_ = std::min<std::chrono::nanoseconds>(step_ * 2, kMaxStep);
        return true;
    }

private:
    static constexpr std::chrono::nanoseconds kMaxStep = std::chrono::milliseconds(5);
    std::chrono::nanoseconds step_ = std::chrono::microseconds(50);
};

}  // namespace

std::string SysvMsgQueue::object() const {
    return "msqid " + std::to_string(id_);
}

Result<SysvMsgQueue> SysvMsgQueue::get(SysvKey key,
                                       int flags,
                                       Permissions permissions,
                                       const Ownership* ownership) {
    const std::string object = "key " + key.to_string();
    auto id = sys::call("msgget", object, [&] {
        return ::msgget(key.value(), flags | static_cast<int>(permissions.bits()));
    });
    if (!id) {
        return explain(std::move(id).error());
    }
    SysvMsgQueue q(*id);
    if (ownership != nullptr) {
        IPCKIT_TRY(q.check_owner(*ownership, object));
    }
    return q;
}

Result<SysvMsgQueue> SysvMsgQueue::create(SysvKey key, Permissions permissions) {
    // IPC_PRIVATE always makes a new queue; IPC_EXCL is what makes a numeric key exclusive.
    return get(key, IPC_CREAT | IPC_EXCL, permissions, nullptr);
}

Result<SysvMsgQueue> SysvMsgQueue::open(SysvKey key, const Ownership& ownership) {
    if (key.is_private()) {
        return Error(std::errc::invalid_argument,
                     "msgget",
                     "key private",
                     "an IPC_PRIVATE queue cannot be opened by key; share its id (from_id)");
    }
    // The requested mode bits make msgget check read+write access now rather than at first use.
    return get(key, 0, Permissions(0600), &ownership);
}

Result<SysvMsgQueue> SysvMsgQueue::open_or_create(SysvKey key,
                                                  Permissions permissions,
                                                  const Ownership& ownership) {
    return get(key, IPC_CREAT, permissions, &ownership);
}

Result<SysvMsgQueue> SysvMsgQueue::from_id(int id, const Ownership& ownership) {
    SysvMsgQueue q(id);
    auto st = q.stat();
    if (!st) {
        if (st.error() == std::errc::invalid_argument ||
            st.error() == std::errc::identifier_removed) {
            return Error(
                st.error().code(), "msgctl", q.object(), "no such queue id " + std::to_string(id));
        }
        return std::move(st).error();
    }
    IPCKIT_TRY(ownership.check(st->uid, st->creator_uid, "msgctl", q.object()));
    return q;
}

Result<void> SysvMsgQueue::check_owner(const Ownership& ownership,
                                       const std::string& object) const {
    // A queue someone else made first under our key (a squatter) is refused unless trusted; one
    // we just made (IPC_CREAT) is ours and passes.
    IPCKIT_TRY_ASSIGN(auto st, stat());
    return ownership.check(st.uid, st.creator_uid, "msgget", object);
}

Result<bool> SysvMsgQueue::send_impl(long type,
                                     std::span<const std::byte> message,
                                     Deadline deadline) {
    if (type <= 0) {
        return Error(std::errc::invalid_argument,
                     "msgsnd",
                     object(),
                     "message type " + std::to_string(type) + " must be > 0");
    }
    std::byte* buf = scratch(message.size());
    std::memcpy(buf, &type, sizeof type);
    if (!message.empty()) {
        std::memcpy(buf + sizeof(long), message.data(), message.size());
    }
    auto attempt = [&](int flags) {
        return sys::call_maybe("msgsnd", object(), {EAGAIN}, [&] {
            return ::msgsnd(id_, buf, message.size(), flags);
        });
    };
    // Try without blocking first: on success that is the only system call. On "full", find out
    // whether the message can ever fit before waiting (F7: one larger than msg_qbytes blocks for
    // ever).
    auto r = attempt(IPC_NOWAIT);
    if (!r) {
        return explain(std::move(r).error(), message.size());
    }
    if (*r) {
        return true;
    }
    IPCKIT_TRY_ASSIGN(auto st, stat());
    if (message.size() > st.max_bytes) {
        return Error(std::errc::resource_unavailable_try_again,
                     "msgsnd",
                     object(),
                     "message " + std::to_string(message.size()) + " bytes > queue msg_qbytes " +
                         std::to_string(st.max_bytes) +
                         ": it can never be sent (raise with set_max_bytes; default from " +
                         proc_value_text(kMsgmnb) + ")");
    }
    if (deadline.is_never()) {
        auto b =
            sys::call("msgsnd", object(), [&] { return ::msgsnd(id_, buf, message.size(), 0); });
        if (!b) {
            return explain(std::move(b).error(), message.size());
        }
        return true;
    }
    Backoff backoff;
    while (backoff.wait(deadline)) {
        r = attempt(IPC_NOWAIT);
        if (!r) {
            return explain(std::move(r).error(), message.size());
        }
        if (*r) {
            return true;
        }
    }
    return false;
}

Result<void> SysvMsgQueue::send(long type, std::span<const std::byte> message) {
    IPCKIT_TRY(send_impl(type, message, Deadline::never()));
    return {};
}

Result<void> SysvMsgQueue::send(long type, std::string_view text) {
    return send(type, std::as_bytes(std::span(text.data(), text.size())));
}

Result<bool> SysvMsgQueue::try_send(long type, std::span<const std::byte> message) {
    return send_impl(type, message, Deadline::now());
}

Result<bool> SysvMsgQueue::send_until(long type,
                                      std::span<const std::byte> message,
                                      Deadline deadline) {
    return send_impl(type, message, deadline);
}

Result<std::optional<SysvMsgQueue::Received>> SysvMsgQueue::receive_impl(
    std::span<std::byte> buffer, long type, Deadline deadline, Overflow overflow) {
    std::byte* buf = scratch(buffer.size());
    const int base_flags = overflow == Overflow::Truncate ? MSG_NOERROR : 0;
    auto finish = [&](ssize_t n) {
        long got_type = 0;
        std::memcpy(&got_type, buf, sizeof got_type);
        const auto size = static_cast<std::size_t>(n);
        if (size > 0) {
            std::memcpy(buffer.data(), buf + sizeof(long), size);
        }
        return std::optional<Received>(Received{got_type, size});
    };
    auto fail = [&](Error e) -> Error {
        if (e.errno_value() == E2BIG) {
            return e.with_detail(
                "message is larger than the " + std::to_string(buffer.size()) +
                "-byte buffer; it remains queued (use Overflow::Truncate to cut it)");
        }
        return explain(std::move(e));
    };
    if (deadline.is_never()) {
        // msgrcv is never restarted after a signal handler (F9); sys::call retries EINTR.
        auto r = sys::call("msgrcv", object(), [&] {
            return ::msgrcv(id_, buf, buffer.size(), type, base_flags);
        });
        if (!r) {
            return fail(std::move(r).error());
        }
        return finish(*r);
    }
    Backoff backoff;
    do {
        auto r = sys::call_maybe("msgrcv", object(), {ENOMSG}, [&] {
            return ::msgrcv(id_, buf, buffer.size(), type, base_flags | IPC_NOWAIT);
        });
        if (!r) {
            return fail(std::move(r).error());
        }
        if (*r) {
            return finish(**r);
        }
    } while (backoff.wait(deadline));
    return std::optional<Received>();
}

Result<SysvMsgQueue::Received> SysvMsgQueue::receive(std::span<std::byte> buffer,
                                                     long type,
                                                     Overflow overflow) {
    IPCKIT_TRY_ASSIGN(auto r, receive_impl(buffer, type, Deadline::never(), overflow));
    return *r;
}

Result<std::optional<SysvMsgQueue::Received>> SysvMsgQueue::try_receive(std::span<std::byte> buffer,
                                                                        long type,
                                                                        Overflow overflow) {
    return receive_impl(buffer, type, Deadline::now(), overflow);
}

Result<std::optional<SysvMsgQueue::Received>> SysvMsgQueue::receive_until(
    std::span<std::byte> buffer, long type, Deadline deadline, Overflow overflow) {
    return receive_impl(buffer, type, deadline, overflow);
}

Result<std::optional<SysvMsgQueue::Message>> SysvMsgQueue::receive_owned(long type,
                                                                         Deadline deadline) {
    Message m;
    std::size_t size = owned_buffer_size();
    for (;;) {
        m.data.resize(size);
        auto r = receive_impl(m.data, type, deadline, Overflow::Fail);
        if (r) {
            if (!*r) {
                return std::optional<Message>();
            }
            m.type = (*r)->type;
            m.data.resize((*r)->size);
            return std::optional<Message>(std::move(m));
        }
        // msgmax was lowered after a larger message was queued: grow and retry (it stayed queued).
        if (r.error() != std::errc::argument_list_too_long || size >= kMaxOwnedBuffer) {
            return std::move(r).error();
        }
        size *= 2;
    }
}

Result<SysvMsgQueue::Message> SysvMsgQueue::receive(long type) {
    IPCKIT_TRY_ASSIGN(auto r, receive_owned(type, Deadline::never()));
    IPCKIT_ASSERT(r.has_value(), "a wait without deadline returned empty");
    return std::move(*r);
}

Result<std::optional<SysvMsgQueue::Message>> SysvMsgQueue::try_receive(long type) {
    return receive_owned(type, Deadline::now());
}

Result<std::optional<SysvMsgQueue::Message>> SysvMsgQueue::receive_until(long type,
                                                                         Deadline deadline) {
    return receive_owned(type, deadline);
}

Result<SysvMsgQueueStat> SysvMsgQueue::stat() const {
    msqid_ds ds{};
    auto r = sys::call("msgctl", object(), [&] { return ::msgctl(id_, IPC_STAT, &ds); });
    if (!r) {
        return std::move(r).error().with_detail("IPC_STAT");
    }
    SysvMsgQueueStat s;
    s.key = ds.msg_perm.__key;
    s.uid = ds.msg_perm.uid;
    s.gid = ds.msg_perm.gid;
    s.creator_uid = ds.msg_perm.cuid;
    s.creator_gid = ds.msg_perm.cgid;
    s.permissions = Permissions(ds.msg_perm.mode & 0777U);
    s.messages = ds.msg_qnum;
    s.bytes = ds.__msg_cbytes;
    s.max_bytes = ds.msg_qbytes;
    s.last_send_pid = ds.msg_lspid;
    s.last_receive_pid = ds.msg_lrpid;
    s.last_send_time = ds.msg_stime;
    s.last_receive_time = ds.msg_rtime;
    s.change_time = ds.msg_ctime;
    return s;
}

Result<void> SysvMsgQueue::set_permissions(Permissions permissions) {
    msqid_ds ds{};
    IPCKIT_TRY(sys::call("msgctl", object(), [&] { return ::msgctl(id_, IPC_STAT, &ds); }));
    ds.msg_perm.mode = static_cast<decltype(ds.msg_perm.mode)>(permissions.bits() & 0777U);
    IPCKIT_TRY(sys::call("msgctl", object(), [&] { return ::msgctl(id_, IPC_SET, &ds); }));
    return {};
}

Result<void> SysvMsgQueue::set_max_bytes(std::size_t max_bytes) {
    msqid_ds ds{};
    IPCKIT_TRY(sys::call("msgctl", object(), [&] { return ::msgctl(id_, IPC_STAT, &ds); }));
    ds.msg_qbytes = static_cast<msglen_t>(max_bytes);
    auto r = sys::call("msgctl", object(), [&] { return ::msgctl(id_, IPC_SET, &ds); });
    if (!r) {
        if (r.error() == std::errc::operation_not_permitted) {
            return std::move(r).error().with_detail(
                "msg_qbytes " + std::to_string(max_bytes) + " > " + proc_value_text(kMsgmnb) +
                " needs CAP_SYS_RESOURCE; raise with sysctl " + sysctl_name(kMsgmnb));
        }
        return std::move(r).error();
    }
    return {};
}

Result<void> SysvMsgQueue::remove() {
    IPCKIT_TRY(sys::call("msgctl", object(), [&] { return ::msgctl(id_, IPC_RMID, nullptr); }));
    return {};
}

Result<SysvMsgQueueStat> SysvMsgQueue::stat(int id) {
    return SysvMsgQueue(id).stat();
}

Result<void> SysvMsgQueue::remove(int id) {
    return SysvMsgQueue(id).remove();
}

Result<std::optional<SysvMsgQueue::Message>> SysvMsgQueue::request(
    std::span<const std::byte> payload, Deadline deadline) {
    const pid_t self = ::getpid();
    if (self == kRequestType) {
        return Error(std::errc::invalid_argument,
                     "msgsnd",
                     object(),
                     "pid 1 collides with the request type; run the client outside pid 1");
    }
    std::vector<std::byte> msg(sizeof(pid_t) + payload.size());
    std::memcpy(msg.data(), &self, sizeof self);
    if (!payload.empty()) {
        std::memcpy(msg.data() + sizeof self, payload.data(), payload.size());
    }
    IPCKIT_TRY_ASSIGN(auto sent, send_until(kRequestType, msg, deadline));
    if (!sent) {
        return std::optional<Message>();
    }
    return receive_until(self, deadline);
}

Result<std::optional<SysvMsgQueue::Request>> SysvMsgQueue::receive_request(Deadline deadline) {
    IPCKIT_TRY_ASSIGN(auto r, receive_until(kRequestType, deadline));
    if (!r) {
        return std::optional<Request>();
    }
    const auto& data = r->data;
    pid_t client = 0;
    if (data.size() >= sizeof client) {
        std::memcpy(&client, data.data(), sizeof client);
    }
    // The request comes from another process: check it before trusting the pid.
    if (data.size() < sizeof client || client <= kRequestType) {
        return Error(std::errc::bad_message,
                     "msgrcv",
                     object(),
                     "request of " + std::to_string(data.size()) +
                         " bytes lacks a valid client pid header; dropped");
    }
    Request req;
    req.client = client;
    req.data.assign(data.begin() + static_cast<std::ptrdiff_t>(sizeof client), data.end());
    return std::optional<Request>(std::move(req));
}

Result<void> SysvMsgQueue::reply(pid_t client, std::span<const std::byte> payload) {
    return send(static_cast<long>(client), payload);
}

}  // namespace ipckit
