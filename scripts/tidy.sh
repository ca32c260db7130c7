#!/usr/bin/env bash
# clang-tidy 14, warnings as errors, over every C++ source of the library, the ipckit command, the
# benches, the examples and the Python module (not the tests), read from a configured build
# tree's compile_commands.json: no build of its own, each file once (a file compiled into two
# targets is checked with both command lines by clang-tidy itself), NDEBUG undefined so checks
# see the asserts a release build compiles out.
# The static analyzer (clang-analyzer-*) runs in its shallow mode unless TIDY_ANALYZER=deep: the
# deep mode spent 70% of the run exploring the channel's retry loops to its node limit (publisher.cpp:
# 41 s deep, 10 s shallow); on this tree both modes pass. TIDY_ANALYZER=deep for a thorough run.
#   scripts/tidy.sh [BUILD_DIR] [FILE_REGEX]     (BUILD_DIR: build/release; JOBS: nproc)
set -euo pipefail
build=${1:-build/release}
filter=${2:-.}
root=$(cd "$(dirname "$0")/.." && pwd)
[[ -f "$build/compile_commands.json" ]] || { echo "tidy: no $build/compile_commands.json (configure first)" >&2; exit 2; }

# One compile command per file, in $build/tidy/ (a unity batch's sources each get its command): a
# source compiled into two targets (the hooked library sources: shipped without fault points,
# tested with them) is checked once, with the command that compiles the most code
# (IPCKIT_FAULT_POINTS=1).
mkdir -p "$build/tidy"
python3 - "$build/compile_commands.json" "$root" "$filter" "$build/tidy/compile_commands.json" <<'PY' > "$build/tidy-files.txt"
import json, re, sys
db, root, pattern, out = sys.argv[1], sys.argv[2].rstrip("/") + "/", re.compile(sys.argv[3]), sys.argv[4]

def per_source(entries):
    # A unity batch (CMakeFiles/<target>.dir/Unity/unity_N_cxx.cxx) stands for the sources it
    # includes: each is checked alone with the batch's command.
    for entry in entries:
        path = entry["file"]
        if not re.search(r"/Unity/unity_\d+_cxx\.cxx$", path):
            yield entry
            continue
        command = entry["command"].replace(" -Wno-subobject-linkage", "")
        for source in re.findall(r'^#include "([^"]+)"', open(path).read(), re.M):
            yield dict(entry, file=source, command=command.replace(path, source))

chosen = {}
for entry in per_source(json.load(open(db))):
    path = entry["file"]
    rel = path[len(root):] if path.startswith(root) else None
    if rel and rel.endswith(".cpp") and rel.split("/")[0] in ("src", "tools", "bench", "examples", "python") and pattern.search(rel):
        if path not in chosen or "IPCKIT_FAULT_POINTS" in entry.get("command", ""):
            chosen[path] = entry
json.dump(list(chosen.values()), open(out, "w"), indent=1)
print("\n".join(sorted(chosen)))
PY
count=$(grep -c . "$build/tidy-files.txt" || true)
echo "tidy: clang-tidy on $count files from $build" >&2
# xargs exits 123 when any clang-tidy failed; every file is still checked, so one run lists all.
analyzer=()
[[ "${TIDY_ANALYZER:-shallow}" == deep ]] ||
  analyzer=(--extra-arg=-Xclang --extra-arg=-analyzer-config --extra-arg=-Xclang --extra-arg=mode=shallow)
tr '\n' '\0' < "$build/tidy-files.txt" |
  xargs -0 -r -P "${JOBS:-$(nproc)}" -n 1 \
    clang-tidy-14 -p "$build/tidy" --quiet --warnings-as-errors='*' --extra-arg=-UNDEBUG "${analyzer[@]}"
