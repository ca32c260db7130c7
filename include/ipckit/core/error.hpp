// SPDX-License-Identifier: MIT
// ipckit's error value: which call failed, on which object, and why (errno as std::error_code).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <system_error>

#include "ipckit/export.hpp"

namespace ipckit {

/// A failed operation. Carries the errno (as a std::error_code that compares equal to std::errc),
/// the name of the call ("mq_open"), the object it acted on ("/jobs") and an optional detail that
/// tells the user what to do ("maxmsg 11 > /proc/sys/fs/mqueue/msg_max=10").
///
/// message() renders "mq_open /jobs: Permission denied (detail)". An Error is 32 bytes: the code,
/// the static name of the call, and one pointer to the object and detail text, allocated only when
/// there is text. Results carry it by value, so it is kept small; the success path and the ordinary
/// outcomes (would block, timed out) never build one.
class IPCKIT_API Error {
public:
    Error() = default;
    Error(std::error_code code, const char* op, std::string object = {}, std::string detail = {})
        : code_(code), op_(op), text_(make_text(std::move(object), std::move(detail))) {}
    Error(std::errc code, const char* op, std::string object = {}, std::string detail = {})
        : Error(std::make_error_code(code), op, std::move(object), std::move(detail)) {}

    Error(const Error& other)
        : code_(other.code_), op_(other.op_),
          text_(other.text_ ? std::make_unique<Text>(*other.text_) : nullptr) {}
    Error(Error&&) noexcept = default;
    Error& operator=(const Error& other) {
        if (this != &other) {
            *this = Error(other);
        }
        return *this;
    }
    Error& operator=(Error&&) noexcept = default;
    ~Error() = default;

    /// An Error for an errno value (system_category).
    static Error from_errno(int err, const char* op, std::string object = {},
                            std::string detail = {}) {
        return {std::error_code(err, std::system_category()), op, std::move(object),
                std::move(detail)};
    }

    [[nodiscard]] const std::error_code& code() const noexcept { return code_; }
    [[nodiscard]] std::string_view op() const noexcept { return op_; }
    [[nodiscard]] const std::string& object() const noexcept {
        return text_ ? text_->object : no_text();
    }
    [[nodiscard]] const std::string& detail() const noexcept {
        return text_ ? text_->detail : no_text();
    }
    [[nodiscard]] int errno_value() const noexcept { return code_.value(); }

    /// "mq_open /jobs: Permission denied" (plus " (detail)" when there is one).
    [[nodiscard]] std::string message() const;
    /// The symbolic errno name, "EACCES", for the inspector and the CLI's --json output.
    [[nodiscard]] std::string_view errno_name() const noexcept;

    /// Returns a copy with a detail appended (separated by "; " if one is already present).
    [[nodiscard]] Error with_detail(std::string_view more) const;

    friend bool operator==(const Error& e, std::errc c) noexcept { return e.code_ == c; }

private:
    struct Text {
        std::string object;
        std::string detail;
    };
    static std::unique_ptr<Text> make_text(std::string object, std::string detail) {
        if (object.empty() && detail.empty()) {
            return nullptr;
        }
        return std::make_unique<Text>(Text{std::move(object), std::move(detail)});
    }
    static const std::string& no_text() noexcept;

    std::error_code code_;
    const char* op_ = "";  // a string literal naming the call; never owned
    std::unique_ptr<Text> text_;
};

}  // namespace ipckit
