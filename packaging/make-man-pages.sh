#!/usr/bin/env bash
# make-man-pages.sh IPCKIT OUTDIR VERSION: ipckit.1 and ipckit-SUB.1 for every subcommand the
# command itself lists (`ipckit completion commands`), made by help2man from each one's --help,
# compressed as Debian wants them (gzip -9n: no name or time stamp, so the build is reproducible).
set -euo pipefail
ipckit="$1"
out="$2"
version="$3"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
rm -rf "$out"
mkdir -p "$out"

# help2man runs PROGRAM --help; a wrapper per page runs `ipckit SUB --help` with argv[0] "ipckit"
# so the usage line shows no build path.
wrapper() {  # NAME ARGS...
    local name="$1"
    shift
    printf '#!/bin/bash\nexec -a ipckit %q %s "$@"\n' "$ipckit" "$*" > "$tmp/$name"
    chmod +x "$tmp/$name"
}

see_also=""
pages=()
while IFS=$'\t' read -r sub about; do
    [[ $sub =~ ^[a-z][a-z0-9-]*$ ]] || { echo "odd subcommand name: $sub" >&2; exit 1; }
    # NAME section: the description's first clause.
    about="${about%%[:;(.]*}"
    about="${about%% }"
    wrapper "ipckit-$sub" "$sub"
    printf '[SEE ALSO]\n.BR ipckit (1)\n' > "$tmp/$sub.h2m"
    help2man --no-info --no-discard-stderr --section=1 --version-string="$version" \
        --name="${about:-ipckit $sub}" --include="$tmp/$sub.h2m" \
        --output="$out/ipckit-$sub.1" "$tmp/ipckit-$sub"
    see_also+="${see_also:+,\n}.BR ipckit-$sub (1)"
    pages+=("ipckit-$sub.1")
done < <("$ipckit" completion commands)
(( ${#pages[@]} > 0 )) || { echo "ipckit lists no subcommand" >&2; exit 1; }

wrapper ipckit ""
printf '[SEE ALSO]\n%b\n' "$see_also" > "$tmp/ipckit.h2m"
help2man --no-info --no-discard-stderr --section=1 --version-string="$version" \
    --name="see, drive and measure every UNIX IPC facility" --include="$tmp/ipckit.h2m" \
    --output="$out/ipckit.1" "$tmp/ipckit"
pages+=(ipckit.1)
for page in "${pages[@]}"; do
    gzip -9n -f "$out/$page"
done
