// SPDX-License-Identifier: MIT
// EventNotifier: adds to the counters of an event file (event.hpp).
#pragma once

#include "ipckit/export.hpp"
#include "ipckit/event/event.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace ipckit {

namespace detail {
struct EventImpl;
}  // namespace detail

/// Adds to counters of an event. No system call unless a listener sleeps.
/// Ownership: holds its own descriptor and mapping; never removes the file.
/// Thread-safety: notify() may be called from many threads. Fork: the descriptor is CLOEXEC.
///
/// @code
///   auto n = EventNotifier::open("event:jobs").value();
///   n.notify(3).value();
/// @endcode
class IPCKIT_API EventNotifier {
public:
    static Result<EventNotifier> open(std::string_view name, const EventOptions& options = {});
    /// Creates the file (exclusive) and opens it.
    static Result<EventNotifier> create(std::string_view name, const EventConfig& config = {});

    /// Adds 1 to counter `id` and wakes sleeping listeners. errc::invalid_argument for an id not
    /// below max_ids(); errc::bad_message if the header was overwritten; errc::bad_address if the
    /// file was truncated under us.
    Result<void> notify(std::uint32_t id);
    [[nodiscard]] std::uint32_t max_ids() const noexcept;
    [[nodiscard]] const std::string& name() const noexcept;

    EventNotifier(EventNotifier&& other) noexcept;
    EventNotifier& operator=(EventNotifier&& other) noexcept;
    EventNotifier(const EventNotifier&) = delete;
    EventNotifier& operator=(const EventNotifier&) = delete;
    ~EventNotifier();

private:
    explicit EventNotifier(std::unique_ptr<detail::EventImpl> impl) noexcept;
    std::unique_ptr<detail::EventImpl> impl_;
};

}  // namespace ipckit
