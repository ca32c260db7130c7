// SPDX-License-Identifier: MIT
#include "ipckit/core/error.hpp"

#include <string.h>

#include "ipckit/core/result.hpp"

namespace ipckit {

const std::string& Error::no_text() noexcept {
    static const std::string empty;
    return empty;
}

std::string Error::message() const {
    std::string out(op_);
    if (!object().empty()) {
        out += ' ';
        out += object();
    }
    out += ": ";
    out += code_.message();
    if (!detail().empty()) {
        out += " (";
        out += detail();
        out += ')';
    }
    return out;
}

std::string_view Error::errno_name() const noexcept {
    int value = code_.value();
    if (code_.category() != std::system_category() && code_.category() != std::generic_category()) {
        // ipckit's own categories (ownership refusals) map to the errno they stand for.
        const std::error_condition cond = code_.default_error_condition();
        if (cond.category() != std::generic_category()) {
            return "EUNKNOWN";
        }
        value = cond.value();
    }
    const char* name = ::strerrorname_np(value);  // glibc >= 2.32
    return name != nullptr ? std::string_view(name) : std::string_view("EUNKNOWN");
}

Error Error::with_detail(std::string_view more) const {
    Error e = *this;
    if (more.empty()) {
        return e;
    }
    if (!e.text_) {
        e.text_ = std::make_unique<Text>();
    }
    std::string& detail = e.text_->detail;
    if (!detail.empty()) {
        detail += "; ";
    }
    detail += more;
    return e;
}

}  // namespace ipckit
