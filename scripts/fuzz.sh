#!/usr/bin/env bash
# fuzz.sh SECONDS [--regress] - runs every libFuzzer target in build/fuzz
# (built by `make fuzz`) for SECONDS each, starting from the seed corpus in
# tests/fuzz/corpus/<target> and keeping what it learns in
# build/fuzz/corpus/<target>. A crash stops with the input saved under
# build/fuzz/; add it to tests/fuzz/corpus/<target> so it stays a regression
# test. --regress runs each target once over the committed corpus only.
# fuzz.sh 0 --replay DIR runs DIR/replay_<target> (the targets built without
# libFuzzer, by `make asan`) over the committed corpus, and ends with
# "N passed, N failed" (one per target).
set -uo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
mode=${2:-}
status=0
if [ "$mode" = --replay ]; then
    dir=${3:?replay needs the directory of the replay_<target> programs}
    passed=0 failed=0
    for seeds in tests/fuzz/corpus/*/; do
        target=$(basename "$seeds")
        if "$dir/replay_$target" "$seeds"*; then
            passed=$((passed + 1))
        else
            echo "fuzz corpus replay failed: $target"
            failed=$((failed + 1))
        fi
    done
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
    exit
fi
for bin in build/fuzz/fuzz_*; do
    [ -x "$bin" ] || continue
    target=${bin#build/fuzz/fuzz_}
    seeds=tests/fuzz/corpus/$target
    if [ "$mode" = --regress ]; then
        "$bin" -runs=0 "$seeds"/* >/dev/null 2>"build/fuzz/$target.log" || {
            echo "fuzz regression failed: $target (see build/fuzz/$target.log)"; status=1; }
        continue
    fi
    work=build/fuzz/corpus/$target
    mkdir -p "$work"
    echo "== fuzzing $target for ${seconds}s"
    if ! "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
            -artifact_prefix="build/fuzz/$target-" "$work" "$seeds" 2>"build/fuzz/$target.log"; then
        echo "CRASH in $target: see build/fuzz/$target.log and build/fuzz/$target-*"
        status=1
    fi
    grep -E "^stat::(number_of_executed_units|peak_rss_mb)|cov: " "build/fuzz/$target.log" | tail -n 3
done
exit $status
