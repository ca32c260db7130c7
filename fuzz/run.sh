#!/usr/bin/env bash
# Runs the libFuzzer targets for a bounded time each (make fuzz, make fuzz-long;
# docs/design/fuzzing.md).
#
#   fuzz/run.sh BUILD_DIR SECONDS MODE [TARGET...]      (no TARGET: every target)
#
# MODE ci:   each target on a scratch copy of fuzz/corpus/<target>/ (the repository's corpus is
#            never modified); the first crash, timeout (an input over 2 s) or out-of-memory
#            (2 GiB) ends that target.
# MODE long: each target keeps growing its corpus in BUILD_DIR/fuzz-corpus/<target>/ (seeded from
#            fuzz/corpus/<target>/) and runs with -fork=1, going on after a crash so one run
#            collects every distinct one.
# Crash inputs are saved in BUILD_DIR/fuzz-artifacts/ and printed (gzip+base64) with the sanitizer's
# summary. Prints the executions per target and a summary line; exits 1 if any target failed.
set -uo pipefail

if [[ $# -lt 3 ]]; then
    echo "usage: $0 BUILD_DIR SECONDS ci|long [TARGET...]" >&2
    exit 2
fi
build=$(cd "$1" && pwd)
seconds=$2
mode=$3
shift 3
src=$(cd "$(dirname "$0")" && pwd)
targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
    targets=(uri units frame fifo_reply channel)
fi

artifacts=$build/fuzz-artifacts
mkdir -p "$artifacts"
work=$(mktemp -d "${TMPDIR:-/tmp}/ipckit-fuzz-run.XXXXXX")
trap 'rm -rf "$work"' EXIT

# ASan's leak check runs at the end of each input; UBSan stops at the first report (the build
# has -fno-sanitize-recover) and prints its stack.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

passed=0
failed=0
total_execs=0
start_all=$(date +%s)
for t in "${targets[@]}"; do
    bin=$build/fuzz/fuzz_$t
    if [[ ! -x $bin ]]; then
        echo "fuzz $t: FAILED: $bin is not built"
        failed=$((failed + 1))
        continue
    fi
    if [[ $mode == long ]]; then
        corpus=$build/fuzz-corpus/$t
        mkdir -p "$corpus"
        cp -n "$src/corpus/$t"/* "$corpus"/ 2>/dev/null
        log=$artifacts/$t.log
    else
        corpus=$work/corpus-$t
        mkdir -p "$corpus"
        cp "$src/corpus/$t"/* "$corpus"/
        log=$work/$t.log
    fi
    args=(-max_total_time="$seconds" -timeout=2 -rss_limit_mb=2048 -print_final_stats=1
          -artifact_prefix="$artifacts/$t-")
    if [[ -f $src/$t.dict ]]; then
        args+=(-dict="$src/$t.dict")
    fi
    if [[ $mode == long ]]; then
        args+=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
    fi
    marker=$work/start-$t
    touch "$marker"
    start=$(date +%s)
    # The targets make their FIFOs and channel files under TMPDIR.
    mkdir -p "$work/tmp-$t"
    TMPDIR=$work/tmp-$t "$bin" "${args[@]}" "$corpus" >"$log" 2>&1
    rc=$?
    took=$(($(date +%s) - start))
    # In-process mode prints the final stats; fork mode prints "#N: cov: ..." progress lines.
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | awk '{s += $2} END {print s + 0}')
    if [[ $mode == long ]]; then
        execs=$(grep -oE '^#[0-9]+: cov' "$log" | tail -1 | tr -dc '0-9')
        execs=${execs:-0}
    fi
    total_execs=$((total_execs + execs))
    inputs=$(find "$corpus" -type f | wc -l)
    new=$(find "$artifacts" -maxdepth 1 -type f -name "$t-*" -newer "$marker" | sort)
    if [[ $rc -eq 0 && -z $new ]]; then
        echo "fuzz $t: $execs executions in ${took}s, corpus $inputs inputs, no crash"
        passed=$((passed + 1))
        continue
    fi
    failed=$((failed + 1))
    echo "fuzz $t: FAILED (exit $rc) after $execs executions in ${took}s"
    grep -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error|fuzz property violated|SUMMARY:|^ +#[0-9]+ .* in (ipckit|\(anonymous)' "$log" |
        grep -v 'in fuzzer::' | head -n 40 | sed 's/^/  /'
    for f in $new; do
        size=$(stat -c %s "$f")
        echo "  input $f ($size bytes)"
        packed=$(gzip -9nc "$f" | base64 -w 100)
        if [[ ${#packed} -le 16384 ]]; then
            echo "  gzip+base64 (decode: base64 -d | gunzip > input):"
            echo "$packed" | sed 's/^/    /'
        fi
    done
    [[ $mode == long ]] && echo "  log: $log"
done
echo "fuzz: ${#targets[@]} targets, $total_execs executions in $(($(date +%s) - start_all))s ($seconds s each)"
echo "fuzz: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
