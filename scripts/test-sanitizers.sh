#!/usr/bin/env bash
# test-sanitizers.sh - the test suite again, under the tools that find what
# ordinary runs miss, each with its own throwaway PostgreSQL:
#   1. an AddressSanitizer + UBSan build: unit and integration tests
#      (any report aborts the process, which fails the test that ran it;
#      leaks make hookd exit non-zero at the end, which fails it too)
#   2. valgrind memcheck of every hookd process of the integration tests
#      (scripts/valgrind-hookd.sh: invalid accesses or leaks exit 99), but
#      for the operator commands (one short process per command: valgrind's
#      start-up made them the slowest files) and the bad-request matrix
#      (1,300 requests through the parsers, which the fuzz corpus replay
#      covers); ASan runs both, and CI must stay under 20 minutes
#   2b. every committed fuzz input (tests/fuzz/corpus) replayed through the
#      fuzz targets in that build, without libFuzzer
#   3. a ThreadSanitizer build driving the threads (delivery, endpoints, subscribe
#      off the HTTP threads, the slow-client guard)
# Ends with one "N passed, N failed" line summing the three runs.
set -uo pipefail
cd "$(dirname "$0")/.."

passed=0
failed=0
run() {
    local name=$1
    shift
    echo "== $name"
    local log out
    log=$(mktemp)
    "$@" >"$log" 2>&1
    cat "$log"
    out=$(tail -n 1 "$log")
    rm -f "$log"
    local p f
    p=$(echo "$out" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
    f=$(echo "$out" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
    if [ -z "$p" ]; then
        echo "$name: no summary line"
        failed=$((failed + 1))
        return
    fi
    passed=$((passed + p))
    failed=$((failed + f))
}

make --no-print-directory asan >/dev/null || { echo "0 passed, 1 failed"; exit 1; }
make --no-print-directory tsan >/dev/null || { echo "0 passed, 1 failed"; exit 1; }

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:print_summary=1
export UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_stacktrace=1
run "ASan + UBSan" env BUILD=build/asan scripts/test.sh -q
run "fuzz corpus replay (ASan + UBSan)" scripts/fuzz.sh 0 --replay build/asan/fuzz
unset ASAN_OPTIONS UBSAN_OPTIONS

valgrind_tests=()
for f in tests/integration/test_*.py; do
    case $f in
        */test_cli.py | */test_cli_*.py | */test_bad_requests.py) ;;
        *) valgrind_tests+=("$f") ;;
    esac
done
run "valgrind" env HOOKD_SKIP_UNIT=1 HOOKD_BIN="$PWD/scripts/valgrind-hookd.sh" \
    scripts/test.sh -q "${valgrind_tests[@]}"

export TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1"
run "ThreadSanitizer" env HOOKD_SKIP_UNIT=1 HOOKD_BIN="$PWD/build/tsan/hookd" \
    scripts/test.sh -q tests/integration/test_delivery.py tests/integration/test_endpoints.py \
    tests/integration/test_subscriptions.py tests/integration/test_limits.py \
    tests/integration/test_zz_logs.py
unset TSAN_OPTIONS

echo "sanitizers: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
