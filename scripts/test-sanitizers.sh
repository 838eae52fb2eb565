#!/usr/bin/env bash
# test-sanitizers.sh - the test suite again, under the tools that find what
# ordinary runs miss, each with its own throwaway PostgreSQL:
#   1. an AddressSanitizer + UBSan build: unit and integration tests
#      (any report aborts the process, which fails the test that ran it;
#      leaks make hookd exit non-zero at the end, which fails it too)
#   1b. every committed fuzz input (tests/fuzz/corpus) replayed through the
#      fuzz targets in that build, without libFuzzer
#   2. valgrind memcheck of every hookd process of the integration tests
#      (scripts/valgrind-hookd.sh: invalid accesses or leaks exit 99; it
#      checks only the first `tenant create` of the run, see there), but
#      for the operator commands (one short process per command: valgrind's
#      start-up made them the slowest files) and the bad-request matrix
#      (1,300 requests through the parsers, which the fuzz corpus replay
#      covers); ASan runs both, and CI must stay under 20 minutes
#   3. a ThreadSanitizer build driving the threads (delivery, endpoints, subscribe
#      off the HTTP threads, the slow-client guard)
#
# They run at the same time, as four lanes (ASan then the replay, valgrind
# split in two, TSan), each with its own build directory, its own cluster
# (scripts/test.sh) and ports picked by the kernel: integration tests spend
# most of their time waiting (receivers, retries, timeouts), so on two cores
# the lanes together take little longer than the slowest one alone (one
# after the other they took 16 minutes on the CI machine). Each lane's output
# is printed whole, in that order, when the lane ends.
# Ends with one "N passed, N failed" line summing every check.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT

# check LANE-N TITLE COMMAND... - runs COMMAND, which ends its output with
# "N passed, N failed", into $logs/LANE-N.log, and its title and duration
# into $logs/LANE-N.title. Returns COMMAND's status.
check() {
    local id=$1 title=$2 start=$SECONDS status
    shift 2
    "$@" >"$logs/$id.log" 2>&1
    status=$?
    echo "$title ($((SECONDS - start)) s)" >"$logs/$id.title"
    return $status
}

# build TARGET - `make TARGET` as a check: its output only if it fails.
build() {
    local out
    if out=$(make --no-print-directory "$1" 2>&1); then
        echo "0 passed, 0 failed"
    else
        echo "$out"
        echo "0 passed, 1 failed"
        return 1
    fi
}

asan_lane() {
    check asan-1 "ASan + UBSan build" build asan || return
    local opts=(ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:print_summary=1
                UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_stacktrace=1)
    check asan-2 "ASan + UBSan" env "${opts[@]}" BUILD=build/asan scripts/test.sh -q
    check asan-3 "fuzz corpus replay (ASan + UBSan)" \
        env "${opts[@]}" scripts/fuzz.sh 0 --replay build/asan/fuzz
}

# valgrind N OF - the Nth of OF valgrind lanes: the integration test files
# (but those left out, see above) dealt out by size, largest first, each to
# the lane with the fewest bytes so far; every lane ends with test_zz_logs,
# which checks that lane's own logs.
valgrind_lane() {
    local n=$1 of=$2 tests=() size f lane i
    local -a load
    for ((i = 0; i < of; i++)); do load[i]=0; done
    while read -r size f; do
        case $f in
            */test_cli.py | */test_cli_*.py | */test_bad_requests.py | */test_zz_logs.py) continue ;;
        esac
        lane=0
        for ((i = 1; i < of; i++)); do
            [ "${load[i]}" -lt "${load[lane]}" ] && lane=$i
        done
        load[lane]=$((load[lane] + size))
        [ "$lane" -eq "$n" ] && tests+=("$f")
    done < <(wc -c tests/integration/test_*.py | grep -v ' total$' | sort -k1,1nr -k2)
    mapfile -t tests < <(printf '%s\n' "${tests[@]}" | sort)
    tests+=(tests/integration/test_zz_logs.py)
    check "valgrind$n-1" "valgrind, lane $((n + 1)) of $of: ${tests[*]##*/}" \
        env HOOKD_SKIP_UNIT=1 HOOKD_BIN="$PWD/scripts/valgrind-hookd.sh" \
        scripts/test.sh -q "${tests[@]}"
}

tsan_lane() {
    check tsan-1 "ThreadSanitizer build" build tsan || return
    check tsan-2 "ThreadSanitizer" \
        env TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1" \
        HOOKD_SKIP_UNIT=1 HOOKD_BIN="$PWD/build/tsan/hookd" \
        scripts/test.sh -q tests/integration/test_delivery.py tests/integration/test_endpoints.py \
        tests/integration/test_subscriptions.py tests/integration/test_limits.py \
        tests/integration/test_zz_logs.py
}

# scripts/test.sh installs the signature verifier's npm packages when they
# are missing; do it once here, not in three lanes at once.
if [ ! -d tests/interop/node_modules/standardwebhooks ]; then
    (cd tests/interop && npm ci --no-audit --no-fund --silent) || {
        echo "could not install tests/interop's npm packages"; echo "sanitizers: 0 passed, 1 failed"; exit 1; }
fi

lanes=(asan valgrind0 valgrind1 tsan)
pids=()
asan_lane &
pids+=($!)
valgrind_lane 0 2 &
pids+=($!)
valgrind_lane 1 2 &
pids+=($!)
tsan_lane &
pids+=($!)

passed=0
failed=0
for i in "${!lanes[@]}"; do
    wait "${pids[$i]}"
    for log in "$logs/${lanes[$i]}"-*.log; do
        [ -e "$log" ] || continue
        id=$(basename "$log" .log)
        echo "== $(cat "$logs/$id.title" 2>/dev/null || echo "$id")"
        cat "$log"
        out=$(tail -n 1 "$log")
        if [[ $out =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
            passed=$((passed + BASH_REMATCH[1]))
            failed=$((failed + BASH_REMATCH[2]))
        else
            echo "$id: no summary line"
            failed=$((failed + 1))
        fi
    done
done

echo "sanitizers: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
