// SPDX-License-Identifier: MIT
#include "ipckit/event/event_notifier.hpp"

#include "event/event_file.hpp"
#include "ipckit/core/assert.hpp"
#include "ipckit/sync/futex.hpp"
#include "sync/fences.hpp"

#include <atomic>

namespace ipckit {

using detail::EventImpl;

EventNotifier::EventNotifier(std::unique_ptr<EventImpl> impl) noexcept : impl_(std::move(impl)) {}
EventNotifier::EventNotifier(EventNotifier&& other) noexcept = default;
EventNotifier& EventNotifier::operator=(EventNotifier&& other) noexcept = default;
EventNotifier::~EventNotifier() = default;

Result<EventNotifier> EventNotifier::open(std::string_view name, const EventOptions& options) {
    IPCKIT_TRY_ASSIGN(auto impl, EventImpl::open(name, options));
    return EventNotifier(std::move(impl));
}

Result<EventNotifier> EventNotifier::create(std::string_view name, const EventConfig& config) {
    IPCKIT_TRY_ASSIGN(auto impl, EventImpl::create(name, config));
    return EventNotifier(std::move(impl));
}

Result<void> EventNotifier::notify(std::uint32_t id) {
    IPCKIT_ASSERT(impl_ != nullptr, "use of a moved-from EventNotifier");
    if (id >= impl_->max_ids) {
        return Error(
            std::errc::invalid_argument,
            "event notify",
            impl_->object(),
            "id " + std::to_string(id) + " not below max_ids " + std::to_string(impl_->max_ids));
    }
    IPCKIT_TRY(impl_->check_usable("event notify"));
    auto& h = impl_->header();
    impl_->counter(id).fetch_add(1, std::memory_order_release);
    // Dekker pair with EventListener::wait (sleepers++, fence, read the counters): either the
    // listener sees our increment, or we see its sleeper count and wake it. No system call when
    // nobody sleeps.
    detail::full_fence();
    if (h.sleepers.load(std::memory_order_relaxed) != 0) {
        h.seq.fetch_add(1, std::memory_order_release);
        IPCKIT_TRY(Futex::wake_all(h.seq));
    }
    // After the same fence: the Dekker pair with a WaitSet's arm, fence, re-check.
    detail::ring_doorbells(impl_->doorbells());
    return {};
}

std::uint32_t EventNotifier::max_ids() const noexcept {
    return impl_->max_ids;
}
const std::string& EventNotifier::name() const noexcept {
    return impl_->name;
}

}  // namespace ipckit
