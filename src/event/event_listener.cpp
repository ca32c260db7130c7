// SPDX-License-Identifier: MIT
#include "ipckit/event/event_listener.hpp"

#include "event/event_file.hpp"
#include "ipckit/core/assert.hpp"
#include "ipckit/sync/futex.hpp"
#include "sync/fences.hpp"

#include <atomic>
#include <chrono>

namespace ipckit {

using detail::EventImpl;

namespace {
/// The longest sleep between two looks at the file: a removed or truncated file wakes nobody.
constexpr std::chrono::milliseconds kIntactSlice{50};
}  // namespace

EventListener::EventListener(std::unique_ptr<EventImpl> impl) noexcept : impl_(std::move(impl)) {}
EventListener::EventListener(EventListener&& other) noexcept = default;
EventListener& EventListener::operator=(EventListener&& other) noexcept = default;
EventListener::~EventListener() = default;

namespace {
/// Counts start from what the counters hold now.
void start_at_current(EventImpl& e) noexcept {
    for (std::uint32_t id = 0; id < e.max_ids; ++id) {
        e.seen[id] = e.counter(id).load(std::memory_order_acquire);
    }
}
}  // namespace

Result<EventListener> EventListener::open(std::string_view name, const EventOptions& options) {
    IPCKIT_TRY_ASSIGN(auto impl, EventImpl::open(name, options));
    start_at_current(*impl);
    return EventListener(std::move(impl));
}

Result<EventListener> EventListener::create(std::string_view name, const EventConfig& config) {
    IPCKIT_TRY_ASSIGN(auto impl, EventImpl::create(name, config));
    start_at_current(*impl);
    return EventListener(std::move(impl));
}

Result<std::vector<EventCount>> EventListener::take() {
    IPCKIT_ASSERT(impl_ != nullptr, "use of a moved-from EventListener");
    auto& e = *impl_;
    IPCKIT_TRY(e.check_usable("event take"));
    std::vector<EventCount> out;
    for (std::uint32_t id = 0; id < e.max_ids; ++id) {
        const std::uint64_t now = e.counter(id).load(std::memory_order_acquire);
        const std::uint64_t delta = now - e.seen[id];
        if (delta == 0) {
            continue;
        }
        e.seen[id] = now;
        // Counters only grow; a step back (mod 2^64, more than half the range) was written by
        // someone else: resynchronise to it and count it, report nothing for this look.
        if (static_cast<std::int64_t>(delta) < 0) {
            ++e.corrupt;
            continue;
        }
        out.push_back({id, delta});
    }
    // A SIGBUS during the scan read zeros: the file is gone, not the counters.
    IPCKIT_TRY(e.check_usable("event take"));
    return out;
}

Result<std::optional<std::vector<EventCount>>> EventListener::wait(Deadline deadline) {
    IPCKIT_ASSERT(impl_ != nullptr, "use of a moved-from EventListener");
    auto& e = *impl_;
    auto& h = e.header();
    for (;;) {
        // Dekker pair with notify(): announce the sleep, fence, then look; a notifier that
        // incremented before our look is seen by it, one after it sees our sleeper count.
        h.sleepers.fetch_add(1, std::memory_order_seq_cst);
        detail::full_fence();
        const std::uint32_t v = h.seq.load(std::memory_order_acquire);
        auto got = take();
        if (!got || !got->empty() || deadline.expired()) {
            h.sleepers.fetch_sub(1, std::memory_order_relaxed);
            if (!got) {
                return std::move(got).error();
            }
            if (got->empty()) {
                return std::optional<std::vector<EventCount>>();
            }
            return std::optional<std::vector<EventCount>>(std::move(*got));
        }
        if (auto intact = e.check_intact("event wait"); !intact) {
            h.sleepers.fetch_sub(1, std::memory_order_relaxed);
            return std::move(intact).error();
        }
        Deadline slice = Deadline::after(kIntactSlice);
        if (deadline < slice) {
            slice = deadline;
        }
        auto w = Futex::wait(h.seq, v, slice);
        h.sleepers.fetch_sub(1, std::memory_order_relaxed);
        if (!w) {
            return std::move(w).error();
        }
    }
}

std::uint64_t EventListener::corrupt() const noexcept {
    return impl_->corrupt;
}
std::uint32_t EventListener::max_ids() const noexcept {
    return impl_->max_ids;
}
const std::string& EventListener::name() const noexcept {
    return impl_->name;
}

}  // namespace ipckit
