// SPDX-License-Identifier: MIT
// How the ipckit command presents itself: --help with placeholders that say what a value is
// (URI, DURATION, PATH) wrapped at 80 columns, and parser errors as "ipckit SUB: ..." with the
// closest subcommand or option suggested.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace ipckit::cli {

/// Help lines are wrapped to fit this many columns.
inline constexpr std::size_t kHelpWidth = 80;

/// CLI11's formatter with ipckit's placeholders and wrapping. Subcommands inherit it when it is
/// set on the root before they are added.
class HelpFormatter : public CLI::Formatter {
public:
    HelpFormatter();
    std::string make_option_opts(const CLI::Option* opt) const override;
    std::string make_option_desc(const CLI::Option* opt) const override;
    std::string make_subcommand(const CLI::App* sub) const override;
    std::string make_description(const CLI::App* app) const override;
    std::string make_footer(const CLI::App* app) const override;
};

/// The placeholder of an option's value: "DURATION" for --timeout, "URI" for uri, "PATH" for
/// --file, ...; otherwise its name in capitals.
std::string placeholder_for(std::string_view option_name);

/// `text` wrapped at word boundaries: the first line at most `width` characters, the others
/// `rest_width` (a longer word stays whole). Existing line breaks are kept.
std::string wrap_text(std::string_view text, std::size_t width, std::size_t rest_width);

/// The candidate closest to `word` (edit distance, at most 2, or a unique prefix), or "".
std::string closest_match(std::string_view word, const std::vector<std::string>& candidates);

/// Prints a parse error the ipckit way ("ipckit send: unknown option '--prioo' (did you mean
/// '--prio'?)" and a pointer to --help) and returns the exit code: 0 for --help/--version
/// (printed by CLI11 on stdout), 2 otherwise.
int report_parse_error(CLI::App& root, const CLI::ParseError& error);

}  // namespace ipckit::cli
