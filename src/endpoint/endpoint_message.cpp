// SPDX-License-Identifier: MIT
// Endpoints over message queues: mq: (PosixMq, priorities) and sysvmq: (SysvMsgQueue, types).
#include "endpoint/endpoint_impl.hpp"
#include "ipckit/message/posix_mq.hpp"
#include "ipckit/message/sysv_msg_queue.hpp"

#include <utility>

namespace ipckit::detail {

namespace {

class MqImpl final : public Endpoint::Impl {
public:
    MqImpl(PosixMq q, std::optional<unsigned> prio) : q_(std::move(q)), prio_(prio) {}
    Result<void> send(std::span<const std::byte> message, const SendOptions& o) override {
        const unsigned prio = o.priority.value_or(prio_.value_or(0));
        if (prio > PosixMq::kMaxPriority) {
            return Error(std::errc::invalid_argument,
                         "mq_send",
                         name,
                         "priority " + std::to_string(prio) + " > 32767 (MQ_PRIO_MAX - 1)");
        }
        IPCKIT_TRY_ASSIGN(auto sent, q_.send_until(message, prio, o.deadline));
        if (!sent) {
            return Error(std::errc::timed_out, "mq_send", name, "the queue stayed full");
        }
        return {};
    }
    Result<std::optional<EndpointMessage>> receive(Deadline deadline) override {
        IPCKIT_TRY_ASSIGN(auto m, q_.receive_until(deadline));
        if (!m) {
            return std::optional<EndpointMessage>();
        }
        EndpointMessage out;
        out.data = std::move(m->data);
        out.priority = m->priority;
        return std::optional<EndpointMessage>(std::move(out));
    }
    [[nodiscard]] std::size_t max_message_size() const noexcept override {
        return q_.max_message_size();
    }

private:
    PosixMq q_;
    std::optional<unsigned> prio_;
};

}  // namespace

Result<EndpointImplPtr> open_mq(const PosixMqUri& u, EndpointRole role, const EndpointOptions& o) {
    // A sender needs only write access. A receiver asks for read-write (so recv can put back a
    // message it could not deliver) and settles for read-only.
    const Access access = role == EndpointRole::Sender ? Access::WriteOnly : Access::ReadWrite;
    const auto open_existing = [&]() {
        auto q = PosixMq::open(u.name, access, o.ownership);
        if (!q && role == EndpointRole::Receiver &&
            q.error().code() == std::errc::permission_denied && !is_untrusted_owner(q.error())) {
            q = PosixMq::open(u.name, Access::ReadOnly, o.ownership);
        }
        return q;
    };
    const bool create = o.create || u.create.create;
    const Permissions perms = o.mode.value_or(u.create.mode.value_or(Permissions(0600)));
    const bool limits_given = u.max_messages || u.max_message_size;
    Result<PosixMq> q = Error(std::errc::invalid_argument, "mq_open", u.name.str());
    if (create && limits_given) {
        PosixMq::Limits limits;
        limits.max_messages = u.max_messages.value_or(limits.max_messages);
        limits.max_message_size = u.max_message_size.value_or(limits.max_message_size);
        q = PosixMq::open_or_create(u.name, limits, perms, access, o.ownership);
    } else {
        q = open_existing();
        if (!q && create && q.error().code() == std::errc::no_such_file_or_directory) {
            q = PosixMq::create(u.name, {}, perms, access);
            if (!q && q.error().code() == std::errc::file_exists) {
                q = open_existing();  // lost a creation race: use the winner's queue
            }
        }
    }
    if (!q) {
        return std::move(q).error();
    }
    return EndpointImplPtr(std::make_unique<MqImpl>(std::move(*q), u.priority));
}

namespace {

// ---------------------------------------------------------------- System V message queue
class SysvMqImpl final : public Endpoint::Impl {
public:
    SysvMqImpl(SysvMsgQueue q, int id, std::optional<long> type)
        : q_(q), id_(id), type_(type) {}  // a SysvMsgQueue is a plain id
    Result<void> send(std::span<const std::byte> message, const SendOptions& o) override {
        IPCKIT_TRY_ASSIGN(auto type, validate_sysv_send_type(o.type.value_or(type_.value_or(1))));
        auto sent = q_.send_until(type, message, o.deadline);
        if (!sent) {
            // msgsnd says EINVAL for a message over msgmax: it is a size problem, not bad input.
            if (sent.error().code() == std::errc::invalid_argument &&
                sent.error().detail().find("msgmax") != std::string::npos) {
                return Error(std::errc::message_size,
                             "msgsnd",
                             sent.error().object(),
                             sent.error().detail());
            }
            return std::move(sent).error();
        }
        if (!*sent) {
            return Error(std::errc::timed_out, "msgsnd", name, "the queue stayed full");
        }
        return {};
    }
    Result<std::optional<EndpointMessage>> receive(Deadline deadline) override {
        IPCKIT_TRY_ASSIGN(auto m, q_.receive_until(type_.value_or(0), deadline));
        if (!m) {
            return std::optional<EndpointMessage>();
        }
        EndpointMessage out;
        out.data = std::move(m->data);
        out.type = m->type;
        return std::optional<EndpointMessage>(std::move(out));
    }
    [[nodiscard]] std::size_t max_message_size() const noexcept override {
        auto st = q_.stat();
        return st ? st->max_bytes : 0;
    }
    [[nodiscard]] int sysv_id() const noexcept override { return id_; }

private:
    SysvMsgQueue q_;
    int id_;
    std::optional<long> type_;
};

}  // namespace

Result<EndpointImplPtr> open_sysvmq(const SysvMqUri& u,
                                    EndpointRole role,
                                    const EndpointOptions& o) {
    if (role == EndpointRole::Sender && u.type) {
        IPCKIT_TRY(validate_sysv_send_type(*u.type));
    }
    const bool create = o.create || u.create.create;
    const Permissions perms = o.mode.value_or(u.create.mode.value_or(Permissions(0600)));
    Result<SysvMsgQueue> q = Error(std::errc::invalid_argument, "msgget", u.address.to_string());
    if (u.address.kind == SysvAddress::Kind::Id) {
        q = SysvMsgQueue::from_id(u.address.id, o.ownership);
    } else {
        IPCKIT_TRY_ASSIGN(auto key, u.address.resolve_key());
        if (key == SysvKey::private_key()) {
            if (!create) {
                return Error(std::errc::invalid_argument,
                             "msgget",
                             "private",
                             "sysvmq:private makes a new queue: add ?create (or --create)");
            }
            q = SysvMsgQueue::create(key, perms);
        } else {
            q = create ? SysvMsgQueue::open_or_create(key, perms, o.ownership)
                       : SysvMsgQueue::open(key, o.ownership);
        }
    }
    IPCKIT_TRY_ASSIGN(const SysvMsgQueue queue, std::move(q));
    return EndpointImplPtr(std::make_unique<SysvMqImpl>(queue, queue.id(), u.type));
}

}  // namespace ipckit::detail
