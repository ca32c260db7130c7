// SPDX-License-Identifier: MIT
#include "ipckit/core/ownership.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <pwd.h>
#include <vector>

namespace ipckit {

namespace {

class OwnershipCategory final : public std::error_category {
public:
    [[nodiscard]] const char* name() const noexcept override { return "ipckit.ownership"; }
    [[nodiscard]] std::string message(int /*value*/) const override { return "untrusted owner"; }
    // Equivalent to the errno it carries (EACCES), so `e == std::errc::permission_denied` holds.
    [[nodiscard]] std::error_condition default_error_condition(int value) const noexcept override {
        return {value, std::generic_category()};
    }
};

Error refusal(const char* op, std::string object, std::string detail) {
    return {
        std::error_code(EACCES, ownership_category()), op, std::move(object), std::move(detail)};
}

std::string not_by(const Ownership& policy) {
    std::string out = "not by you (uid " + std::to_string(::geteuid()) + ")";
    if (!policy.trusted().empty()) {
        out += " or a trusted owner (uid";
        for (uid_t u : policy.trusted()) {
            out += ' ';
            out += std::to_string(u);
        }
        out += ')';
    }
    return out;
}

}  // namespace

const std::error_category& ownership_category() noexcept {
    static const OwnershipCategory category;
    return category;
}

bool is_untrusted_owner(const Error& e) noexcept {
    return e.code().category() == ownership_category();
}

std::string describe_user(uid_t uid) {
    std::string id = "uid " + std::to_string(uid);
    std::vector<char> buf(16384);  // enough for any passwd entry in practice; ERANGE: no name
    passwd pw{};
    passwd* found = nullptr;
    if (::getpwuid_r(uid, &pw, buf.data(), buf.size(), &found) == 0 && found != nullptr &&
        found->pw_name != nullptr && found->pw_name[0] != '\0') {
        return std::string(found->pw_name) + " (" + id + ")";
    }
    return id;
}

bool Ownership::trusts(uid_t uid) const noexcept {
    return any_ || uid == ::geteuid() ||
           std::find(trusted_.begin(), trusted_.end(), uid) != trusted_.end();
}

Result<void> Ownership::check(uid_t owner, const char* op, std::string object) const {
    if (trusts(owner)) {
        return {};
    }
    return refusal(
        op, std::move(object), "owned by " + describe_user(owner) + ", " + not_by(*this));
}

Result<void> Ownership::check(uid_t owner,
                              uid_t creator,
                              const char* op,
                              std::string object) const {
    if (!trusts(owner)) {
        return check(owner, op, std::move(object));
    }
    if (trusts(creator)) {
        return {};
    }
    return refusal(op,
                   std::move(object),
                   "created by " + describe_user(creator) + " (owned by " + describe_user(owner) +
                       "), " + not_by(*this));
}

}  // namespace ipckit
