// SPDX-License-Identifier: MIT
// SysvMsgQueue: a System V message queue (sysvipc(7), msgget(2), msgop(2), msgctl(2)).
#pragma once

#include "ipckit/core/deadline.hpp"
#include "ipckit/core/open_mode.hpp"
#include "ipckit/core/ownership.hpp"
#include "ipckit/core/result.hpp"
#include "ipckit/core/sysv_key.hpp"
#include "ipckit/export.hpp"

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <ctime>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace ipckit {

/// msgctl(IPC_STAT).
struct IPCKIT_API SysvMsgQueueStat {
    key_t key = 0;
    uid_t uid = 0;
    gid_t gid = 0;
    uid_t creator_uid = 0;
    gid_t creator_gid = 0;
    Permissions permissions;
    std::size_t messages = 0;   ///< msg_qnum
    std::size_t bytes = 0;      ///< bytes currently queued (__msg_cbytes)
    std::size_t max_bytes = 0;  ///< msg_qbytes: capacity in bytes
    pid_t last_send_pid = 0;
    pid_t last_receive_pid = 0;
    std::time_t last_send_time = 0;
    std::time_t last_receive_time = 0;
    std::time_t change_time = 0;
};

/// A System V message queue: kernel-buffered records, each with a type > 0 that receivers select
/// on (0: the first message; T > 0: the first of type T; T < 0: the first of the lowest type
/// <= |T|).
///
/// Ownership: the queue is kernel-persistent and has no descriptor; a handle is just its id.
/// Destroying a handle never removes the queue: call remove() (msgctl IPC_RMID), which wakes
/// every blocked sender and receiver with errc::identifier_removed.
/// Copyable: a handle owns nothing (copies are like copies of the id), so rule of zero holds.
/// Thread-safety: every member may be called from several threads at once.
/// Fork/exec: nothing to inherit or close; the id is valid in any process of the same IPC
/// namespace that passes the permission check.
///
/// Deadline calls (`_until`, `_for`) poll with IPC_NOWAIT and a short back-off (at most 5 ms of
/// extra latency), because msgsnd/msgrcv have no timed variant.
///
/// @code
///   auto q = SysvMsgQueue::create(SysvKey::from_number(4587).value()).value();
///   q.send(1, "Did you get the Message ?").value();
///   auto m = q.receive(1).value();           // first message of type 1
///   q.remove().value();
/// @endcode
class IPCKIT_API SysvMsgQueue {
public:
    /// What to do with a message larger than the receive buffer.
    enum class Overflow {
        Fail,      ///< errc::argument_list_too_long (E2BIG); the message stays queued (F8)
        Truncate,  ///< MSG_NOERROR: deliver the first buffer-size bytes, drop the rest
    };
    /// What a receive into a caller's buffer got.
    struct Received {
        long type = 0;
        std::size_t size = 0;
    };
    /// A received message in its own buffer.
    struct Message {
        long type = 0;
        std::vector<std::byte> data;
        [[nodiscard]] std::string_view text() const noexcept {
            return {reinterpret_cast<const char*>(data.data()),
                    data.size()};  // NOLINT: bytes as chars
        }
    };
    /// A request taken by receive_request(): who asked, and what.
    struct Request {
        pid_t client = 0;
        std::vector<std::byte> data;
        [[nodiscard]] std::string_view text() const noexcept {
            return {reinterpret_cast<const char*>(data.data()),
                    data.size()};  // NOLINT: bytes as chars
        }
    };

    /// The message type clients send requests with (request()/receive_request()).
    static constexpr long kRequestType = 1;

    /// Creates a new queue (IPC_CREAT|IPC_EXCL; a fresh queue every time for
    /// SysvKey::private_key()). errc::file_exists if the key is taken; errc::no_space_on_device
    /// names kernel.msgmni.
    static Result<SysvMsgQueue> create(SysvKey key, Permissions permissions = {});
    /// Opens the queue under `key`. errc::no_such_file_or_directory if there is none,
    /// errc::permission_denied if its mode does not allow read and write, or (is_untrusted_owner)
    /// if its owner or creator (IPC_STAT) is not one `ownership` trusts: by default only the
    /// caller's own queues.
    static Result<SysvMsgQueue> open(SysvKey key, const Ownership& ownership = {});
    /// Opens the queue under `key`, creating it if absent (IPC_CREAT). An existing queue's owner
    /// is checked as open() does.
    static Result<SysvMsgQueue> open_or_create(SysvKey key,
                                               Permissions permissions = {},
                                               const Ownership& ownership = {});
    /// Adopts a queue id (ipcs, sysvmq:id:N). errc::invalid_argument "no such queue id N" if
    /// it does not exist; its owner is checked as open() does.
    static Result<SysvMsgQueue> from_id(int id, const Ownership& ownership = {});

    /// Sends a message of `type` (> 0, else errc::invalid_argument), blocking while the queue is
    /// full. A message larger than /proc/sys/kernel/msgmax, or than the queue's msg_qbytes (it
    /// could never be sent, F7), fails at once with a detail naming the limit. Zero bytes is a
    /// valid message.
    Result<void> send(long type, std::span<const std::byte> message);
    Result<void> send(long type, std::string_view text);
    /// Sends without blocking (IPC_NOWAIT); false when the queue is full.
    Result<bool> try_send(long type, std::span<const std::byte> message);
    /// Sends, waiting until `deadline`; false when it passed with the queue still full.
    Result<bool> send_until(long type, std::span<const std::byte> message, Deadline deadline);
    template <class Rep, class Period>
    Result<bool> send_for(long type,
                          std::span<const std::byte> message,
                          std::chrono::duration<Rep, Period> t) {
        return send_until(type, message, Deadline::after(t));
    }

    /// Receives the message selected by `type` (see the class comment) into `buffer`, blocking
    /// while there is none. errc::identifier_removed if the queue is removed meanwhile.
    Result<Received> receive(std::span<std::byte> buffer,
                             long type = 0,
                             Overflow overflow = Overflow::Fail);
    /// Receives without blocking (IPC_NOWAIT); empty when no message matches.
    Result<std::optional<Received>> try_receive(std::span<std::byte> buffer,
                                                long type = 0,
                                                Overflow overflow = Overflow::Fail);
    /// Receives, waiting until `deadline`; empty when it passed.
    Result<std::optional<Received>> receive_until(std::span<std::byte> buffer,
                                                  long type,
                                                  Deadline deadline,
                                                  Overflow overflow = Overflow::Fail);

    /// The same, with a buffer of /proc/sys/kernel/msgmax bytes (no message can be longer).
    Result<Message> receive(long type = 0);
    Result<std::optional<Message>> try_receive(long type = 0);
    Result<std::optional<Message>> receive_until(long type, Deadline deadline);
    template <class Rep, class Period>
    Result<std::optional<Message>> receive_for(long type, std::chrono::duration<Rep, Period> t) {
        return receive_until(type, Deadline::after(t));
    }

    /// msgctl(IPC_STAT).
    [[nodiscard]] Result<SysvMsgQueueStat> stat() const;
    /// msgctl(IPC_SET) of the permission bits (owner and capacity unchanged).
    Result<void> set_permissions(Permissions permissions);
    /// msgctl(IPC_SET) of msg_qbytes. Raising it above /proc/sys/kernel/msgmnb needs
    /// CAP_SYS_RESOURCE: errc::operation_not_permitted with the sysctl named.
    Result<void> set_max_bytes(std::size_t max_bytes);
    /// msgctl(IPC_RMID): removes the queue now; blocked peers get errc::identifier_removed.
    Result<void> remove();
    /// msgctl(IPC_STAT) of queue `id` without a handle or an owner check (an inspector's read):
    /// needs read permission. errc::invalid_argument if there is no such queue.
    [[nodiscard]] static Result<SysvMsgQueueStat> stat(int id);
    /// msgctl(IPC_RMID) of queue `id`: needs only to be its owner or creator (or CAP_SYS_ADMIN),
    /// not the read permission from_id() needs. errc::invalid_argument if there is no such queue.
    static Result<void> remove(int id);

    /// Typed request/reply (the classic pattern): a client sends `payload` as type kRequestType,
    /// prefixed with its pid, and waits until `deadline` for the reply, which the server sends
    /// with the client's pid as its type. Empty when the deadline passed.
    Result<std::optional<Message>> request(std::span<const std::byte> payload, Deadline deadline);
    /// Server side: waits until `deadline` for the next request. errc::bad_message if a type-1
    /// message lacks the pid header (it is consumed). Empty when the deadline passed.
    Result<std::optional<Request>> receive_request(Deadline deadline = Deadline::never());
    /// Server side: sends `payload` to `client` (message type = its pid).
    Result<void> reply(pid_t client, std::span<const std::byte> payload);

    [[nodiscard]] int id() const noexcept { return id_; }

private:
    explicit SysvMsgQueue(int id) noexcept : id_(id) {}
    static Result<SysvMsgQueue> get(SysvKey key,
                                    int flags,
                                    Permissions permissions,
                                    const Ownership* ownership);
    Result<bool> send_impl(long type, std::span<const std::byte> message, Deadline deadline);
    Result<std::optional<Received>> receive_impl(std::span<std::byte> buffer,
                                                 long type,
                                                 Deadline deadline,
                                                 Overflow overflow);
    Result<std::optional<Message>> receive_owned(long type, Deadline deadline);
    [[nodiscard]] std::string object() const;
    [[nodiscard]] Result<void> check_owner(const Ownership& ownership,
                                           const std::string& object) const;

    int id_ = -1;
};

}  // namespace ipckit
