// SPDX-License-Identifier: MIT
// The C API of the channel (include/ipckit/ipckit.h): Channel, Publisher/Loan and
// Subscriber/Sample behind handles of the process-wide table (handle_table.hpp).
#include "capi/capi_core.hpp"
#include "capi/handle_table.hpp"
#include "ipckit/channel/channel.hpp"
#include "ipckit/channel/publisher.hpp"
#include "ipckit/channel/subscriber.hpp"
#include "ipckit/ipckit.h"

#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

namespace ipckit::capi {
namespace {

struct PublisherObject final : Object {
    static constexpr Kind kKind = Kind::Publisher;
    explicit PublisherObject(Publisher p) noexcept : pub(std::move(p)) {}
    Publisher pub;
    std::optional<Loan> loan;  // the one outstanding loan
    std::uint64_t loan_token =
        0;  // token of `loan`; bumped per loan so a stale token never matches
};

/// One held sample; `generation` is odd while held, so a released token never matches again.
struct SampleSlot {
    std::optional<Sample> sample;
    std::uint32_t generation = 0;
};

struct SubscriberObject final : Object {
    static constexpr Kind kKind = Kind::Subscriber;
    explicit SubscriberObject(Subscriber s) noexcept : sub(std::move(s)) {}
    ~SubscriberObject() override {
        for (auto& slot : samples) {
            if (slot.sample) {
                sub.release(std::move(*slot.sample));
            }
        }
    }
    SubscriberObject(const SubscriberObject&) = delete;
    SubscriberObject& operator=(const SubscriberObject&) = delete;
    SubscriberObject(SubscriberObject&&) = delete;
    SubscriberObject& operator=(SubscriberObject&&) = delete;
    Subscriber sub;
    std::vector<SampleSlot> samples;  // grows to at most max_loans + 1 (the C++ quota)
};

ChannelOptions options_of(const char* dir) {
    ChannelOptions o;
    if (dir != nullptr) {
        o.dir = dir;
    }
    return o;
}

ChannelConfig config_of(const ipckit_channel_config* c) {
    ChannelConfig config;
    if (c == nullptr) {
        return config;
    }
    config.policy = static_cast<ChannelPolicy>(c->policy);
    config.lane_bytes = c->lane_bytes;
    config.max_message_size = c->max_message_size;
    config.max_publishers = c->max_publishers;
    config.max_subscribers = c->max_subscribers;
    config.max_loans = c->max_loans;
    if (c->permissions != 0) {  // 0 (a zeroed struct): the default 0600, never mode 0
        config.permissions = Permissions(static_cast<mode_t>(c->permissions));
    }
    config.options = options_of(c->dir);
    return config;
}

bool valid_config(const ipckit_channel_config* c) {
    return c == nullptr || (c->policy <= IPCKIT_POLICY_OVERWRITE && c->lane_bytes <= SIZE_MAX &&
                            c->max_message_size <= SIZE_MAX);
}

[[gnu::always_inline]] inline ipckit_status publish_loan(PublisherObject& p,
                                                         ipckit_loan* loan,
                                                         std::size_t n,
                                                         ipckit_error* err) {
    *loan = ipckit_loan{};
    p.loan->resize(n);
    auto r = p.pub.publish(std::move(*p.loan));  // consumes the loan, published or not
    p.loan.reset();
    return r ? IPCKIT_OK : fail(err, r.error());
}

/// Loans n bytes (deadline 0: try once) into p.loan; IPCKIT_OK, EAGAIN/ETIMEDOUT or an error.
[[gnu::always_inline]] inline ipckit_status take_loan(PublisherObject& p,
                                                      std::size_t n,
                                                      std::int64_t deadline,
                                                      ipckit_error* err) {
    if (p.loan) {
        return fail(err,
                    IPCKIT_EBUSY,
                    EINPROGRESS,
                    "chan loan: publish or discard the outstanding loan first (one at a time)");
    }
    auto r = deadline == 0 ? p.pub.try_loan(n) : p.pub.loan_until(n, to_deadline(deadline));
    if (!r) {
        return fail(err, r.error());
    }
    if (!*r) {
        return deadline == 0 ? IPCKIT_EAGAIN : IPCKIT_ETIMEDOUT;
    }
    p.loan.emplace(std::move(**r));
    ++p.loan_token;
    return IPCKIT_OK;
}

bool loan_matches(const PublisherObject& p, const ipckit_loan& loan) noexcept {
    return p.loan && loan.token != 0 && loan.token == p.loan_token && loan.data == p.loan->data();
}

}  // namespace
}  // namespace ipckit::capi

using ipckit::capi::bad_argument;
using ipckit::capi::bad_handle;
using ipckit::capi::fail;
using ipckit::capi::guard;
using ipckit::capi::handles;
using ipckit::capi::PublisherObject;
using ipckit::capi::read_into;
using ipckit::capi::SubscriberObject;
using ipckit::capi::with_object;

extern "C" {

ipckit_status ipckit_channel_config_init(ipckit_channel_config* config) {
    if (config == nullptr) {
        return IPCKIT_EINVAL;
    }
    const ipckit::ChannelConfig d;
    *config = ipckit_channel_config{};
    config->policy = static_cast<uint32_t>(d.policy);
    config->max_publishers = d.max_publishers;
    config->max_subscribers = d.max_subscribers;
    config->max_loans = d.max_loans;
    config->lane_bytes = d.lane_bytes;
    config->max_message_size = d.max_message_size;
    config->permissions = d.permissions.bits();
    config->dir = nullptr;
    return IPCKIT_OK;
}

ipckit_status ipckit_channel_create(const char* name,
                                    const ipckit_channel_config* config,
                                    ipckit_error* err) {
    return guard(err, "ipckit_channel_create", [&]() -> ipckit_status {
        if (name == nullptr || !ipckit::capi::valid_config(config)) {
            return bad_argument(err, "ipckit_channel_create", name == nullptr ? "name" : "config");
        }
        if (auto r = ipckit::Channel::create(name, ipckit::capi::config_of(config)); !r) {
            return fail(err, r.error());
        }
        return IPCKIT_OK;
    });
}

ipckit_status ipckit_channel_remove(const char* name, const char* dir, ipckit_error* err) {
    return guard(err, "ipckit_channel_remove", [&]() -> ipckit_status {
        if (name == nullptr) {
            return bad_argument(err, "ipckit_channel_remove", "name");
        }
        if (auto r = ipckit::Channel::remove(name, ipckit::capi::options_of(dir)); !r) {
            return fail(err, r.error());
        }
        return IPCKIT_OK;
    });
}

// ---- publisher

ipckit_status ipckit_publisher_open(const char* name,
                                    const char* dir,
                                    ipckit_publisher* out,
                                    ipckit_error* err) {
    return guard(err, "ipckit_publisher_open", [&]() -> ipckit_status {
        if (name == nullptr || out == nullptr) {
            return bad_argument(err, "ipckit_publisher_open", name == nullptr ? "name" : "out");
        }
        auto p = ipckit::Publisher::open(name, ipckit::capi::options_of(dir));
        if (!p) {
            return fail(err, p.error());
        }
        return ipckit::capi::insert_handle(std::make_unique<PublisherObject>(std::move(*p)),
                                           &out->handle,
                                           err,
                                           "ipckit_publisher_open");
    });
}

ipckit_status ipckit_publisher_create(const char* name,
                                      const ipckit_channel_config* config,
                                      ipckit_publisher* out,
                                      ipckit_error* err) {
    return guard(err, "ipckit_publisher_create", [&]() -> ipckit_status {
        if (name == nullptr || out == nullptr || !ipckit::capi::valid_config(config)) {
            return bad_argument(err,
                                "ipckit_publisher_create",
                                name == nullptr  ? "name"
                                : out == nullptr ? "out"
                                                 : "config");
        }
        auto p = ipckit::Publisher::create(name, ipckit::capi::config_of(config));
        if (!p) {
            return fail(err, p.error());
        }
        return ipckit::capi::insert_handle(std::make_unique<PublisherObject>(std::move(*p)),
                                           &out->handle,
                                           err,
                                           "ipckit_publisher_create");
    });
}

ipckit_status ipckit_publisher_close(ipckit_publisher pub, ipckit_error* err) {
    auto obj = handles().remove(pub.handle, PublisherObject::kKind);
    return obj ? IPCKIT_OK : bad_handle(err, "ipckit_publisher_close");
}

ipckit_status ipckit_publisher_loan(
    ipckit_publisher pub, size_t n, int64_t deadline, ipckit_loan* loan, ipckit_error* err) {
    return with_object<PublisherObject>(
        err, "ipckit_publisher_loan", pub.handle, [&](PublisherObject* p) -> ipckit_status {
            if (loan == nullptr) {
                return bad_argument(err, "ipckit_publisher_loan", "loan");
            }
            const ipckit_status s = ipckit::capi::take_loan(*p, n, deadline, err);
            if (s != IPCKIT_OK) {
                return s;
            }
            *loan = ipckit_loan{p->loan->data(), p->loan->capacity(), p->loan_token};
            return IPCKIT_OK;
        });
}

ipckit_status ipckit_publisher_publish(ipckit_publisher pub,
                                       ipckit_loan* loan,
                                       size_t n,
                                       ipckit_error* err) {
    return with_object<PublisherObject>(
        err, "ipckit_publisher_publish", pub.handle, [&](PublisherObject* p) -> ipckit_status {
            if (loan == nullptr) {
                return bad_argument(err, "ipckit_publisher_publish", "loan");
            }
            if (!ipckit::capi::loan_matches(*p, *loan)) {
                return bad_handle(err, "ipckit_publisher_publish: not the outstanding loan");
            }
            if (n > p->loan->capacity()) {
                return bad_argument(err, "ipckit_publisher_publish", "n > loan capacity");
            }
            return ipckit::capi::publish_loan(*p, loan, n, err);
        });
}

ipckit_status ipckit_publisher_discard(ipckit_publisher pub, ipckit_loan* loan, ipckit_error* err) {
    return with_object<PublisherObject>(
        err, "ipckit_publisher_discard", pub.handle, [&](PublisherObject* p) -> ipckit_status {
            if (loan == nullptr) {
                return bad_argument(err, "ipckit_publisher_discard", "loan");
            }
            if (!ipckit::capi::loan_matches(*p, *loan)) {
                return bad_handle(err, "ipckit_publisher_discard: not the outstanding loan");
            }
            p->loan.reset();  // ~Loan gives the space back
            *loan = ipckit_loan{};
            return IPCKIT_OK;
        });
}

ipckit_status ipckit_publisher_send(
    ipckit_publisher pub, const void* data, size_t n, int64_t deadline, ipckit_error* err) {
    return with_object<PublisherObject>(
        err, "ipckit_publisher_send", pub.handle, [&](PublisherObject* p) -> ipckit_status {
            if (data == nullptr && n != 0) {
                return bad_argument(err, "ipckit_publisher_send", "data");
            }
            const ipckit_status s = ipckit::capi::take_loan(*p, n, deadline, err);
            if (s != IPCKIT_OK) {
                return s;
            }
            if (n != 0) {
                std::memcpy(p->loan->data(), data, n);
            }
            ipckit_loan loan{};
            return ipckit::capi::publish_loan(*p, &loan, n, err);
        });
}

ipckit_status ipckit_publisher_max_message_size(ipckit_publisher pub,
                                                size_t* out,
                                                ipckit_error* err) {
    return read_into<PublisherObject>(
        err, "ipckit_publisher_max_message_size", pub.handle, out, [](const PublisherObject* p) {
            return p->pub.max_message_size();
        });
}

ipckit_status ipckit_publisher_published(ipckit_publisher pub, uint64_t* out, ipckit_error* err) {
    return read_into<PublisherObject>(
        err, "ipckit_publisher_published", pub.handle, out, [](const PublisherObject* p) {
            return p->pub.published_count();
        });
}

// ---- subscriber

ipckit_status ipckit_subscriber_open(const char* name,
                                     const char* dir,
                                     ipckit_subscriber* out,
                                     ipckit_error* err) {
    return guard(err, "ipckit_subscriber_open", [&]() -> ipckit_status {
        if (name == nullptr || out == nullptr) {
            return bad_argument(err, "ipckit_subscriber_open", name == nullptr ? "name" : "out");
        }
        auto s = ipckit::Subscriber::open(name, ipckit::capi::options_of(dir));
        if (!s) {
            return fail(err, s.error());
        }
        auto obj = std::make_unique<SubscriberObject>(std::move(*s));
        obj->samples.reserve(4);  // the default max_loans: no allocation on the receive path
        return ipckit::capi::insert_handle(
            std::move(obj), &out->handle, err, "ipckit_subscriber_open");
    });
}

ipckit_status ipckit_subscriber_close(ipckit_subscriber sub, ipckit_error* err) {
    auto obj = handles().remove(sub.handle, SubscriberObject::kKind);
    return obj ? IPCKIT_OK : bad_handle(err, "ipckit_subscriber_close");
}

ipckit_status ipckit_subscriber_receive(ipckit_subscriber sub,
                                        int64_t deadline,
                                        ipckit_sample* sample,
                                        ipckit_error* err) {
    return with_object<SubscriberObject>(
        err, "ipckit_subscriber_receive", sub.handle, [&](SubscriberObject* s) -> ipckit_status {
            if (sample == nullptr) {
                return bad_argument(err, "ipckit_subscriber_receive", "sample");
            }
            auto r = deadline == 0 ? s->sub.try_receive()
                                   : s->sub.receive_until(ipckit::capi::to_deadline(deadline));
            if (!r) {
                return fail(err, r.error());
            }
            if (!*r) {
                return deadline == 0 ? IPCKIT_EAGAIN : IPCKIT_ETIMEDOUT;
            }
            std::size_t index = 0;
            while (index < s->samples.size() && s->samples[index].sample) {
                ++index;
            }
            if (index == s->samples.size()) {
                s->samples.emplace_back();  // bad_alloc: **r is released by its destructor
            }
            ipckit::capi::SampleSlot& slot = s->samples[index];
            slot.sample.emplace(std::move(**r));
            ++slot.generation;  // odd: held
            *sample = ipckit_sample{slot.sample->data(),
                                    slot.sample->size(),
                                    slot.sample->publisher(),
                                    slot.sample->lost_before(),
                                    (std::uint64_t{slot.generation} << 32U) | index};
            return IPCKIT_OK;
        });
}

ipckit_status ipckit_subscriber_release(ipckit_subscriber sub,
                                        ipckit_sample* sample,
                                        ipckit_error* err) {
    auto* s = handles().lookup<SubscriberObject>(sub.handle);
    if (s == nullptr) {
        return bad_handle(err, "ipckit_subscriber_release");
    }
    if (sample == nullptr) {
        return bad_argument(err, "ipckit_subscriber_release", "sample");
    }
    const auto index = static_cast<std::uint32_t>(sample->token);
    const auto generation = static_cast<std::uint32_t>(sample->token >> 32U);
    if ((generation & 1U) == 0 || index >= s->samples.size() ||
        s->samples[index].generation != generation || !s->samples[index].sample ||
        s->samples[index].sample->data() != sample->data) {
        return bad_handle(err, "ipckit_subscriber_release: not a held sample");
    }
    ipckit::capi::SampleSlot& slot = s->samples[index];
    s->sub.release(std::move(*slot.sample));
    slot.sample.reset();
    ++slot.generation;  // even: free
    *sample = ipckit_sample{};
    return IPCKIT_OK;
}

ipckit_status ipckit_subscriber_receive_copy(ipckit_subscriber sub,
                                             void* buf,
                                             size_t capacity,
                                             int64_t deadline,
                                             ipckit_received* info,
                                             ipckit_error* err) {
    return with_object<SubscriberObject>(
        err,
        "ipckit_subscriber_receive_copy",
        sub.handle,
        [&](SubscriberObject* s) -> ipckit_status {
            if (buf == nullptr && capacity != 0) {
                return bad_argument(err, "ipckit_subscriber_receive_copy", "buf");
            }
            const std::span<std::byte> out(static_cast<std::byte*>(buf), capacity);
            auto r = deadline == 0 ? s->sub.try_receive(out)
                                   : s->sub.receive_until(out, ipckit::capi::to_deadline(deadline));
            if (!r) {
                return fail(err, r.error());
            }
            if (!*r) {
                return deadline == 0 ? IPCKIT_EAGAIN : IPCKIT_ETIMEDOUT;
            }
            if (info != nullptr) {
                *info = ipckit_received{(*r)->size, (*r)->publisher, (*r)->lost_before};
            }
            return IPCKIT_OK;
        });
}

ipckit_status ipckit_subscriber_fd(ipckit_subscriber sub, int* fd, ipckit_error* err) {
    return with_object<SubscriberObject>(
        err, "ipckit_subscriber_fd", sub.handle, [&](SubscriberObject* s) -> ipckit_status {
            if (fd == nullptr) {
                return bad_argument(err, "ipckit_subscriber_fd", "fd");
            }
            auto r = s->sub.notification_fd();
            if (!r) {
                return fail(err, r.error());
            }
            *fd = *r;
            return IPCKIT_OK;
        });
}

ipckit_status ipckit_subscriber_counters(ipckit_subscriber sub,
                                         ipckit_counters* out,
                                         ipckit_error* err) {
    return read_into<SubscriberObject>(
        err, "ipckit_subscriber_counters", sub.handle, out, [](const SubscriberObject* s) {
            return ipckit_counters{
                s->sub.received_count(), s->sub.lost_count(), s->sub.corrupt_count()};
        });
}

ipckit_status ipckit_subscriber_max_message_size(ipckit_subscriber sub,
                                                 size_t* out,
                                                 ipckit_error* err) {
    return read_into<SubscriberObject>(
        err, "ipckit_subscriber_max_message_size", sub.handle, out, [](const SubscriberObject* s) {
            return s->sub.max_message_size();
        });
}

}  // extern "C"
