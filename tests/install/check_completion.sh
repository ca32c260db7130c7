#!/usr/bin/env bash
# The bash completion agrees with the command it completes (docs/design/packaging.md):
# check_completion.sh IPCKIT COMPLETION_FILE
#  - `ipckit <TAB>` offers exactly the subcommands `ipckit --help` lists;
#  - `ipckit SUB --<TAB>` offers exactly the long options `ipckit SUB --help` lists, for each;
#  - URIs complete to every scheme (chan: too) and to existing object names; sem's action words.
set -uo pipefail
ipckit="$1"
file="$2"
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

# shellcheck disable=SC1090
source "$file" || { echo "cannot source $file" >&2; exit 1; }
[[ $(complete -p ipckit 2>/dev/null) == *_ipckit* ]] || { echo "no completion for ipckit" >&2; exit 1; }

# complete WORDS...: COMPREPLY for the line "WORDS" with the cursor at the end of the last word,
# split the way bash splits it (COMP_WORDBREAKS keeps ':' a word of its own).
complete_line() {
    local line="$*"
    COMP_LINE="$line"
    COMP_POINT=${#line}
    COMP_WORDS=()
    local w part
    for w in "$@"; do
        while [[ $w == *:* ]]; do
            part="${w%%:*}"
            [[ -n $part ]] && COMP_WORDS+=("$part")
            COMP_WORDS+=(":")
            w="${w#*:}"
        done
        [[ -n $w || ${#COMP_WORDS[@]} -eq 0 || ${COMP_WORDS[-1]} != ":" ]] && COMP_WORDS+=("$w")
    done
    COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
    COMPREPLY=()
    _ipckit
    printf '%s\n' "${COMPREPLY[@]}" | sort -u | grep -v '^$'
}

# help_section TEXT HEADING: the lines of one section of CLI11's help ("Subcommands:", "Options:").
help_section() {
    awk -v h="$2" 'tolower($0) ~ "^" tolower(h) ":" {on = 1; next} /^[^ ]/ {on = 0} on' <<<"$1"
}

expect_same() {  # NAME EXPECTED ACTUAL
    if [[ "$2" != "$3" ]]; then
        fail "$1: completion differs from --help (< help, > completion):"
        diff <(echo "$2") <(echo "$3") >&2
    fi
}

root_help="$("$ipckit" --help)" || { echo "ipckit --help failed" >&2; exit 1; }
# An entry starts in column 3; its wrapped description lines are indented further.
subcommands="$(help_section "$root_help" subcommands | awk '/^  [^ ]/ {print $1}' | sort -u)"
[[ -n $subcommands ]] || { echo "no subcommand in ipckit --help" >&2; exit 1; }
expect_same "ipckit <TAB>" "$subcommands" "$(complete_line ipckit '')"

for sub in $subcommands; do
    help="$("$ipckit" "$sub" --help)" || { fail "ipckit $sub --help"; continue; }
    options="$(help_section "$help" options | grep -E '^  -' | sed -E 's/^  ([^ ]+).*/\1/' |
               tr ',' '\n' | grep -E '^--[A-Za-z0-9]' | sed -E 's/[ =].*//' | sort -u)"
    [[ $options == *--help* ]] || fail "ipckit $sub --help lists no options"
    expect_same "ipckit $sub --<TAB>" "$options" "$(complete_line ipckit "$sub" --)"
done

# URIs: the schemes, chan: included, for a URI positional and after an option's value.
offered="$(complete_line ipckit stat '')"
for s in mq: shm: sem: chan: sysvmq: sysvshm: sysvsem:; do
    grep -qx -- "$s" <<<"$offered" || fail "ipckit stat <TAB> does not offer $s"
done
offered="$(complete_line ipckit send '')"
for s in fifo: mq: sysvmq: unix: unix-dgram: unix-seqpacket: tcp: udp: chan:; do
    grep -qx -- "$s" <<<"$offered" || fail "ipckit send <TAB> does not offer $s"
done
grep -qx 'chan:' <<<"$(complete_line ipckit recv --timeout 1s '')" ||
    fail "ipckit recv --timeout 1s <TAB> does not offer chan:"

# Object names after a scheme: a channel file in a scratch IPCKIT_SHM_DIR.
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
touch "$scratch/ipckit-completion-test.chan"
got="$(IPCKIT_SHM_DIR="$scratch" complete_line ipckit recv chan:ipckit-comp)"
[[ $got == ipckit-completion-test ]] || fail "ipckit recv chan:ipckit-comp<TAB> gave '$got'"

# sem's first positional: its action words.
expect_same "ipckit sem <TAB>" "$(printf '%s\n' get post trywait wait)" "$(complete_line ipckit sem '')"
# --trust-owner: user names.
grep -qx root <<<"$(complete_line ipckit send --trust-owner ro)" ||
    fail "ipckit send --trust-owner ro<TAB> does not offer root"

# The hidden subcommand stays hidden: not in --help (above), not in the "subcommand required" list.
no_subcommand="$("$ipckit" 2>&1)"
if grep -q completion <<<"$no_subcommand"; then
    fail "ipckit without a subcommand lists the hidden 'completion': ${no_subcommand%%$'\n'*}"
fi

if (( failures > 0 )); then
    echo "$failures completion check(s) failed" >&2
    exit 1
fi
echo "completion agrees with --help for: $(echo $subcommands)"
