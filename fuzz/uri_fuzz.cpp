// SPDX-License-Identifier: MIT
// Fuzz target: Uri::parse over arbitrary text, then everything that renders a parsed URI.
//
// Properties checked beyond the sanitizers: parsing is deterministic; the canonical
// object_string() of a URI whose parts need no %-escaping parses again, to itself.
#include "fuzz_target.hpp"
#include "ipckit/endpoint/uri.hpp"

#include <string>
#include <string_view>
#include <variant>

namespace {

using ipckit::Uri;

/// Characters object_string() prints raw although the grammar gives them a meaning (or needs
/// them %-escaped): a canonical string holding one is not expected to parse back unchanged.
bool needs_escaping(std::string_view s) {
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '%' || c == '?' || c == '&' || c == '#' || u < 0x20 || u == 0x7f) {
            return true;
        }
    }
    return false;
}

void render(const Uri& uri) {
    (void)uri.scheme_name();
    (void)Uri::known_options(uri.scheme());
    (void)uri.text();
    std::visit(
        [](const auto& a) {
            using T = std::decay_t<decltype(a)>;
            if constexpr (std::is_same_v<T, ipckit::SysvMqUri>) {
                (void)a.address.to_string();
                if (a.type) {
                    (void)ipckit::validate_sysv_send_type(*a.type);
                }
            } else if constexpr (std::is_same_v<T, ipckit::SysvShmUri> ||
                                 std::is_same_v<T, ipckit::SysvSemUri>) {
                (void)a.address.to_string();
            } else if constexpr (std::is_same_v<T, ipckit::ChanUri>) {
                (void)ipckit::channel_file_name(a.name);
            }
        },
        uri.address());
}

}  // namespace

IPCKIT_FUZZ_TARGET(uri) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);  // NOLINT: bytes
    auto uri = Uri::parse(text);
    auto again = Uri::parse(text);
    FUZZ_CHECK(uri.has_value() == again.has_value());
    if (!uri) {
        FUZZ_CHECK(again.error().message() == uri.error().message());
        FUZZ_CHECK(!uri.error().message().empty());
        return 0;
    }
    render(*uri);
    const std::string canonical = uri->object_string();
    FUZZ_CHECK(canonical == again->object_string());
    if (!needs_escaping(canonical)) {
        auto reparsed = Uri::parse(canonical);
        FUZZ_CHECK(reparsed.has_value());
        FUZZ_CHECK(reparsed->scheme() == uri->scheme());
        FUZZ_CHECK(reparsed->object_string() == canonical);
    }
    return 0;
}
