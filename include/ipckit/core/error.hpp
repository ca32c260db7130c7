// SPDX-License-Identifier: MIT
// ipckit's error value: which call failed, on which object, and why (errno as std::error_code).
#pragma once

#include <string>
#include <string_view>
#include <system_error>

namespace ipckit {

/// A failed operation. Carries the errno (as a std::error_code that compares equal to std::errc),
/// the name of the call ("mq_open"), the object it acted on ("/jobs") and an optional detail that
/// tells the user what to do ("maxmsg 11 > /proc/sys/fs/mqueue/msg_max=10").
///
/// message() renders "mq_open /jobs: Permission denied (detail)". Constructing an Error only
/// allocates when the object or detail outgrow the small-string buffer; the success path and the
/// ordinary outcomes (would block, timed out) never build one.
class Error {
public:
    Error() = default;
    Error(std::error_code code, const char* op, std::string object = {}, std::string detail = {})
        : code_(code), op_(op), object_(std::move(object)), detail_(std::move(detail)) {}
    Error(std::errc code, const char* op, std::string object = {}, std::string detail = {})
        : Error(std::make_error_code(code), op, std::move(object), std::move(detail)) {}

    /// An Error for an errno value (system_category).
    static Error from_errno(int err, const char* op, std::string object = {},
                            std::string detail = {}) {
        return {std::error_code(err, std::system_category()), op, std::move(object),
                std::move(detail)};
    }

    [[nodiscard]] const std::error_code& code() const noexcept { return code_; }
    [[nodiscard]] std::string_view op() const noexcept { return op_; }
    [[nodiscard]] const std::string& object() const noexcept { return object_; }
    [[nodiscard]] const std::string& detail() const noexcept { return detail_; }
    [[nodiscard]] int errno_value() const noexcept { return code_.value(); }

    /// "mq_open /jobs: Permission denied" (plus " (detail)" when there is one).
    [[nodiscard]] std::string message() const;
    /// The symbolic errno name, "EACCES", for the inspector and the CLI's --json output.
    [[nodiscard]] std::string_view errno_name() const noexcept;

    /// Returns a copy with a detail appended (separated by "; " if one is already present).
    [[nodiscard]] Error with_detail(std::string_view more) const;

    friend bool operator==(const Error& e, std::errc c) noexcept { return e.code_ == c; }

private:
    std::error_code code_;
    const char* op_ = "";  // a string literal naming the call; never owned
    std::string object_;
    std::string detail_;
};

}  // namespace ipckit
