// SPDX-License-Identifier: MIT
#include "help_format.hpp"

#include "cli.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <fmt/core.h>
#include <utility>

namespace ipckit::cli {

namespace {

/// Column where option descriptions start.
constexpr std::size_t kNameColumn = 30;

/// The generic type names CLI11 gives an option nobody named.
bool is_generic_type(std::string_view t) {
    return t == "TEXT" || t == "INT" || t == "UINT" || t == "FLOAT" || t == "NUMBER";
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) {
        row[j] = j;
    }
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t up = row[j];
            row[j] =
                std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diagonal = up;
        }
    }
    return row[b.size()];
}

/// The words CLI11 names in "The following argument(s) was/were not expected: a b".
std::vector<std::string> unexpected_words(const std::string& message) {
    std::vector<std::string> words;
    const auto colon = message.find(": ");
    if (colon == std::string::npos) {
        return words;
    }
    std::string word;
    for (const char c : message.substr(colon + 2)) {
        if (c == ' ') {
            if (!word.empty()) {
                words.push_back(std::move(word));
                word.clear();
            }
        } else {
            word += c;
        }
    }
    if (!word.empty()) {
        words.push_back(std::move(word));
    }
    return words;
}

/// The deepest subcommand the parser reached (the root if none).
CLI::App* deepest_parsed(CLI::App& root) {
    CLI::App* app = &root;
    for (bool descended = true; descended;) {
        descended = false;
        for (CLI::App* sub : app->get_subcommands([](CLI::App* s) { return s->parsed(); })) {
            app = sub;
            descended = true;
            break;
        }
    }
    return app;
}

std::vector<std::string> option_names(const CLI::App& app) {
    std::vector<std::string> names;
    for (const CLI::Option* o : app.get_options()) {
        for (const std::string& l : o->get_lnames()) {
            names.push_back("--" + l);
        }
        for (const std::string& s : o->get_snames()) {
            names.push_back("-" + s);
        }
    }
    return names;
}

std::vector<std::string> subcommand_names(const CLI::App& app) {
    std::vector<std::string> names;
    for (const CLI::App* s : app.get_subcommands({})) {
        names.push_back(s->get_name());
    }
    return names;
}

/// Hand-wrapped text (descriptions, footers) re-wrapped at kHelpWidth: a line that starts with a
/// letter continues the line before it unless that one ended a sentence (or a "label:");
/// indented lines (lists, examples) keep their own line and indentation.
std::string reflow(const std::string& text) {
    std::vector<std::string> lines;
    std::size_t start = 0;
    while (start <= text.size()) {
        auto end = text.find('\n', start);
        end = end == std::string::npos ? text.size() : end;
        std::string line = text.substr(start, end - start);
        const bool continues = !lines.empty() && !lines.back().empty() && !line.empty() &&
                               std::isalnum(static_cast<unsigned char>(line.front())) != 0 &&
                               lines.back().front() != ' ' && lines.back().back() != '.' &&
                               lines.back().back() != ':';
        if (continues) {
            lines.back() += (lines.back().back() == '/' ? "" : " ") + line;  // a URI cut at '/'
        } else {
            lines.push_back(std::move(line));
        }
        start = end + 1;
    }
    std::string out;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const std::string& l = lines[i];
        const std::size_t indent = std::min(l.find_first_not_of(' '), l.size());
        // An indented "label  text" line hangs its continuation under the text.
        std::size_t hang = indent;
        if (indent > 0) {
            const auto gap = l.find("  ", indent);
            const auto text_at = gap == std::string::npos ? gap : l.find_first_not_of(' ', gap);
            hang = text_at >= kHelpWidth / 2 ? indent + 2 : text_at;  // npos too
        }
        std::string wrapped =
            wrap_text(std::string_view(l).substr(indent), kHelpWidth - indent, kHelpWidth - hang);
        for (std::size_t p = wrapped.find('\n'); p != std::string::npos;
             p = wrapped.find('\n', p + 1)) {
            wrapped.insert(p + 1, hang, ' ');
        }
        out += std::string(indent, ' ') + wrapped + (i + 1 < lines.size() ? "\n" : "");
    }
    return out;
}

}  // namespace

HelpFormatter::HelpFormatter() {
    column_width(kNameColumn);
}

std::string placeholder_for(std::string_view option_name) {
    static constexpr std::array<std::pair<std::string_view, std::string_view>, 16> kKnown = {{
        {"timeout", "DURATION"},
        {"uri", "URI"},
        {"uris", "URI"},
        {"from", "URI"},
        {"to", "URI"},
        {"file", "PATH"},
        {"json", "PATH"},
        {"csv", "PATH"},
        {"svg", "PATH"},
        {"compare", "PATH"},
        {"mode", "MODE"},
        {"count", "N"},
        {"value", "N"},
        {"prio", "N"},
        {"messages", "MESSAGE"},
        {"only", "LIST"},
    }};
    for (const auto& [name, label] : kKnown) {
        if (name == option_name) {
            return std::string(label);
        }
    }
    std::string upper(option_name);
    for (char& c : upper) {
        c = c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    return upper;
}

std::string wrap_text(std::string_view text, std::size_t width, std::size_t rest_width) {
    std::string out;
    std::size_t column = 0;
    std::size_t i = 0;
    while (i < text.size()) {
        if (text[i] == '\n') {
            out += '\n';
            column = 0;
            ++i;
            continue;
        }
        if (text[i] == ' ') {
            ++i;
            if (column > 0 && i < text.size() && text[i] != ' ' && text[i] != '\n') {
                // A space between words: kept unless the next word starts a new line.
                std::size_t end = text.find_first_of(" \n", i);
                end = end == std::string_view::npos ? text.size() : end;
                if (column + 1 + (end - i) > width) {
                    out += '\n';
                    column = 0;
                    width = rest_width;
                } else {
                    out += ' ';
                    ++column;
                }
            } else if (column < width) {
                out += ' ';  // indentation and runs of spaces are kept as they are
                ++column;
            }
            continue;
        }
        std::size_t end = text.find_first_of(" \n", i);
        end = end == std::string_view::npos ? text.size() : end;
        out += text.substr(i, end - i);
        column += end - i;
        i = end;
    }
    return out;
}

std::string HelpFormatter::make_option_opts(const CLI::Option* opt) const {
    std::string opts = CLI::Formatter::make_option_opts(opt);
    const std::string& type = opt->get_type_name();
    if (opt->get_option_text().empty() && is_generic_type(type)) {
        const std::string name =
            opt->get_lnames().empty() ? opt->get_name(false, false) : opt->get_lnames().front();
        const std::string generic = " " + type;
        if (opts.rfind(generic, 0) == 0) {
            opts.replace(0, generic.size(), " " + placeholder_for(name));
        }
    }
    return opts;
}

std::string HelpFormatter::make_description(const CLI::App* app) const {
    return reflow(CLI::Formatter::make_description(app));
}

std::string HelpFormatter::make_footer(const CLI::App* app) const {
    return reflow(CLI::Formatter::make_footer(app));
}

std::string HelpFormatter::make_option_desc(const CLI::Option* opt) const {
    return wrap_text(opt->get_description(), kHelpWidth - kNameColumn, kHelpWidth - kNameColumn);
}

std::string HelpFormatter::make_subcommand(const CLI::App* sub) const {
    std::string out = "  " + sub->get_display_name();
    out.resize(std::max(out.size(), kNameColumn), ' ');
    if (out.size() > kNameColumn) {
        out += "\n" + std::string(kNameColumn, ' ');
    }
    // The list shows the first sentence; `ipckit SUB --help` shows the whole description.
    std::string first = sub->get_description();
    first = first.substr(0, first.find('\n'));
    for (const char* stop : {". ", ": ", " (", "; "}) {
        if (const auto at = first.find(stop); at != std::string::npos) {
            first.resize(at);
        }
    }
    std::string desc = wrap_text(first, kHelpWidth - kNameColumn, kHelpWidth - kNameColumn);
    for (std::size_t p = desc.find('\n'); p != std::string::npos; p = desc.find('\n', p + 1)) {
        desc.insert(p + 1, kNameColumn, ' ');
    }
    return out + desc + "\n";
}

std::string closest_match(std::string_view word, const std::vector<std::string>& candidates) {
    std::string best;
    std::size_t best_distance = 3;  // at most 2 edits
    std::vector<std::string> prefixed;
    for (const std::string& c : candidates) {
        if (word.size() >= 2 && c.starts_with(word)) {
            prefixed.push_back(c);
        }
        const std::size_t d = edit_distance(word, c);
        if (d < best_distance && d < c.size()) {
            best_distance = d;
            best = c;
        }
    }
    if (best.empty() && prefixed.size() == 1) {
        best = prefixed.front();
    }
    return best;
}

int report_parse_error(CLI::App& root, const CLI::ParseError& error) {
    if (error.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) {
        return root.exit(error) == 0 ? kExitOk : kExitUsage;  // --help, --version: CLI11 prints
    }
    CLI::App* app = deepest_parsed(root);
    const std::string who = app == &root ? "ipckit" : "ipckit " + app->get_name();
    const std::string help =
        app == &root ? "ipckit --help" : "ipckit " + app->get_name() + " --help";
    bool explained = false;
    if (dynamic_cast<const CLI::ExtrasError*>(&error) != nullptr) {
        std::vector<std::string> words = unexpected_words(error.what());
        // CLI11 lists them last first; name them in command-line order.
        const std::vector<std::string>& argv = command_line();
        std::stable_sort(
            words.begin(), words.end(), [&](const std::string& x, const std::string& y) {
                return std::find(argv.begin(), argv.end(), x) <
                       std::find(argv.begin(), argv.end(), y);
            });
        for (const std::string& w : words) {
            const bool is_option = w.size() > 1 && w.front() == '-';
            std::string name = w.substr(0, w.find('='));
            if (is_option) {
                const std::string guess = closest_match(name, option_names(*app));
                fmt::print(stderr,
                           "{}: unknown option '{}'{}\n",
                           who,
                           name,
                           guess.empty() ? "" : " (did you mean '" + guess + "'?)");
            } else if (app == &root) {
                const std::string guess = closest_match(w, subcommand_names(root));
                fmt::print(stderr,
                           "ipckit: unknown subcommand '{}'{}\n",
                           w,
                           guess.empty() ? "" : " (did you mean '" + guess + "'?)");
                explained = true;
                break;  // what follows it were its arguments
            } else {
                fmt::print(stderr, "{}: unexpected argument '{}'\n", who, w);
            }
            explained = true;
        }
    }
    if (!explained) {
        fmt::print(stderr, "{}: {}\n", who, error.what());
    }
    fmt::print(stderr, "Run '{}' for more information.\n", help);
    return kExitUsage;
}

}  // namespace ipckit::cli
