// SPDX-License-Identifier: MIT
// EventListener: takes and waits for the counters of an event file that moved (event.hpp).
#pragma once

#include "ipckit/export.hpp"
#include "ipckit/core/deadline.hpp"
#include "ipckit/event/event.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ipckit {

namespace detail {
struct EventImpl;
}  // namespace detail
class WaitSet;

/// Watches every counter of an event. It keeps the values it saw in local memory and never
/// writes the counters, so every listener sees every notification and a dead listener changes
/// nothing for the others. Notifications of one id between two looks coalesce into one count.
/// Thread-safety: one thread at a time. Fork: the descriptor is CLOEXEC.
///
/// @code
///   auto l = EventListener::open("event:jobs").value();
///   if (auto got = l.wait(Deadline::after(1s)).value())
///       for (auto [id, count] : *got) handle(id, count);
/// @endcode
class IPCKIT_API EventListener {
public:
    /// Opens; counts start from the values the counters hold now.
    static Result<EventListener> open(std::string_view name, const EventOptions& options = {});
    /// Creates the file (exclusive) and opens it.
    static Result<EventListener> create(std::string_view name, const EventConfig& config = {});

    /// The ids whose counters moved since the last look, by how much, in id order (empty:
    /// nothing new). A counter that went backwards (forged) is resynchronised and counted in
    /// corrupt(). Errors: errc::bad_message (header overwritten), errc::bad_address (truncated).
    Result<std::vector<EventCount>> take();
    /// take(), sleeping until something moved or `deadline` passed (empty optional: timed out).
    /// Sleeps in bounded slices so a removed (errc::identifier_removed) or truncated file is
    /// noticed while waiting.
    Result<std::optional<std::vector<EventCount>>> wait(Deadline deadline);
    /// Counters seen going backwards (a forged or corrupted file).
    [[nodiscard]] std::uint64_t corrupt() const noexcept;
    [[nodiscard]] std::uint32_t max_ids() const noexcept;
    [[nodiscard]] const std::string& name() const noexcept;

    EventListener(EventListener&& other) noexcept;
    EventListener& operator=(EventListener&& other) noexcept;
    EventListener(const EventListener&) = delete;
    EventListener& operator=(const EventListener&) = delete;
    ~EventListener();

private:
    friend class WaitSet;  // reads the counters and the doorbell table (wait_set.cpp)
    explicit EventListener(std::unique_ptr<detail::EventImpl> impl) noexcept;
    std::unique_ptr<detail::EventImpl> impl_;
};

}  // namespace ipckit
