// SPDX-License-Identifier: MIT
#include "ipckit/sync/shared_condition.hpp"

#include "ipckit/sync/futex.hpp"
#include "sync/shm_placement.hpp"

#include <new>
#include <string>

namespace ipckit {

namespace {
constexpr std::string_view kConditionObject = "shared condition";
using Seq = std::atomic<std::uint32_t>;
}  // namespace

Result<SharedCondition> SharedCondition::init(std::span<std::byte> where) {
    IPCKIT_TRY_ASSIGN(auto c,
                      detail::place_in<Seq>("shared_condition_init", kConditionObject, where));
    return SharedCondition(new (c) Seq(0));
}

Result<SharedCondition> SharedCondition::attach(std::span<std::byte> where) {
    IPCKIT_TRY_ASSIGN(auto c,
                      detail::place_in<Seq>("shared_condition_attach", kConditionObject, where));
    return SharedCondition(c);
}

Result<ConditionWait> SharedCondition::wait(RobustMutex& mutex, Deadline deadline) {
    // Read the sequence while holding the mutex: a notify that follows a predicate change made
    // under the mutex either happens before this load (and the caller saw the predicate) or bumps
    // the value, so the futex wait below returns at once. No wake-up is lost.
    const std::uint32_t seen = seq_->load(std::memory_order_acquire);
    IPCKIT_TRY(mutex.unlock());
    auto woke = Futex::wait(*seq_, seen, deadline);
    // Re-acquire whatever happened: the caller expects to hold the mutex on return.
    IPCKIT_TRY_ASSIGN(auto relock, mutex.lock());
    if (relock == MutexState::OwnerDied) {
        return ConditionWait::OwnerDied;
    }
    if (!woke) {
        return std::move(woke).error();
    }
    return *woke ? ConditionWait::Notified : ConditionWait::TimedOut;
}

Result<void> SharedCondition::notify_one() {
    seq_->fetch_add(1, std::memory_order_release);
    IPCKIT_TRY(Futex::wake(*seq_, 1));
    return {};
}

Result<void> SharedCondition::notify_all() {
    seq_->fetch_add(1, std::memory_order_release);
    IPCKIT_TRY(Futex::wake_all(*seq_));
    return {};
}

// NOLINTNEXTLINE(readability-convert-member-functions-to-static): API symmetry with RobustMutex
Result<void> SharedCondition::destroy() {
    return {};
}

}  // namespace ipckit
