// SPDX-License-Identifier: MIT
// PosixMq: a POSIX message queue (mq_overview(7), mq_open(3), mq_send(3), mq_receive(3),
// mq_notify(3), mq_getattr(3)).
#pragma once

#include "ipckit/core/assert.hpp"
#include "ipckit/core/deadline.hpp"
#include "ipckit/core/open_mode.hpp"
#include "ipckit/core/ownership.hpp"
#include "ipckit/core/posix_name.hpp"
#include "ipckit/core/result.hpp"
#include "ipckit/core/unique_fd.hpp"
#include "ipckit/export.hpp"

#include <mqueue.h>
#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace ipckit {

namespace detail {
struct MqCallback;  // the callback of a thread notification (src/message/posix_mq.cpp)
}  // namespace detail

/// Queue capacity chosen at creation (mq_attr.mq_maxmsg / mq_msgsize). The defaults fit the stock
/// /proc/sys/fs/mqueue/msg_max (10) and msgsize_max (8192). (Outside PosixMq so that it can be a
/// default argument of PosixMq's own members.)
struct IPCKIT_API PosixMqLimits {
    long max_messages = 10;
    long max_message_size = 8192;
};

/// A POSIX message queue: kernel-buffered records, each with a priority; the highest priority is
/// received first, FIFO within one priority.
///
/// Ownership: the queue is kernel-persistent. A handle owns only its descriptor; destroying it
/// never removes the queue (the CLI and daemon rendezvous need that). Remove the name explicitly
/// with unlink(); the queue itself goes away when the last descriptor closes.
/// Thread-safety: send/receive/attributes on one handle from several threads are safe (the kernel
/// serialises them). The notification calls (notify_by_*, cancel_notification) must not race each
/// other on one handle; re-registering from inside the callback is the intended use. Not safe:
/// moving a handle while another thread uses it.
/// Fork/exec: the descriptor is close-on-exec. A forked child shares the open queue description
/// (and so its O_NONBLOCK flag). A notification registration belongs to the process that made it
/// and is dropped when that process dies or closes *any* descriptor of the queue: destroying a
/// second PosixMq of the same queue in the registering process cancels it too (the kernel's rule).
///
/// @code
///   auto name = PosixName::make("/jobs").value();
///   auto q = PosixMq::create(name, {.max_messages = 8, .max_message_size = 256}).value();
///   q.send("urgent", 10).value();
///   auto m = q.receive().value();   // buffer sized from mq_msgsize; m.priority == 10
///   PosixMq::unlink(name).value();
/// @endcode
class IPCKIT_API PosixMq {
public:
    using Limits = PosixMqLimits;
    /// mq_getattr(3).
    struct Attributes {
        long max_messages = 0;
        long max_message_size = 0;
        long current_messages = 0;
        bool non_blocking = false;
    };
    /// Who owns the queue and its mode (fstat of the descriptor).
    struct Owner {
        uid_t uid = 0;
        gid_t gid = 0;
        Permissions permissions;
    };
    /// What a receive into a caller's buffer got.
    struct Received {
        std::size_t size = 0;
        unsigned priority = 0;
    };
    /// A received message in its own buffer.
    struct Message {
        std::vector<std::byte> data;
        unsigned priority = 0;
        [[nodiscard]] std::string_view text() const noexcept {
            return {reinterpret_cast<const char*>(data.data()),
                    data.size()};  // NOLINT: bytes as chars
        }
    };

    /// Largest valid priority (MQ_PRIO_MAX - 1 on Linux).
    static constexpr unsigned kMaxPriority = 32767;

    /// Creates a new queue (O_CREAT|O_EXCL). errc::file_exists if the name is taken. Limits above
    /// the sysctls fail with errc::invalid_argument naming the sysctl and how to raise it
    /// ("maxmsg 11 > /proc/sys/fs/mqueue/msg_max=10; raise with sysctl fs.mqueue.msg_max");
    /// errc::no_space_on_device names fs.mqueue.queues_max; errc::too_many_files_open says
    /// whether RLIMIT_MSGQUEUE or RLIMIT_NOFILE was hit.
    static Result<PosixMq> create(const PosixName& name,
                                  Limits limits = {},
                                  Permissions permissions = {},
                                  Access access = Access::ReadWrite);
    /// Opens an existing queue. errc::no_such_file_or_directory if absent,
    /// errc::permission_denied if its mode does not allow `access`, or (is_untrusted_owner) if
    /// its owner is not one `ownership` trusts: by default only the caller's own queues.
    static Result<PosixMq> open(const PosixName& name,
                                Access access = Access::ReadWrite,
                                const Ownership& ownership = {});
    /// Opens the queue if present, else creates it with `limits`. If it exists with other limits,
    /// fails with errc::file_exists and a detail naming both (the kernel would silently ignore
    /// the requested attributes). An existing queue's owner is checked as open() does.
    static Result<PosixMq> open_or_create(const PosixName& name,
                                          Limits limits = {},
                                          Permissions permissions = {},
                                          Access access = Access::ReadWrite,
                                          const Ownership& ownership = {});
    /// Removes the name (mq_unlink); open descriptors keep working on the old queue.
    static Result<void> unlink(const PosixName& name);

    /// Sends, blocking while the queue is full. errc::message_size if the message is larger than
    /// the queue's msgsize (the detail names it); errc::invalid_argument if priority > 32767.
    /// (Inline: a valid non-empty message goes straight to mq_send, and only a failure leaves the
    /// header, so the wrapper adds no call level between the caller and the kernel.)
    Result<void> send(std::span<const std::byte> message, unsigned priority = 0) {
        IPCKIT_ASSERT(fd_.valid(), "PosixMq used after move");
        if (!message.empty() && message.size() <= msgsize_ && priority <= kMaxPriority) [[likely]] {
            // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): bytes as chars
            const auto* data = reinterpret_cast<const char*>(message.data());
            if (::mq_send(fd_.get(), data, message.size(), priority) != -1) [[likely]] {
                return {};
            }
            return send_failed(message, priority);
        }
        return send_checked(message, priority);
    }
    Result<void> send(std::string_view text, unsigned priority = 0) {
        return send(std::as_bytes(std::span(text.data(), text.size())), priority);
    }
    /// Sends without blocking; false when the queue is full.
    Result<bool> try_send(std::span<const std::byte> message, unsigned priority = 0);
    /// Sends, blocking until `deadline`; false when it passed with the queue still full.
    Result<bool> send_until(std::span<const std::byte> message,
                            unsigned priority,
                            Deadline deadline);
    template <class Rep, class Period>
    Result<bool> send_for(std::span<const std::byte> message,
                          unsigned priority,
                          std::chrono::duration<Rep, Period> timeout) {
        return send_until(message, priority, Deadline::after(timeout));
    }

    /// Receives the oldest message of the highest priority into `buffer`, blocking while the
    /// queue is empty. The buffer must hold max_message_size() bytes (the kernel checks the
    /// queue's msgsize, not the message's length: F4): otherwise errc::message_size with
    /// "buffer 10 < queue msgsize 64".
    Result<Received> receive(std::span<std::byte> buffer) {
        IPCKIT_ASSERT(fd_.valid(), "PosixMq used after move");
        if (buffer.size() >= msgsize_) [[likely]] {
            unsigned priority = 0;
            // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): bytes as chars
            auto* data = reinterpret_cast<char*>(buffer.data());
            const ssize_t n = ::mq_receive(fd_.get(), data, buffer.size(), &priority);
            if (n != -1) [[likely]] {
                return Received{static_cast<std::size_t>(n), priority};
            }
            return receive_failed(buffer);
        }
        return receive_checked(buffer);
    }
    /// Receives without blocking; empty when the queue is empty.
    Result<std::optional<Received>> try_receive(std::span<std::byte> buffer);
    /// Receives, blocking until `deadline`; empty when it passed.
    Result<std::optional<Received>> receive_until(std::span<std::byte> buffer, Deadline deadline);
    template <class Rep, class Period>
    Result<std::optional<Received>> receive_for(std::span<std::byte> buffer,
                                                std::chrono::duration<Rep, Period> timeout) {
        return receive_until(buffer, Deadline::after(timeout));
    }

    /// The same four, with a buffer sized from the queue's msgsize.
    Result<Message> receive();
    Result<std::optional<Message>> try_receive();
    Result<std::optional<Message>> receive_until(Deadline deadline);
    template <class Rep, class Period>
    Result<std::optional<Message>> receive_for(std::chrono::duration<Rep, Period> timeout) {
        return receive_until(Deadline::after(timeout));
    }

    /// mq_getattr(3).
    [[nodiscard]] Result<Attributes> attributes() const;
    /// The queue's owner and mode bits.
    [[nodiscard]] Result<Owner> ownership() const;
    /// mq_setattr(3): sets or clears O_NONBLOCK on the open queue description (shared with every
    /// descriptor dup'ed or inherited from it). With it set, the blocking calls fail with
    /// errc::resource_unavailable_try_again instead of waiting.
    Result<void> set_non_blocking(bool non_blocking);

    /// Registers to have `callback` run on a new thread when a message arrives on the queue while
    /// it is empty (SIGEV_THREAD). One-shot: re-register (from the callback, before draining the
    /// queue) to keep being notified. Only one process may be registered per queue:
    /// errc::device_or_resource_busy "queue already has a notification registrant". Nothing fires
    /// if the queue was not empty, or if another process was blocked in receive and took the
    /// message. The callback must not throw; it may run briefly after the handle is destroyed or
    /// the registration cancelled if the message arrived just before.
    Result<void> notify_by_thread(std::function<void()> callback);
    /// Registers to have signal `signo` sent to this process, with `value` as si_value.sival_int
    /// and si_code SI_MESGQ (SIGEV_SIGNAL). Same one-shot and one-registrant rules.
    Result<void> notify_by_signal(int signo, int value = 0);
    /// Removes this process's registration (no-op if it has none).
    Result<void> cancel_notification();

    /// The queue's msgsize and maxmsg (fixed at creation).
    [[nodiscard]] std::size_t max_message_size() const noexcept { return msgsize_; }
    [[nodiscard]] std::size_t max_messages() const noexcept { return maxmsg_; }
    [[nodiscard]] const PosixName& name() const noexcept { return name_; }
    /// Removes this queue's name (see the static unlink()).
    Result<void> unlink() const { return unlink(name_); }
    [[nodiscard]] int native_handle() const noexcept { return fd_.get(); }

private:
    PosixMq(UniqueFd fd, PosixName name, std::size_t msgsize, std::size_t maxmsg)
        : fd_(std::move(fd)), name_(std::move(name)), msgsize_(msgsize), maxmsg_(maxmsg) {}
    static Result<PosixMq> open_impl(const PosixName& name,
                                     OpenMode mode,
                                     std::optional<Limits> limits,
                                     Permissions permissions,
                                     Access access,
                                     const Ownership& ownership);
    // The out-of-line halves of the inline send/receive. *_failed run right after the call
    // returned -1 (errno still set): EINTR retries through *_checked, anything else becomes the
    // Error. *_checked are the full paths (argument errors, empty messages, retries).
    [[gnu::cold]] Result<void> send_failed(std::span<const std::byte> message, unsigned priority);
    Result<void> send_checked(std::span<const std::byte> message, unsigned priority);
    [[gnu::cold]] Result<Received> receive_failed(std::span<std::byte> buffer);
    Result<Received> receive_checked(std::span<std::byte> buffer);
    Result<std::optional<Received>> receive_impl(std::span<std::byte> buffer, Deadline deadline);
    Result<bool> send_impl(std::span<const std::byte> message,
                           unsigned priority,
                           Deadline deadline);
    Result<std::optional<Message>> receive_owned(Deadline deadline);

    UniqueFd fd_;
    PosixName name_;
    std::size_t msgsize_ = 0;
    std::size_t maxmsg_ = 0;
    std::shared_ptr<detail::MqCallback>
        callback_;  // kept alive while a thread notification may fire
};

}  // namespace ipckit
