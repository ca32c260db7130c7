#!/usr/bin/env bash
# check_man_pages.sh IPCKIT MAN_DIR: every subcommand `ipckit --help` lists has a page
# MAN_DIR/ipckit-SUB.1.gz, and ipckit.1.gz and each page render with man -l without a warning
# and show their options.
set -uo pipefail
ipckit="$1"
dir="$2"
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

# check PAGE TEXT...: the page renders without a warning and shows each TEXT.
check() {
    local page="$1" rendered warnings
    shift
    [[ -f $page ]] || { fail "no man page $page"; return; }
    rendered="$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$page" 2>"$dir/.warnings" | col -b)"
    warnings="$(cat "$dir/.warnings")"
    rm -f "$dir/.warnings"
    [[ -z $warnings ]] || fail "$page: man warns: $warnings"
    local text
    for text in "$@"; do
        grep -qF -- "$text" <<<"$rendered" || fail "$page does not show '$text'"
    done
}

help="$("$ipckit" --help)" || { echo "ipckit --help failed" >&2; exit 1; }
# The entries of the Subcommands: section start in column 3 (wrapped lines are indented further).
subcommands="$(awk 'tolower($0) ~ /^subcommands:/ {on = 1; next} /^[^ ]/ {on = 0}
                    on && /^  [^ ]/ {print $1}' <<<"$help")"
[[ -n $subcommands ]] || { echo "no subcommand in ipckit --help" >&2; exit 1; }
check "$dir/ipckit.1.gz" NAME SYNOPSIS OPTIONS --version $subcommands
for sub in $subcommands; do
    check "$dir/ipckit-$sub.1.gz" NAME SYNOPSIS OPTIONS --help "ipckit $sub" "ipckit(1)"
done
# No page for a subcommand that does not exist.
shopt -s nullglob
for page in "$dir"/ipckit-*.1.gz; do
    sub="${page##*/ipckit-}"
    sub="${sub%.1.gz}"
    grep -qx -- "$sub" <<<"$subcommands" || fail "man page for a subcommand --help does not list: $sub"
done
if (( failures > 0 )); then
    echo "$failures man page check(s) failed" >&2
    exit 1
fi
echo "man pages render for: ipckit $(echo $subcommands)"
