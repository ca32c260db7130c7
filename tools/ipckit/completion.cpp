// SPDX-License-Identifier: MIT
// ipckit completion: a hidden subcommand that prints what the packaging needs from the CLI11 tree,
// so nothing has a hand-kept list of subcommands or options that could drift from the code
// (docs/design/packaging.md):
//   ipckit completion bash       the bash completion script (installed as .../completions/ipckit)
//   ipckit completion commands   "NAME<TAB>first line of its description" per visible subcommand
//                                (one man page each)
#include "cli.hpp"
#include "ipckit/endpoint/uri.hpp"

#include <algorithm>
#include <cstdio>
#include <fmt/core.h>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ipckit::cli {

namespace {

// Only these characters reach the script, inside double quotes: nothing a shell expands.
bool shell_safe(std::string_view word) {
    return !word.empty() && std::all_of(word.begin(), word.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '_' || c == '.' || c == ',' || c == ':' || c == '/' || c == '+';
    });
}

void append_word(std::string& list, std::string_view word) {
    if (!shell_safe(word)) {
        return;
    }
    if (!list.empty()) {
        list += ' ';
    }
    list += word;
}

bool visible(const CLI::App* app) {
    return !app->get_group().empty();  // CLI11 hides a subcommand whose group is ""
}

std::vector<const CLI::App*> visible_subcommands(const CLI::App& app) {
    return app.get_subcommands([](const CLI::App* sub) { return visible(sub); });
}

// The choices of a CLI::IsMember check: CLI11 shows them in the type name as "TEXT:{a,b,c}".
std::string choices_of(const CLI::Option& opt) {
    const std::string type = opt.get_type_name();
    const auto open = type.find('{');
    const auto close = type.find('}', open == std::string::npos ? 0 : open);
    if (open == std::string::npos || close == std::string::npos) {
        return {};
    }
    std::string words;
    std::string_view rest = std::string_view(type).substr(open + 1, close - open - 1);
    while (!rest.empty()) {
        const auto comma = rest.find(',');
        append_word(words, rest.substr(0, comma));
        rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    }
    return words;
}

// What a value is, for the script: a word list, a URI, a path, a user, a command or anything.
std::string value_kind(const CLI::Option& opt) {
    const std::string choices = choices_of(opt);
    if (!choices.empty()) {
        return "choice";
    }
    // The type, the names and the placeholders in the description (PATH, FILE: upper case).
    std::string text = opt.get_type_name() + " " + opt.get_name(true, false);
    for (const std::string& l : opt.get_lnames()) {
        text += " " + l;
    }
    std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) {
        return static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
    });
    text += " " + opt.get_description();
    const auto has = [&text](std::string_view w) { return text.find(w) != std::string::npos; };
    if (has("URI")) {
        return "uri";
    }
    if (has("USER")) {
        return "user";
    }
    if (has("COMMAND")) {
        return "command";
    }
    if (has("FILE") || has("PATH") || has("DIR") || has("CSV") || has("SVG") || has("JSON")) {
        return "file";
    }
    return "text";
}

// The tables of one command path ("ipckit", "ipckit sem", ...), built option by option.
struct PathTables {
    std::string path;
    std::string options;      // every option name
    std::string valued;       // the names of those that take a value
    std::string positionals;  // the kind of each positional ("+": repeats)
    int positional_index = 0;
};

void add_positional(const CLI::Option& opt, PathTables& t, std::string& out) {
    const std::string kind = value_kind(opt);
    append_word(t.positionals, kind + (opt.get_items_expected_max() > 1 ? "+" : ""));
    if (kind == "choice") {
        out += fmt::format(
            "_ipckit_choices[\"{} #{}\"]=\"{}\"\n", t.path, t.positional_index, choices_of(opt));
    }
    ++t.positional_index;
}

void add_option(const CLI::Option& opt, PathTables& t, std::string& out) {
    std::vector<std::string> names;
    for (const std::string& s : opt.get_snames()) {
        names.push_back("-" + s);
    }
    for (const std::string& l : opt.get_lnames()) {
        names.push_back("--" + l);
    }
    const bool takes_value = opt.get_items_expected_max() > 0;  // flags expect 0 values
    const std::string kind = takes_value ? value_kind(opt) : "";
    for (const std::string& name : names) {
        append_word(t.options, name);
        if (!takes_value || !shell_safe(name)) {
            continue;
        }
        append_word(t.valued, name);
        out += fmt::format("_ipckit_kind[\"{} {}\"]=\"{}\"\n", t.path, name, kind);
        if (kind == "choice") {
            out +=
                fmt::format("_ipckit_choices[\"{} {}\"]=\"{}\"\n", t.path, name, choices_of(opt));
        }
    }
}

// The tables of every command path, from the root down (a work list: no recursion).
void emit_tables(const CLI::App& root, std::string& out) {
    std::vector<std::pair<const CLI::App*, std::string>> pending{{&root, "ipckit"}};
    while (!pending.empty()) {
        auto [app, path] = std::move(pending.back());
        pending.pop_back();
        PathTables t;
        t.path = path;
        for (const CLI::Option* opt : app->get_options()) {
            if (opt->nonpositional()) {
                add_option(*opt, t, out);
            } else {
                add_positional(*opt, t, out);
            }
        }
        std::string subs;
        for (const CLI::App* sub : visible_subcommands(*app)) {
            append_word(subs, sub->get_name());
            if (shell_safe(sub->get_name())) {
                pending.emplace_back(sub, path + " " + sub->get_name());
            }
        }
        out += fmt::format("_ipckit_opts[\"{}\"]=\"{}\"\n", path, t.options);
        out += fmt::format("_ipckit_valued[\"{}\"]=\"{}\"\n", path, t.valued);
        out += fmt::format("_ipckit_positionals[\"{}\"]=\"{}\"\n", path, t.positionals);
        out += fmt::format("_ipckit_subs[\"{}\"]=\"{}\"\n", path, subs);
    }
}

// The part that does not depend on the tree: walks the words typed so far through the tables.
constexpr const char* kScriptBody = R"BASH(
# Object names after a scheme: POSIX names from /dev/shm and /dev/mqueue, channels, System V ids.
_ipckit_objects() {
    local scheme="${1%%:*}" f
    case "$scheme" in
        mq)   for f in /dev/mqueue/*; do [[ -e $f ]] && echo "mq:/${f##*/}"; done ;;
        shm)  for f in /dev/shm/*; do
                  [[ -e $f ]] || continue
                  f=${f##*/}; [[ $f == sem.* || $f == *.chan ]] || echo "shm:/$f"
              done ;;
        sem)  for f in /dev/shm/sem.*; do [[ -e $f ]] && echo "sem:/${f##*/sem.}"; done ;;
        chan) for f in "${IPCKIT_SHM_DIR:-/dev/shm}"/*.chan; do
                  [[ -e $f ]] || continue; f=${f##*/}; echo "chan:${f%.chan}"
              done ;;
        sysvmq)  awk 'NR>1 {print "sysvmq:id:" $2}' /proc/sysvipc/msg 2>/dev/null ;;
        sysvshm) awk 'NR>1 {print "sysvshm:id:" $2}' /proc/sysvipc/shm 2>/dev/null ;;
        sysvsem) awk 'NR>1 {print "sysvsem:id:" $2}' /proc/sysvipc/sem 2>/dev/null ;;
    esac
}

# _ipckit_value KIND KEY WORD: candidates for a value of this kind.
_ipckit_value() {
    local kind="$1" key="$2" word="$3"
    case "$kind" in
        choice)  compgen -W "${_ipckit_choices[$key]}" -- "$word" ;;
        uri)     if [[ $word == *:* ]]; then compgen -W "$(_ipckit_objects "$word")" -- "$word"
                 else compgen -W "$_ipckit_schemes" -- "$word"; fi ;;
        file)    compgen -f -- "$word" ;;
        user)    compgen -u -- "$word" ;;
        command) compgen -c -- "$word" ;;
    esac
}

_ipckit() {
    # Rejoin what COMP_WORDBREAKS split at ':' (mq:/x arrives as mq, :, /x).
    local -a words=()
    local i n=0 glue=0 cur_index=0
    for (( i = 0; i < ${#COMP_WORDS[@]} && i <= COMP_CWORD; i++ )); do
        local w="${COMP_WORDS[i]}"
        if (( n > 0 )) && [[ $w == : || $glue == 1 ]]; then
            words[n-1]+="$w"
        else
            words[n]="$w"; n=$(( n + 1 ))
        fi
        [[ $w == : ]] && glue=1 || glue=0
    done
    local cur="${words[n-1]}"
    local path="ipckit" positional=0 pending="" after_dashdash=0 rest
    for (( i = 1; i < n - 1; i++ )); do
        local w="${words[i]}"
        if [[ -n $pending ]]; then pending=""; continue; fi
        if (( after_dashdash )); then positional=$(( positional + 1 )); continue; fi
        if [[ $w == -- ]]; then after_dashdash=1; continue; fi
        if [[ $w == -* ]]; then
            [[ $w != *=* && " ${_ipckit_valued[$path]} " == *" $w "* ]] && pending="$w"
            continue
        fi
        if (( positional == 0 )) && [[ " ${_ipckit_subs[$path]} " == *" $w "* ]]; then
            path+=" $w"; continue
        fi
        positional=$(( positional + 1 ))
    done

    local -a reply=()
    if [[ -n $pending ]]; then
        mapfile -t reply < <(_ipckit_value "${_ipckit_kind[$path $pending]}" "$path $pending" "$cur")
    elif (( after_dashdash )); then
        mapfile -t reply < <(compgen -c -- "$cur"; compgen -f -- "$cur")
    elif [[ $cur == -* && $cur != *=* ]]; then
        mapfile -t reply < <(compgen -W "${_ipckit_opts[$path]}" -- "$cur")
    else
        local -a kinds=( ${_ipckit_positionals[$path]} )
        local kind="" index=$positional
        if (( positional == 0 )) && [[ -n ${_ipckit_subs[$path]} ]]; then
            mapfile -t reply < <(compgen -W "${_ipckit_subs[$path]}" -- "$cur")
        fi
        if (( ${#kinds[@]} > 0 )); then
            if (( index >= ${#kinds[@]} )); then
                index=$(( ${#kinds[@]} - 1 ))
                [[ ${kinds[index]} == *+ ]] || index=-1
            fi
            (( index >= 0 )) && kind="${kinds[index]%+}"
        fi
        if [[ -n $kind ]]; then
            mapfile -t -O ${#reply[@]} reply < <(_ipckit_value "$kind" "$path #$index" "$cur")
        fi
    fi
    # Bash keeps what precedes the last ':' of the word when ':' breaks words: offer the rest.
    if [[ $cur == *:* && $COMP_WORDBREAKS == *:* ]]; then
        local strip="${cur%:*}:"
        reply=( "${reply[@]#"$strip"}" )
    fi
    COMPREPLY=( "${reply[@]}" )
    [[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} == *: ]] && compopt -o nospace 2>/dev/null
    return 0
}

complete -F _ipckit ipckit
)BASH";

std::string bash_script(const CLI::App& root) {
    std::string out =
        "# SPDX-License-Identifier: MIT\n"
        "# bash completion for ipckit, generated by `ipckit completion bash` from the command's\n"
        "# own option tree (do not edit). Installed as .../bash-completion/completions/ipckit.\n"
        "declare -gA _ipckit_opts=() _ipckit_valued=() _ipckit_positionals=() _ipckit_subs=()\n"
        "declare -gA _ipckit_kind=() _ipckit_choices=()\n";
    std::string schemes;
    for (std::string_view scheme : Uri::known_schemes()) {
        append_word(schemes, std::string(scheme) + ":");
    }
    out += fmt::format("_ipckit_schemes=\"{}\"\n", schemes);
    emit_tables(root, out);
    out += kScriptBody;
    return out;
}

}  // namespace

void register_completion(CLI::App& root, std::vector<Command>& commands) {
    CLI::App* app = root.add_subcommand("completion", "Print the bash completion script");
    app->group("");  // hidden: for the build (man pages, completion), not for users' --help
    auto what = std::make_shared<std::string>();
    app->add_option("what", *what, "bash | commands")
        ->required()
        ->check(CLI::IsMember({"bash", "commands"}));
    commands.push_back(
        {app, [&root, what]() {
             if (*what == "bash") {
                 fmt::print("{}", bash_script(root));
             } else {
                 for (const CLI::App* sub : visible_subcommands(root)) {
                     const std::string& about = sub->get_description();
                     fmt::print("{}\t{}\n", sub->get_name(), about.substr(0, about.find('\n')));
                 }
             }
             return flush_stdout_status();
         }});
}

}  // namespace ipckit::cli
